"""Where an app's databases come from, whichever library made them.

flask_schema asks two things of an app: an engine for each database, named
as the revision files name it, and the ``MetaData`` autogenerate compares
each database with. Flask-SQLAlchemy 3, Flask-SQLAlchemy 2.5,
Flask-SQLAlchemy-Lite and an app that uses SQLAlchemy alone keep those in
different places. A :class:`DatabaseSource` answers the same questions for
each kind, and :func:`source_for` is the one place that decides which kind
an app has; nothing else looks at ``db``.

Names: inside flask_schema the default database is ``None``, as
Flask-SQLAlchemy's bind keys have it; Flask-SQLAlchemy-Lite and the
``engines=`` / ``metadata=`` mappings call it ``"default"``.

Engines are read when a command needs them, inside the app context, never
when the app is created; a source that cannot work says why then, in one
line. Nothing here imports SQLAlchemy until a method is called.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .compat import future_engine
from .errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.schema import MetaData

log = logging.getLogger("flask_schema")

#: The name Flask-SQLAlchemy-Lite and the ``engines=`` mapping give the default database.
DEFAULT_NAME = "default"


def key_of(name: str) -> str | None:
    """The internal key of a database name (``"default"`` is ``None``)."""
    return None if name == DEFAULT_NAME else name


def label(key: str | None) -> str:
    """The name a person reads for a database key."""
    return DEFAULT_NAME if key is None else str(key)


def _sorted(keys: Any) -> list[str | None]:
    found: list[str | None] = list(keys)
    found.sort(key=lambda key: (key is not None, key or ""))
    return found


class DatabaseSource(abc.ABC):
    """The engines and metadata of one app's databases, by key.

    ``metadata`` given to ``Migrate`` replaces whatever the library keeps:
    a ``MetaData`` (whose tables say their database in
    ``info["bind_key"]`` when there are several) or a mapping of database
    name to ``MetaData``.
    """

    #: What the app uses, for messages.
    kind = "the app"
    #: What a person does to configure the default database, for messages.
    default_hint = "configure it"

    def __init__(self, metadata: Any = None) -> None:
        self.metadata = metadata
        self._checked = False

    # -- what every source answers --------------------------------------------

    def engines(self) -> dict[str | None, Engine]:
        """Every engine, by key, 2.0-style; needs the app context."""
        found = self._engines()
        if not self._checked:
            self._check(found)
            self._checked = True
        return found

    def keys(self) -> list[str | None]:
        """The database keys, the default database first."""
        return _sorted(self.engines())

    def engine(self, key: str | None) -> Engine:
        """The engine of ``key``; a clear error when the app has none by that name."""
        found = self.engines()
        if key not in found:
            raise ConfigurationError(self.missing(key, found))
        return found[key]

    def metadata_for(self, key: str | None) -> MetaData:
        """The metadata whose tables live in ``key`` (an empty one when none do)."""
        if self.metadata is not None:
            return _explicit_metadata(self.metadata, key)
        return self._own_metadata(key)

    def missing(self, key: str | None, found: Mapping[str | None, Any]) -> str:
        names = ", ".join(label(name) for name in _sorted(found)) or "none"
        if key is None:
            return (
                f"No database is configured for default: {self.default_hint} "
                f"(the app's databases: {names}; for several databases create the folder "
                "with 'flask db init --multidb')."
            )
        return f"No database is configured for {label(key)}: the app's databases are {names}."

    @contextmanager
    def engines_replaced(self, replacements: Mapping[str | None, Engine], feature: str) -> Iterator[None]:
        """Point each database at another engine while the block runs, then put them back.

        Engines made for the block are disposed of afterwards. A source whose
        engines are out of reach refuses, naming ``feature``.
        """
        live, name_of = self._live_engines(feature)
        saved = dict(live)
        try:
            for key, engine in replacements.items():
                live[name_of(key)] = engine
            yield
        finally:
            for name, engine in list(live.items()):
                if engine is not saved.get(name):
                    engine.dispose()
            live.clear()
            live.update(saved)

    # -- what each kind provides ----------------------------------------------

    @abc.abstractmethod
    def _engines(self) -> dict[str | None, Engine]:
        """Each kind's engines by key, as it finds them."""

    def _own_metadata(self, key: str | None) -> MetaData:
        from sqlalchemy import MetaData

        return MetaData()

    def _live_engines(self, feature: str) -> tuple[MutableMapping[Any, Engine], Callable[[str | None], Any]]:
        """The mapping the source reads its engines from, and how a key is spelled in it."""
        raise ConfigurationError(f"{feature} cannot point {self.kind} at other databases.")

    def _check(self, engines: Mapping[str | None, Engine]) -> None:
        """Refuse, once, a ``metadata`` mapping that names databases the engines do not."""
        if self.metadata is None:
            return
        if not isinstance(self.metadata, Mapping):
            _check_bind_keys(self.metadata, engines)
            return
        given = {key_of(str(name)) for name in self.metadata}
        extra = _sorted(given - set(engines))
        if extra:
            raise ConfigurationError(
                f"metadata names {_names(extra)} but the app has no engine for "
                f"{'it' if len(extra) == 1 else 'them'} (its databases: {_names(_sorted(engines))})."
            )
        lacking = _sorted(set(engines) - given)
        if lacking:
            raise ConfigurationError(
                f"The engine for {_names(lacking)} has no metadata: add "
                f"{'it' if len(lacking) == 1 else 'them'} to the metadata mapping given to Migrate."
            )


def _names(keys: list[str | None]) -> str:
    return ", ".join(f"'{label(key)}'" for key in keys)


def _explicit_metadata(given: Any, key: str | None) -> MetaData:
    from sqlalchemy import MetaData

    if isinstance(given, Mapping):
        for name, metadata in given.items():
            if key_of(str(name)) == key:
                return metadata  # type: ignore[no-any-return]
        return MetaData()
    return split_by_bind_key(given, key)


def _check_bind_keys(metadata: MetaData, engines: Mapping[str | None, Any]) -> None:
    """One ``MetaData`` for several databases: each table's ``bind_key`` must name one."""
    named = {table.info.get("bind_key") for table in metadata.tables.values()}
    extra = _sorted({key_of(str(name)) for name in named if name} - set(engines))
    if extra:
        raise ConfigurationError(
            f"Tables of the metadata have info bind_key {_names(extra)} but the app has no "
            f"engine for {'it' if len(extra) == 1 else 'them'} (its databases: {_names(_sorted(engines))})."
        )


def split_by_bind_key(metadata: MetaData, key: str | None) -> MetaData:
    """The tables of ``metadata`` that live in ``key``, as Flask-SQLAlchemy 2.5 marks them.

    With no table marked in ``info["bind_key"]``, every table is the default
    database's and ``metadata`` itself is returned for it.
    """
    from sqlalchemy import MetaData

    tables = metadata.tables.values()
    if not any(table.info.get("bind_key") for table in tables):
        return metadata if key is None else MetaData()
    selected = MetaData(naming_convention=metadata.naming_convention)
    for table in tables:
        if key_of(table.info.get("bind_key") or DEFAULT_NAME) == key:
            table.to_metadata(selected)
    return selected


# -- the kinds -----------------------------------------------------------------


class FlaskSQLAlchemySource(DatabaseSource):
    """Flask-SQLAlchemy 3: ``db.engines`` and ``db.metadatas``, both keyed by bind key."""

    kind = "Flask-SQLAlchemy"
    default_hint = "set SQLALCHEMY_DATABASE_URI"

    def __init__(self, db: Any, metadata: Any = None) -> None:
        super().__init__(metadata)
        self.db = db

    def _engines(self) -> dict[str | None, Engine]:
        return {key: future_engine(engine) for key, engine in self.db.engines.items()}

    def _own_metadata(self, key: str | None) -> MetaData:
        found = self.db.metadatas.get(key)
        return found if found is not None else super()._own_metadata(key)

    def _live_engines(self, feature: str) -> tuple[MutableMapping[Any, Engine], Callable[[str | None], Any]]:
        engines = self.db.engines
        if not isinstance(engines, MutableMapping):
            return super()._live_engines(feature)
        return engines, lambda key: key


class FlaskSQLAlchemy25Source(FlaskSQLAlchemySource):
    """Flask-SQLAlchemy 2.5: ``db.get_engine(bind=...)`` and one ``db.metadata`` for all binds."""

    kind = "Flask-SQLAlchemy 2.5"

    def _engines(self) -> dict[str | None, Engine]:
        from flask import current_app

        keys: list[str | None] = [None, *(current_app.config.get("SQLALCHEMY_BINDS") or {})]
        return {key: future_engine(self.db.get_engine(bind=key)) for key in keys}

    def _own_metadata(self, key: str | None) -> MetaData:
        return split_by_bind_key(self.db.metadata, key)

    def _live_engines(self, feature: str) -> tuple[MutableMapping[Any, Engine], Callable[[str | None], Any]]:
        raise ConfigurationError(
            f"{feature} needs Flask-SQLAlchemy 3.0 or later: 2.5 does not let flask_schema "
            "point the app at another database."
        )


class LiteSource(DatabaseSource):
    """Flask-SQLAlchemy-Lite: ``db.engines`` keyed by name; the models' metadata is given.

    An engine configured only in ``SQLALCHEMY_ASYNC_ENGINES`` is migrated
    through a sync engine made from its URL (see :func:`sync_engine`).
    """

    kind = "Flask-SQLAlchemy-Lite"
    default_hint = 'set SQLALCHEMY_ENGINES["default"]'

    def __init__(self, db: Any, metadata: Any) -> None:
        super().__init__(metadata)
        self.db = db
        self._derived: dict[str, Engine] = {}

    def _engines(self) -> dict[str | None, Engine]:
        found = {key_of(name): future_engine(engine) for name, engine in self.db.engines.items()}
        for name, engine in self.db.async_engines.items():
            if key_of(name) not in found:
                if name not in self._derived:
                    self._derived[name] = sync_engine(engine, name)
                found[key_of(name)] = self._derived[name]
        return found

    def _live_engines(self, feature: str) -> tuple[MutableMapping[Any, Engine], Callable[[str | None], Any]]:
        return self.db.engines, label


class PlainSource(DatabaseSource):
    """SQLAlchemy alone: the engines and metadata given to ``Migrate``.

    ``engines`` is an ``Engine``, a URL, a mapping of database name to
    either, or a callable returning one of those (called once, inside the app
    context, when a command first needs it). URLs become engines here.
    """

    kind = "the engines given to Migrate"
    default_hint = 'pass engines={"default": ...} to Migrate'

    def __init__(self, engines: Any, metadata: Any) -> None:
        super().__init__(metadata)
        self.given = engines
        self._resolved: dict[str | None, Engine] | None = None

    def _engines(self) -> dict[str | None, Engine]:
        if self._resolved is None:
            given = self.given() if callable(self.given) else self.given
            if given is None:
                raise ConfigurationError("The engines callable given to Migrate returned None.")
            if not isinstance(given, Mapping):
                given = {DEFAULT_NAME: given}
            self._resolved = {
                key_of(str(name)): _engine_from(value, str(name)) for name, value in given.items()
            }
        return dict(self._resolved)

    def _live_engines(self, feature: str) -> tuple[MutableMapping[Any, Engine], Callable[[str | None], Any]]:
        self._engines()
        assert self._resolved is not None
        return self._resolved, lambda key: key


class BrokenSource(DatabaseSource):
    """A ``Migrate`` set-up that cannot work, kept until a command can say why.

    Raising while the app is created would turn every ``flask`` command into
    a traceback; each ``flask db`` command reports the one line instead.
    """

    #: What ``Migrate`` given neither a ``db`` nor ``engines`` lacks.
    without_databases = (
        "flask_schema was set up without a db: pass the Flask-SQLAlchemy object, "
        "Migrate(app, db), or plain SQLAlchemy's Migrate(app, metadata=..., engines=...)."
    )

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def _engines(self) -> dict[str | None, Engine]:
        raise ConfigurationError(self.message)

    def metadata_for(self, key: str | None) -> MetaData:
        raise ConfigurationError(self.message)


# -- choosing the kind -----------------------------------------------------------


def source_for(db: Any = None, metadata: Any = None, engines: Any = None) -> DatabaseSource:
    """The source for what was given to ``Migrate``: a ``db``, ``metadata``, ``engines``."""
    if db is not None and engines is not None:
        return BrokenSource(
            "Migrate was given both db and engines: the engines come from db; pass one of them."
        )
    if db is not None:
        if type(db).__module__.split(".")[0] == "flask_sqlalchemy_lite":
            if metadata is None:
                return BrokenSource(
                    "Flask-SQLAlchemy-Lite keeps no models: pass their metadata, "
                    "Migrate(app, db, metadata=Base.metadata)."
                )
            return LiteSource(db, metadata)
        if getattr(type(db), "engines", None) is not None:
            return FlaskSQLAlchemySource(db, metadata)
        return FlaskSQLAlchemy25Source(db, metadata)
    if engines is None and metadata is None:
        return BrokenSource(BrokenSource.without_databases)
    if engines is None:
        return BrokenSource(
            "Migrate was given metadata but no engines: pass engines= (an Engine, a URL, "
            "or a mapping of database name to either) or the db that has them."
        )
    if metadata is None:
        return BrokenSource(
            "Migrate was given engines but no metadata: pass metadata=Base.metadata "
            "(or a mapping of database name to MetaData) so autogenerate knows the models."
        )
    return PlainSource(engines, metadata)


# -- engines from what was given ---------------------------------------------------


def _engine_from(value: Any, name: str) -> Engine:
    """An engine for ``value`` (an ``Engine``, an ``AsyncEngine``, a URL or its text)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import URL, Engine, make_url
    from sqlalchemy.exc import ArgumentError

    if isinstance(value, Engine):
        return future_engine(value)
    if _is_async_engine(value):
        return sync_engine(value, name)
    if isinstance(value, (str, URL)):
        try:
            url = make_url(value)
        except ArgumentError:
            raise ConfigurationError(f"The engine for '{name}' is not a database URL: {value!r}.") from None
        if _is_async_url(url):
            return _derived_engine(url, name)
        return sa.create_engine(url)
    raise ConfigurationError(
        f"The engine for '{name}' is a {type(value).__name__}: give an Engine or a database URL."
    )


def _is_async_engine(value: Any) -> bool:
    try:
        from sqlalchemy.ext.asyncio import AsyncEngine
    except ImportError:  # pragma: no cover - SQLAlchemy without its asyncio extension
        return False
    return isinstance(value, AsyncEngine)


def _is_async_url(url: Any) -> bool:
    try:
        return bool(getattr(url.get_dialect(), "is_async", False))
    except Exception:  # an unknown dialect: let create_engine say so
        return False


def sync_engine(engine: Any, name: str) -> Engine:
    """A sync engine for the database an async ``engine`` reaches.

    Migrations run on a sync connection (Alembic's and the lock's); the URL,
    its password and query included, stays the same and only the driver
    changes, to the one the database family's backend names.
    """
    return _derived_engine(engine.url, name)


def _derived_engine(url: Any, name: str) -> Engine:
    import sqlalchemy as sa

    from .backends import backend_for

    drivername = backend_for(url.get_backend_name()).sync_drivername(url.get_driver_name())
    if drivername is None:
        raise ConfigurationError(
            f"The engine for '{name}' is async ({url.drivername}) and migrations run on a sync "
            "engine of the same URL; flask_schema knows no sync driver for it: give "
            f"engines={{'{name}': ...}} a sync engine or URL."
        )
    sync_url = url.set(drivername=drivername)
    log.debug(
        "%s: async %s; migrations use a sync engine of the same URL (%s).", name, url.drivername, drivername
    )
    return sa.create_engine(sync_url)
