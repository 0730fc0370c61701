"""Rules for raw SQL run with ``op.execute``.

Statements that :mod:`.sql` can read are checked by the other rules like
``op.*`` calls; these rules cover what is left.
"""

from __future__ import annotations

from .model import WARNING, LintContext, Operation, rule, table_name


@rule(
    "raw-sql",
    WARNING,
    "op.execute with SQL the linter cannot read",
    "use op.* operations where one exists, or review the statement's locks and add "
    "'# flask-schema: allow raw-sql because <what you checked>'.",
    cost="unknown: whatever the statement does",
)
def raw_sql(operation: Operation, context: LintContext) -> str | None:
    if operation.kind != "execute":
        return None
    if operation.sql is None:
        return "op.execute runs SQL built at run time, which cannot be checked."
    shown = operation.sql if len(operation.sql) <= 60 else operation.sql[:57] + "..."
    return f"op.execute runs SQL the linter does not understand: {shown}"


@rule(
    "update-all-rows",
    WARNING,
    "UPDATE or DELETE without WHERE on an existing table",
    "backfill in batches of a few thousand rows, outside the schema migration if the table is large.",
    cost="locks every row of the table until the migration's transaction commits",
)
def update_all_rows(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "update_all" and not context.is_new(operation.table):
        return f"Changing every row of {table_name(operation)} in one statement locks them all until commit."
    return None


RULES = [raw_sql, update_all_rows]
