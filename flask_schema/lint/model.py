"""What the linter works with: operations, rules and findings.

A revision file is read into a list of :class:`Operation` facts (from the
``op.*`` calls, or from raw SQL where it can be parsed). Each rule is a
small function that looks at one operation and returns a
:class:`Finding` or ``None``. Keeping the facts apart from how they were
found lets the same rules check Python calls and SQL strings alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional

ERROR = "error"
WARNING = "warning"


@dataclass
class Operation:
    """One schema change a revision makes, as far as it can be known unrun."""

    kind: str
    table: str | None
    line: int
    end_line: int
    column: str | None = None
    new_name: str | None = None
    nullable: bool | None = None
    server_default: bool = False
    type_: str | None = None
    existing_type: str | None = None
    concurrently: bool = False
    not_valid: bool = False
    unique: bool = False
    in_transaction: bool = True
    #: The SQL text of an ``op.execute`` call, when it is a literal.
    sql: str | None = None
    #: Where the facts came from: ``"python"`` or ``"sql"``.
    source: str = "python"


@dataclass
class LintContext:
    """What a rule needs to know besides the operation itself."""

    #: SQLAlchemy dialect name of the database the revision runs on
    #: (``postgresql``, ``mysql``, ``sqlite``) or ``None`` when unknown,
    #: in which case backend-specific rules check as for every backend.
    backend: str | None
    #: Tables created by the revisions being linted: changes to them cost
    #: nothing because no one uses them yet.
    new_tables: set[str] = field(default_factory=set)

    def is_new(self, table: str | None) -> bool:
        return table is not None and table.lower() in self.new_tables

    def on(self, *backends: str) -> bool:
        return self.backend is None or self.backend in backends


@dataclass(frozen=True)
class Finding:
    """One hazard found at one place of a revision file."""

    path: str
    line: int
    rule_id: str
    severity: str
    message: str
    hint: str

    def format(self) -> str:
        return f"{self.path}:{self.line} {self.rule_id} {self.severity}: {self.message} Safer: {self.hint}"


#: A rule's check: returns the message when ``operation`` is a hazard.
Check = Callable[[Operation, LintContext], Optional[str]]


@dataclass(frozen=True)
class Rule:
    """A named hazard with the way to avoid it."""

    id: str
    severity: str
    summary: str
    hint: str
    check: Check
    #: What it costs a live database; shown by ``flask db lint --rules``.
    cost: str


def rule(rule_id: str, severity: str, summary: str, hint: str, cost: str) -> Callable[[Check], Rule]:
    """Turn a check function into a :class:`Rule`."""

    def decorate(check: Check) -> Rule:
        return Rule(rule_id, severity, summary, hint, check, cost)

    return decorate
