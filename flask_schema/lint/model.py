"""What the linter works with: operations, rules and findings.

A revision file is read into a list of :class:`Operation` facts (from the
``op.*`` calls, or from raw SQL where it can be parsed). Each rule is a
small function that looks at one operation and returns a
:class:`Finding` or ``None``. Keeping the facts apart from how they were
found lets the same rules check Python calls and SQL strings alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Optional

ERROR = "error"
WARNING = "warning"

#: The backends a dialect test can tell apart; ``other`` is any other database.
ALL_BACKENDS = frozenset({"postgresql", "mysql", "sqlite", "other"})


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
    #: The backends the operation runs on (a dialect branch, an early
    #: return, a decorator), or ``None`` when it runs on every one.
    backends: frozenset[str] | None = None

    def runs_on(self, backend: str | None) -> bool:
        """Whether the operation runs on ``backend`` (unknown: judged as if it does)."""
        if backend is None or self.backends is None:
            return True
        return (backend if backend in ALL_BACKENDS else "other") in self.backends


def table_name(operation: Operation) -> str:
    """The table, or what is known of it: ``person``, ``a table named at run time``."""
    return operation.table or "a table named at run time"


def table_phrase(operation: Operation) -> str:
    """``table person`` or ``a table named at run time``."""
    return f"table {operation.table}" if operation.table else "a table named at run time"


#: What a finding in a pre-deploy revision adds when the operation belongs after the deploy.
MOVE_TO_POST = (
    'Move it to a post-deploy revision: add phase = "post" to this file if all of it can wait, '
    "or move the operation into a revision of its own ('flask db revision --post'); "
    "'flask db upgrade --phase post' runs it once the old release is gone."
)


def column_phrase(operation: Operation) -> str:
    """``column person.age``, ``column age of a table named at run time``, ..."""
    if operation.table and operation.column:
        return f"column {operation.table}.{operation.column}"
    if operation.column:
        return f"column {operation.column} of a table named at run time"
    if operation.table:
        return f"a column named at run time of {operation.table}"
    return "a column named at run time"


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
    #: The revision's deploy phase (``phase = "post"`` in the file; else ``"pre"``).
    phase: str = "pre"

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
    #: A different severity on some backends, where the hazard costs less.
    severity_on: Mapping[str, str] = field(default_factory=dict)

    def severity_for(self, backend: str | None) -> str:
        """The severity of a finding on ``backend``."""
        return self.severity_on.get(backend or "", self.severity)

    def levels(self) -> str:
        """``error`` or ``error; warning on sqlite``, for the rule list."""
        others = "; ".join(f"{level} on {name}" for name, level in sorted(self.severity_on.items()))
        return f"{self.severity}; {others}" if others else self.severity


def rule(
    rule_id: str,
    severity: str,
    summary: str,
    hint: str,
    cost: str,
    severity_on: Mapping[str, str] | None = None,
) -> Callable[[Check], Rule]:
    """Turn a check function into a :class:`Rule`."""

    def decorate(check: Check) -> Rule:
        return Rule(rule_id, severity, summary, hint, check, cost, dict(severity_on or {}))

    return decorate
