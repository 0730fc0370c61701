"""One home per database family, chosen by dialect name.

Everything flask_schema does differently per database (the migration lock,
statement timeouts, which statements commit by themselves, how a migration
connection is made transactional) lives in one module per family, the way
Alembic's ``ddl/`` keeps one implementation per dialect. Code elsewhere asks
:func:`backend_for` and never tests a dialect name itself.

A dialect no module claims gets :class:`~flask_schema.backends.base.Backend`,
the generic path that works on any SQL database (a lock held as a row in a
lock table), so an unknown database is never run unlocked in silence.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .base import Backend

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Dialect name to the module (beside this one) that serves it.
FAMILIES = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def backend_for(dialect_name: str) -> Backend:
    """The backend of ``dialect_name``; the generic one for a dialect no family claims.

    Each family module is imported when first asked for, so a command that
    talks to one database never loads the others' code.
    """
    module = FAMILIES.get(dialect_name)
    if module is None:
        return Backend(dialect_name)
    found: type[Backend] = import_module(f"{__name__}.{module}").BACKEND
    return found(dialect_name)


_CONNECT_TIMEOUT = "_flask_schema_connect_timeout"


def bound_connect_time(engine: Engine, seconds: float) -> None:
    """Make new connections of ``engine`` give up after ``seconds`` on a server that does not answer.

    Applies to every connection the engine opens from now on (the migration
    connection, the lock's, the run log's); ``0`` removes the limit. Only
    connecting is bounded, never a statement that runs once connected.
    """
    from sqlalchemy import event

    first_time = not hasattr(engine, _CONNECT_TIMEOUT)
    setattr(engine, _CONNECT_TIMEOUT, seconds)
    if not first_time:
        return
    backend = backend_for(engine.dialect.name)
    driver = engine.dialect.driver

    def limit(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        limit_seconds = getattr(engine, _CONNECT_TIMEOUT, 0)
        if limit_seconds <= 0:
            return
        added = False
        for name, value in backend.connect_arguments(driver, limit_seconds).items():
            if name not in cparams:  # the URL's or the app's own setting wins
                cparams[name] = value
                added = True
        if added:
            record.info[_CONNECT_TIMEOUT] = True

    def ready(dbapi_connection: Any, record: Any) -> None:
        # SQLAlchemy's first statements (server version, settings) ran before this event.
        if record.info.pop(_CONNECT_TIMEOUT, False):
            backend.connection_ready(dbapi_connection)

    event.listen(engine, "do_connect", limit)
    event.listen(engine, "connect", ready)


def registered() -> dict[str, type[Backend]]:
    """The dialect names with a family module of their own (for docs and tests)."""
    return {name: import_module(f"{__name__}.{module}").BACKEND for name, module in FAMILIES.items()}


__all__ = ["FAMILIES", "Backend", "backend_for", "bound_connect_time", "registered"]
