"""Guards that run while revisions are applied, so no data goes silently.

* Before a table or column is dropped, the rows or values going with it
  are counted and logged, so the person upgrading sees what is lost; on a
  terminal (``confirm_drop``) the person is asked before it goes.
* Before a column's type, length, nullability or ENUM values change, the
  rows whose values the change would rewrite are counted (per database
  family, :meth:`Backend.values_changed_by_alter`) and the run refuses,
  before that statement, unless data loss is allowed (``--allow-data-loss``
  or the ``allow_data_loss`` setting).
* SQLite batch mode rebuilds a table by copying it and dropping the old
  one. With ``PRAGMA foreign_keys=ON`` that ``DROP TABLE`` first deletes
  every row, which cascades to (or nulls) the rows of child tables.
  :func:`sqlite_rebuild_guard` turns foreign keys off for the run, checks
  them afterwards and turns them back on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .errors import DataLossRefused

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("flask_schema")

_installed = False

#: ``config.attributes`` keys the API sets for upgrade and downgrade.
ALLOW_DATA_LOSS_ATTRIBUTE = "flask_schema.allow_data_loss"
CONFIRM_DROP_ATTRIBUTE = "flask_schema.confirm_drop"


def install_drop_notices() -> None:
    """Wrap Alembic's drop_table, drop_column and alter_column so none loses data unsaid."""
    global _installed
    if _installed:
        return
    from alembic.operations import Operations, ops

    for op_class, count in ((ops.DropTableOp, _count_rows), (ops.DropColumnOp, _count_values)):
        original = Operations._to_impl.dispatch(op_class)
        Operations.implementation_for(op_class, replace=True)(_with_notice(original, count))
    original = Operations._to_impl.dispatch(ops.AlterColumnOp)
    Operations.implementation_for(ops.AlterColumnOp, replace=True)(_refusing_changed_values(original))
    _installed = True


def data_loss_allowed(config: Any) -> bool:
    """Whether this run may change or drop values (the flag, else the setting)."""
    from flask import current_app, has_app_context

    from . import settings

    explicit = config.attributes.get(ALLOW_DATA_LOSS_ATTRIBUTE) if config is not None else None
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


_CHANGES = "flask_schema.changes"
_READS = ("SELECT", "PRAGMA", "SHOW", "WITH", "DESCRIBE", "EXPLAIN")


@contextmanager
def counting_changes(connection: Connection) -> Iterator[None]:
    """Count the statements of each transaction that may change something.

    A refusal before the first one left the database as it was, which the
    run uses to tell "refused" from "failed halfway".
    """
    from sqlalchemy import event

    def begin(conn: Any) -> None:
        conn.info[_CHANGES] = 0

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(_READS):
            conn.info[_CHANGES] = conn.info.get(_CHANGES, 0) + 1

    event.listen(connection, "begin", begin)
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", count)
        event.remove(connection, "begin", begin)
        connection.info.pop(_CHANGES, None)


def _changed_nothing(connection: Connection) -> bool:
    return _CHANGES in connection.info and connection.info[_CHANGES] == 0


def _confirm(context: Any, notice: str) -> None:
    """Ask on a terminal before a drop that discards data; without one, go ahead."""
    config = getattr(context, "config", None)
    confirm = config.attributes.get(CONFIRM_DROP_ATTRIBUTE) if config is not None else None
    if confirm is None or data_loss_allowed(config):
        return
    if not confirm(f"{notice} Drop it?"):
        raise DataLossRefused(
            f"Stopped before the drop: {notice} Nothing of it was dropped.",
            _changed_nothing(context.connection),
        )


def _refusing_changed_values(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def implementation(operations: Any, operation: Any) -> None:
        context = operations.migration_context
        connection = context.connection
        if connection is not None and not context.as_sql and _changes_values(operation):
            from .backends import backend_for

            if _table_columns(connection, operation.table_name, operation.schema) is not None:
                found = backend_for(connection.dialect.name).values_changed_by_alter(connection, operation)
                if found and not data_loss_allowed(getattr(context, "config", None)):
                    where = _qualified(f"{operation.table_name}.{operation.column_name}", operation.schema)
                    raise DataLossRefused(
                        f"Refusing to alter column {where}: {'; '.join(found)}. Fix those rows first, "
                        "or allow it with --allow-data-loss (MIGRATE_ALLOW_DATA_LOSS).",
                        _changed_nothing(connection),
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


@contextmanager
def sqlite_rebuild_guard(connection: Connection) -> Iterator[None]:
    """Run with SQLite foreign keys off, so a batch rebuild's DROP TABLE deletes nothing.

    SQLite ignores the pragma inside a transaction, so it is set before the
    migrations' transaction begins. When the caller's connection is already
    in a transaction and foreign keys are on, rebuilds are not safe and a
    warning says so.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    was_in_transaction = connection.in_transaction()
    enabled = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    if not was_in_transaction:
        connection.commit()  # end the transaction the read began; the run begins its own
    if not enabled:
        yield
        return
    if was_in_transaction:
        log.warning(
            "SQLite foreign keys are on and the connection is already in a transaction, so they "
            "cannot be turned off: a batch rebuild here can delete rows of child tables."
        )
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    still_on = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    connection.commit()
    if still_on:  # the driver keeps a transaction open (sqlite3 autocommit=False)
        log.warning(
            "SQLite foreign keys could not be turned off (the driver holds a transaction open): "
            "a batch rebuild here can delete rows of child tables."
        )
    try:
        yield
    finally:
        _report_violations(connection)
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _report_violations(connection: Connection) -> None:
    if connection.in_transaction():
        connection.commit()
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    tables = sorted({str(row[0]) for row in rows})
    if tables:
        log.warning(
            f"After the migrations {len(rows)} row(s) break foreign keys, in: {', '.join(tables)}. "
            "Run 'PRAGMA foreign_key_check' in sqlite3 to see them."
        )
