"""Rules for building indexes on PostgreSQL without blocking writes."""

from __future__ import annotations

from .model import ERROR, LintContext, Operation, rule, table_name


@rule(
    "index-not-concurrent",
    ERROR,
    "index created on an existing PostgreSQL table without CONCURRENTLY",
    "op.create_index(..., postgresql_concurrently=True) inside 'with op.get_context().autocommit_block():'.",
    cost="SHARE lock: every INSERT, UPDATE and DELETE on the table waits until the index is built",
)
def index_not_concurrent(operation: Operation, context: LintContext) -> str | None:
    if (
        context.on("postgresql")
        and operation.kind == "create_index"
        and not operation.concurrently
        and not context.is_new(operation.table)
    ):
        return f"Creating an index on {table_name(operation)} blocks writes to it until the index is built."
    return None


@rule(
    "concurrently-in-transaction",
    ERROR,
    "CONCURRENTLY used inside the migration's transaction",
    "put the operation inside 'with op.get_context().autocommit_block():'.",
    cost="PostgreSQL refuses it: CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block",
)
def concurrently_in_transaction(operation: Operation, context: LintContext) -> str | None:
    if (
        context.on("postgresql")
        and operation.kind in ("create_index", "drop_index")
        and operation.concurrently
        and operation.in_transaction
    ):
        return "An index built or dropped CONCURRENTLY inside a transaction fails on PostgreSQL."
    return None


RULES = [index_not_concurrent, concurrently_in_transaction]
