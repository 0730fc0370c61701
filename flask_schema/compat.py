"""The one place that knows Flask-SQLAlchemy 2.5 and SQLAlchemy 1.4 exist.

Large projects still pin Flask-SQLAlchemy 2.5 on SQLAlchemy 1.4, which
Alembic 1.18 and 1.19 support. A SQLAlchemy 1.4 engine made without
``future=True`` hands out legacy connections: no ``commit()``, and statements
outside ``begin()`` autocommit. The run commits per revision and around its
lock, so it needs the 2.0 behaviour; :func:`future_engine` wraps such engines
in SQLAlchemy 1.4's own 2.0-style facade, which shares the engine's pool and
dialect, and :func:`commit` / :func:`rollback` work on either connection.

Where an app keeps its engines and metadata (Flask-SQLAlchemy 3 or 2.5,
Flask-SQLAlchemy-Lite, plain SQLAlchemy) is :mod:`flask_schema.sources`'
business; every engine it hands out has been through :func:`future_engine`.
Nothing here imports SQLAlchemy until a helper is called.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

#: Legacy SQLAlchemy 1.4 engine -> its 2.0-style facade, made once per engine
#: so that ``engine is other`` comparisons keep working across calls.
_FACADES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def future_engine(engine: Engine) -> Engine:
    """``engine`` itself on SQLAlchemy 2, or when it was made with ``future=True``.

    Otherwise the 2.0-style facade of it (``Engine._future_facade`` is
    SQLAlchemy 1.4's own, private, way to make one that shares the pool; 1.4 is
    a closed series, so the name cannot move under us).
    """
    from sqlalchemy.future import Engine as FutureEngine  # SQLAlchemy 2: the Engine itself

    if isinstance(engine, FutureEngine):
        return engine
    facade: Engine | None = _FACADES.get(engine)
    if facade is None:
        facade = cast("Engine", cast(Any, FutureEngine)._future_facade(engine))
        _FACADES[engine] = facade
    return facade


def commit(connection: Connection) -> None:
    """Commit what ``connection`` has begun, on a 2.0-style or a legacy connection."""
    if hasattr(connection, "commit"):
        connection.commit()
        return
    transaction = connection.get_transaction()
    if transaction is not None:
        transaction.commit()


def rollback(connection: Connection) -> None:
    """Roll back what ``connection`` has begun, on a 2.0-style or a legacy connection."""
    if hasattr(connection, "rollback"):
        connection.rollback()
        return
    transaction = connection.get_transaction()
    if transaction is not None:
        transaction.rollback()
