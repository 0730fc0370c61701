"""The one place that knows Flask-SQLAlchemy 2.5 and SQLAlchemy 1.4 exist.

Large projects still pin Flask-SQLAlchemy 2.5 on SQLAlchemy 1.4, which
Alembic 1.18 and 1.19 support. Two things differ there, and everything else
in flask_schema is written against the newer API:

* Flask-SQLAlchemy 2.5 has no ``db.engines`` mapping and no ``db.metadatas``;
  it has ``db.get_engine(bind=key)``, the keys of ``SQLALCHEMY_BINDS``, and one
  ``db.metadata`` whose tables carry their bind key in ``table.info``.
* A SQLAlchemy 1.4 engine made without ``future=True`` hands out legacy
  connections: no ``commit()``, and statements outside ``begin()`` autocommit.
  The run commits per revision and around its lock, so it needs the 2.0
  behaviour; :func:`engines` therefore wraps such engines in SQLAlchemy 1.4's
  own 2.0-style facade, which shares the engine's pool and dialect.

Callers use :func:`engines`, :func:`metadata_for`, :func:`commit` and
:func:`require_engine_mapping` instead of touching those attributes.
Nothing here imports SQLAlchemy until a helper is called.
"""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast

from .errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.schema import MetaData

#: Legacy SQLAlchemy 1.4 engine -> its 2.0-style facade, made once per engine
#: so that ``engine is other`` comparisons keep working across calls.
_FACADES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def has_engine_mapping(db: Any) -> bool:
    """Whether ``db`` keeps its engines in a ``db.engines`` mapping (Flask-SQLAlchemy 3.0+)."""
    return getattr(type(db), "engines", None) is not None


def engines(db: Any) -> dict[str | None, Engine]:
    """Every engine of ``db`` by bind key (``None`` for the default), 2.0-style.

    Needs an app context, as ``db.engines`` does on Flask-SQLAlchemy 3.
    """
    if has_engine_mapping(db):
        return {key: future_engine(engine) for key, engine in db.engines.items()}
    from flask import current_app

    keys: list[str | None] = [None, *(current_app.config.get("SQLALCHEMY_BINDS") or {})]
    return {key: future_engine(db.get_engine(bind=key)) for key in keys}


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


def metadata_for(db: Any, key: str | None) -> MetaData:
    """The metadata whose tables live in bind ``key`` (an empty one if none do).

    Flask-SQLAlchemy 3 keeps one metadata per bind. 2.5 keeps all tables in
    ``db.metadata`` and marks each with ``info["bind_key"]``; when any table
    is marked, the tables of ``key`` are copied into a metadata of their own.
    """
    from sqlalchemy import MetaData

    metadatas = getattr(db, "metadatas", None)
    if metadatas is not None:
        found = metadatas.get(key)
        return found if found is not None else MetaData()
    metadata: MetaData = db.metadata
    tables = metadata.tables.values()
    if not any(table.info.get("bind_key") for table in tables):
        return metadata if key is None else MetaData()
    selected = MetaData(naming_convention=metadata.naming_convention)
    for table in tables:
        if table.info.get("bind_key") == key:
            table.to_metadata(selected)
    return selected


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


def require_engine_mapping(db: Any, feature: str) -> MutableMapping[str | None, Engine]:
    """``db.engines`` itself, for a feature that must swap the app's engines.

    Flask-SQLAlchemy 2.5 builds its engines out of reach, so such a feature
    refuses there with one line naming the version it needs.
    """
    if not has_engine_mapping(db) or not isinstance(db.engines, MutableMapping):
        raise ConfigurationError(
            f"{feature} needs Flask-SQLAlchemy 3.0 or later: 2.5 does not let flask_schema "
            "point the app at another database."
        )
    return db.engines
