"""Guards that run while revisions are applied, so no data goes silently.

* Before a table or column is dropped, the rows or values going with it
  are counted and logged, so the person upgrading sees what is lost.
* (SQLite's batch rebuilds run with foreign keys off, so that a rebuilt
  parent table's ``DROP TABLE`` deletes no child rows: see
  :mod:`flask_schema.backends.sqlite`.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("flask_schema")

_installed = False


def install_drop_notices() -> None:
    """Wrap Alembic's drop_table and drop_column so each one says what it discards."""
    global _installed
    if _installed:
        return
    from alembic.operations import Operations, ops

    from .alembic_private import operation_implementation

    for op_class, count in ((ops.DropTableOp, _count_rows), (ops.DropColumnOp, _count_values)):
        original = operation_implementation(op_class)
        Operations.implementation_for(op_class, replace=True)(_with_notice(original, count))
    _installed = True


def _with_notice(
    original: Callable[[Any, Any], None], count: Callable[[Connection, Any], str | None]
) -> Callable[[Any, Any], None]:
    def implementation(operations: Any, operation: Any) -> None:
        context = operations.migration_context
        connection = context.connection
        if connection is not None and not context.as_sql:
            notice = count(connection, operation)
            if notice:
                log.warning(notice)
        original(operations, operation)

    return implementation


def _table_columns(connection: Connection, table: str, schema: str | None) -> set[str] | None:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    if not inspector.has_table(table, schema=schema):
        return None
    return {column["name"] for column in inspector.get_columns(table, schema=schema)}


def _count_rows(connection: Connection, operation: Any) -> str | None:
    import sqlalchemy as sa

    if _table_columns(connection, operation.table_name, operation.schema) is None:
        return None
    table = sa.table(operation.table_name, schema=operation.schema)
    rows = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
    if not rows:
        return None
    return f"Dropping table {_qualified(operation.table_name, operation.schema)} discards {rows} row(s)."


def _count_values(connection: Connection, operation: Any) -> str | None:
    import sqlalchemy as sa

    columns = _table_columns(connection, operation.table_name, operation.schema)
    if columns is None or operation.column_name not in columns:
        return None
    table = sa.table(operation.table_name, sa.column(operation.column_name), schema=operation.schema)
    query = sa.select(sa.func.count(table.c[operation.column_name])).select_from(table)
    values = connection.execute(query).scalar() or 0
    if not values:
        return None
    where = _qualified(f"{operation.table_name}.{operation.column_name}", operation.schema)
    return f"Dropping column {where} discards {values} non-null value(s)."


def _qualified(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name
