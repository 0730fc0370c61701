"""Guards that run while revisions are applied, so no data goes silently.

* Before a table or column is dropped, the rows or values going with it
  are counted and logged, so the person upgrading sees what is lost; on a
  terminal (``confirm_drop``) the person is asked before it goes.
* Before a column's type, length, nullability or ENUM values change, the
  rows whose values the change would rewrite are counted (per database
  family, :meth:`Backend.values_changed_by_alter`) and the run refuses,
  before that statement, unless data loss is allowed (``--allow-data-loss``
  or the ``allow_data_loss`` setting).
* SQLite's batch rebuilds run with foreign keys off, so that a rebuilt
  parent table's ``DROP TABLE`` deletes no child rows: see
  :mod:`flask_schema.backends.sqlite`.

What a run allows comes from its :class:`~flask_schema.run.request.RunRequest`
(:func:`~flask_schema.run.request.active_request`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import DataLossRefused

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("flask_schema")

_installed = False


def install_drop_notices() -> None:
    """Wrap Alembic's drop_table, drop_column and alter_column so none loses data unsaid."""
    global _installed
    if _installed:
        return
    from alembic.operations import Operations, ops

    from .alembic_private import operation_implementation

    for op_class, count in ((ops.DropTableOp, _count_rows), (ops.DropColumnOp, _count_values)):
        original = operation_implementation(op_class)
        Operations.implementation_for(op_class, replace=True)(_with_notice(original, count))
    original = operation_implementation(ops.AlterColumnOp)
    Operations.implementation_for(ops.AlterColumnOp, replace=True)(_refusing_changed_values(original))
    _installed = True


def data_loss_allowed() -> bool:
    """Whether this run may change or drop values (the request's flag, else the setting)."""
    from flask import current_app, has_app_context

    from . import settings
    from .run.request import active_request

    request = active_request()
    explicit = request.allow_data_loss if request is not None else None
    app_config = current_app.config if has_app_context() else {}
    return bool(settings.resolve("allow_data_loss", app_config, None, explicit))


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
                _confirm(context, notice)
        original(operations, operation)

    return implementation


def _confirm(context: Any, notice: str) -> None:
    """Ask on a terminal before a drop that discards data; without one, go ahead."""
    from .run.request import active_request

    request = active_request()
    confirm = request.confirm_drop if request is not None else None
    if confirm is None or data_loss_allowed():
        return
    if not confirm(f"{notice} Drop it?"):
        raise DataLossRefused(f"Stopped before the drop: {notice} Nothing of it was dropped.")


def _refusing_changed_values(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def implementation(operations: Any, operation: Any) -> None:
        context = operations.migration_context
        connection = context.connection
        if connection is not None and not context.as_sql and _changes_values(operation):
            from .backends import backend_for

            if _table_columns(connection, operation.table_name, operation.schema) is not None:
                found = backend_for(connection.dialect.name).values_changed_by_alter(connection, operation)
                if found and not data_loss_allowed():
                    where = _qualified(f"{operation.table_name}.{operation.column_name}", operation.schema)
                    raise DataLossRefused(
                        f"Refusing to alter column {where}: {'; '.join(found)}. Fix those rows first, "
                        "or allow it with --allow-data-loss (MIGRATE_ALLOW_DATA_LOSS)."
                    )
                for problem in found:
                    log.warning(f"Altering column {operation.table_name}.{operation.column_name}: {problem}.")
        original(operations, operation)

    return implementation


def _changes_values(operation: Any) -> bool:
    return operation.modify_type is not None or operation.modify_nullable is False


def _table_columns(connection: Connection, table: str, schema: str | None) -> set[str] | None:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    if not inspector.has_table(table, schema=schema):
        return None
    return {column["name"] for column in inspector.get_columns(table, schema=schema)}


def _count_rows(connection: Connection, operation: Any) -> str | None:
    import sqlalchemy as sa

    # Only whether it exists: reflecting its columns would cost a query per drop.
    if not sa.inspect(connection).has_table(operation.table_name, schema=operation.schema):
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
