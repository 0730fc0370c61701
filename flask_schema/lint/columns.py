"""Rules for changes to columns of tables that already hold rows."""

from __future__ import annotations

import re

from .model import ERROR, MOVE_TO_POST, WARNING, LintContext, Operation, column_phrase, rule


@rule(
    "add-not-null-column",
    ERROR,
    "NOT NULL column added to an existing table without a server default",
    "add the column nullable (or with server_default=...), backfill it in batches, "
    "then set NOT NULL in a later revision.",
    cost="fails as soon as the table has a row (SQLite refuses it even when empty)",
)
def add_not_null_column(operation: Operation, context: LintContext) -> str | None:
    if (
        operation.kind == "add_column"
        and operation.nullable is False
        and not operation.server_default
        and not context.is_new(operation.table)
    ):
        return (
            f"Adding NOT NULL {column_phrase(operation)} without a server default fails on a table with rows."
        )
    return None


@rule(
    "drop-column",
    ERROR,
    "column dropped in a pre-deploy revision",
    "first release code that no longer reads or writes the column, then drop it in a post-deploy "
    'revision (phase = "post"), which runs after the old release is gone; keep a backup if the '
    "data may be needed.",
    cost="PostgreSQL: short exclusive lock; MySQL: in-place table rebuild; SQLite: table rebuild; "
    "the data is gone and the running release fails on the missing column",
)
def drop_column(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "drop_column" and not context.is_new(operation.table) and context.phase != "post":
        return (
            f"Dropping {column_phrase(operation)} deletes its data and breaks code still using it, "
            f"such as the release still running. {MOVE_TO_POST}"
        )
    return None


@rule(
    "rename-column",
    ERROR,
    "column renamed",
    "add the new column, write to both, backfill, move reads, then drop the old one "
    "(or allow this rule when the old release is stopped before the upgrade).",
    cost="a quick catalog change, but the old release fails at once during a rolling deploy",
)
def rename_column(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "rename_column" and not context.is_new(operation.table):
        return (
            f"Renaming {column_phrase(operation)} to {operation.new_name or 'a name chosen at run time'} "
            "breaks the release "
            "still running during a rolling deploy. 'flask db migrate' writes a confirmed rename as "
            "two revisions instead: add the new column and copy the data (pre), drop the old one (post)."
        )
    return None


_VARCHAR = re.compile(
    r"(?:sa\.)?(?:String|VARCHAR|Unicode)\((?:length=)?(\d+)\)"
    r"|(?:sa\.)?(?:Text|TEXT|UnicodeText)\(\)"
)


def _widens_text(operation: Operation) -> bool:
    """VARCHAR(n) to a longer VARCHAR or TEXT: PostgreSQL changes only the catalog."""
    old = _VARCHAR.fullmatch((operation.existing_type or "").strip())
    new = _VARCHAR.fullmatch((operation.type_ or "").strip())
    if old is None or new is None or old.group(1) is None:
        return False
    return new.group(1) is None or int(new.group(1)) >= int(old.group(1))


@rule(
    "alter-column-type",
    ERROR,
    "column type changed",
    "add a column of the new type, backfill it in batches, switch the code, then drop the old "
    "column (on PostgreSQL, widening VARCHAR or changing it to TEXT is safe).",
    cost="PostgreSQL: ACCESS EXCLUSIVE lock while the table and its indexes are rewritten; "
    "MySQL: table copy that blocks writes; SQLite: table rebuild (a warning there: one writer "
    "waits while the rows are copied, which a single-process app does not notice)",
    severity_on={"sqlite": WARNING},
)
def alter_column_type(operation: Operation, context: LintContext) -> str | None:
    if operation.kind != "alter_type" or context.is_new(operation.table):
        return None
    if context.backend == "postgresql" and _widens_text(operation):
        return None
    change = f" to {operation.type_}" if operation.type_ else ""
    if context.backend == "sqlite":
        return (
            f"Changing the type of {column_phrase(operation)}{change} rebuilds the table on SQLite: "
            "every row is copied while other writers wait, a moment on small tables."
        )
    return f"Changing the type of {column_phrase(operation)}{change} rewrites the table while holding a lock."


@rule(
    "set-not-null",
    WARNING,
    "existing column made NOT NULL",
    "backfill NULLs first; on PostgreSQL add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, "
    "then SET NOT NULL, which then skips the scan.",
    cost="PostgreSQL: ACCESS EXCLUSIVE lock during a full scan; fails if a NULL remains",
)
def set_not_null(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "set_not_null" and not context.is_new(operation.table):
        where = column_phrase(operation)
        return f"Making {where} NOT NULL scans the whole table under a lock and fails on NULLs."
    return None


RULES = [add_not_null_column, drop_column, rename_column, alter_column_type, set_not_null]
