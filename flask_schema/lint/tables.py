"""Rules for tables that are dropped or renamed."""

from __future__ import annotations

from .model import ERROR, MOVE_TO_POST, LintContext, Operation, rule, table_phrase


@rule(
    "drop-table",
    ERROR,
    "table dropped in a pre-deploy revision",
    "stop using the table in a released version first, back it up, then drop it in a post-deploy "
    'revision (phase = "post"), which runs after the old release is gone.',
    cost="exclusive lock for a moment; every row is gone and the running release fails on it",
)
def drop_table(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "drop_table" and not context.is_new(operation.table) and context.phase != "post":
        return (
            f"Dropping {table_phrase(operation)} deletes its rows and breaks code still using it, "
            f"such as the release still running. {MOVE_TO_POST}"
        )
    return None


@rule(
    "rename-table",
    ERROR,
    "table renamed",
    "create the new table (or a view with the old name) and move code over in steps "
    "(or allow this rule when the old release is stopped before the upgrade).",
    cost="a quick catalog change, but the old release fails at once during a rolling deploy",
)
def rename_table(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "rename_table" and not context.is_new(operation.table):
        return (
            f"Renaming {table_phrase(operation)} to {operation.new_name or 'a name chosen at run time'} "
            "breaks the release still "
            "running during a rolling deploy."
        )
    return None


RULES = [drop_table, rename_table]
