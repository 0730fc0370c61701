"""``flask db lint``: find operations that lock or break a live database.

Revision files are read with :mod:`ast` (see :mod:`.revision`); each rule
is a small function in the module of its family. :func:`lint_source` is
the whole engine; the CLI only picks the files and the backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from . import columns, constraints, indexes, phases, statements, tables
from .model import ERROR, WARNING, Finding, LintContext, Operation, Rule
from .revision import RevisionSource, read_revision

#: Every rule, in the order findings are reported for one operation.
RULES: list[Rule] = [
    *columns.RULES,
    *tables.RULES,
    *indexes.RULES,
    *constraints.RULES,
    *statements.RULES,
    *phases.RULES,
]
RULES_BY_ID = {rule.id: rule for rule in RULES}

__all__ = ["ERROR", "RULES", "WARNING", "Finding", "Rule", "lint_files", "lint_source"]

Backends = Mapping[str, "str | None"]


def normalize_backend(name: str | None) -> str | None:
    """SQLAlchemy dialect names as the rules know them (MariaDB is ``mysql``)."""
    if name is None:
        return None
    name = name.lower()
    return "mysql" if name in ("mariadb", "mysql") else name


def lint_source(
    source: str,
    path: str,
    backends: Backends | str | None = None,
    new_tables: set[str] | None = None,
) -> list[Finding]:
    """Check one revision's source; ``backends`` maps ``upgrade_<bind>`` suffixes to dialects.

    ``new_tables`` holds tables created by earlier revisions of the same
    run; tables this revision creates are added to it.
    """
    if not isinstance(backends, Mapping):
        backends = {"": backends}
    new_tables = set() if new_tables is None else new_tables
    try:
        revision = read_revision(source)
    except SyntaxError as error:
        return [
            Finding(
                path,
                error.lineno or 1,
                "syntax-error",
                ERROR,
                f"The revision is not valid Python: {error.msg}.",
                "fix the file.",
            )
        ]
    findings: list[Finding] = []
    for bind, operations in revision.operations.items():
        backend = normalize_backend(backends.get(bind, backends.get("")))
        context = LintContext(backend=backend, new_tables=new_tables, phase=revision.phase)
        for operation in operations:
            if not operation.runs_on(backend):
                continue  # a branch, early return or decorator keeps it off this backend
            findings.extend(_check(operation, context, revision, path))
            _remember_new_tables(operation, new_tables)
    findings = _one_per_operation(findings)
    findings.extend(_bad_suppressions(revision, path))
    return sorted(findings, key=lambda finding: finding.line)


def _check(operation: Operation, context: LintContext, revision: RevisionSource, path: str) -> list[Finding]:
    found = []
    for rule in RULES:
        message = rule.check(operation, context)
        if message is None or revision.suppressed(rule.id, operation.line, operation.end_line):
            continue
        severity = rule.severity_for(context.backend)
        found.append(Finding(path, operation.line, rule.id, severity, message, rule.hint))
    return found


def _one_per_operation(findings: list[Finding]) -> list[Finding]:
    """One finding per rule per call: the statements of one ``op.execute`` are one review."""
    kept: dict[tuple[int, str], Finding] = {}
    more: dict[tuple[int, str], int] = {}
    for finding in findings:
        key = (finding.line, finding.rule_id)
        if key in kept:
            more[key] = more.get(key, 0) + 1
        else:
            kept[key] = finding
    for key, count in more.items():
        message = f"{kept[key].message} ({count} more statement(s) of this call alike.)"
        kept[key] = replace(kept[key], message=message)
    return list(kept.values())


def _remember_new_tables(operation: Operation, new_tables: set[str]) -> None:
    if operation.table is None:
        return
    table = operation.table.lower()
    if operation.kind == "create_table":
        new_tables.add(table)
    elif operation.kind == "rename_table" and table in new_tables and operation.new_name:
        new_tables.add(operation.new_name.lower())


def _bad_suppressions(revision: RevisionSource, path: str) -> list[Finding]:
    found = []
    for item in revision.suppressions:
        unknown = sorted(item.rule_ids - set(RULES_BY_ID))
        if unknown:
            found.append(
                Finding(
                    path,
                    item.line,
                    "unknown-rule",
                    WARNING,
                    f"The allow comment names no rule called {', '.join(unknown)}.",
                    "use an id that 'flask db lint --rules' lists.",
                )
            )
        if not item.reason:
            found.append(
                Finding(
                    path,
                    item.line,
                    "allow-without-reason",
                    WARNING,
                    "The allow comment gives no reason, so it silences nothing.",
                    "write '# flask-schema: allow RULE-ID because <why it is safe>'.",
                )
            )
    return found


def lint_files(
    paths: Iterable[str],
    backends: Backends | str | None = None,
    shared_new_tables: bool = False,
) -> list[Finding]:
    """Check revision files, oldest first.

    With ``shared_new_tables`` (the revisions are applied together) a table
    created by one revision counts as new in the later ones too.
    """
    findings: list[Finding] = []
    new_tables: set[str] = set()
    for path in paths:
        with open(path, encoding="utf-8") as file:
            source = file.read()
        findings.extend(lint_source(source, path, backends, new_tables if shared_new_tables else None))
    return findings
