"""Rules for constraints added to tables that already hold rows."""

from __future__ import annotations

from .model import ERROR, LintContext, Operation, rule, table_name


@rule(
    "foreign-key-not-valid",
    ERROR,
    "foreign key added to an existing PostgreSQL table without NOT VALID",
    "op.create_foreign_key(..., postgresql_not_valid=True), then in a later revision "
    "op.execute('ALTER TABLE t VALIDATE CONSTRAINT name').",
    cost="SHARE ROW EXCLUSIVE lock on both tables while every row is checked",
)
def foreign_key_not_valid(operation: Operation, context: LintContext) -> str | None:
    if (
        context.on("postgresql")
        and operation.kind == "add_foreign_key"
        and not operation.not_valid
        and not context.is_new(operation.table)
    ):
        return f"Adding a foreign key to {table_name(operation)} checks every row while blocking writes."
    return None


@rule(
    "check-not-valid",
    ERROR,
    "check constraint added to an existing PostgreSQL table without NOT VALID",
    "op.create_check_constraint(..., postgresql_not_valid=True), then VALIDATE CONSTRAINT "
    "in a later revision.",
    cost="ACCESS EXCLUSIVE lock while every row is checked",
)
def check_not_valid(operation: Operation, context: LintContext) -> str | None:
    if (
        context.on("postgresql")
        and operation.kind == "add_check"
        and not operation.not_valid
        and not context.is_new(operation.table)
    ):
        return (
            f"Adding a check constraint to {table_name(operation)} checks every row under an exclusive lock."
        )
    return None


@rule(
    "unique-constraint",
    ERROR,
    "unique constraint added to an existing table",
    "check for duplicates first; on PostgreSQL build a UNIQUE index CONCURRENTLY, then "
    "ALTER TABLE t ADD CONSTRAINT name UNIQUE USING INDEX index_name.",
    cost="builds a unique index while blocking writes (PostgreSQL SHARE lock, MySQL/SQLite "
    "rebuild); fails if any duplicate exists",
)
def unique_constraint(operation: Operation, context: LintContext) -> str | None:
    if operation.kind == "add_unique" and not context.is_new(operation.table):
        return (
            f"Adding a unique constraint to {table_name(operation)} builds an index under a lock "
            "and fails on duplicates."
        )
    return None


RULES = [foreign_key_not_valid, check_not_valid, unique_constraint]
