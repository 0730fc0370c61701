"""The ``Migrate`` extension object.

It remembers where the app's databases come from (a Flask-SQLAlchemy or
Flask-SQLAlchemy-Lite ``db``, or plain SQLAlchemy ``engines`` and
``metadata``, see :mod:`flask_schema.sources`) and the options, and
registers the ``flask db`` command group. It imports nothing from Alembic,
so an app that never runs a migration command pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask

from .sources import source_for
from .state import MigrateState, _MissingDb, get_state

if TYPE_CHECKING:
    from .config import Config

__all__ = ["Migrate", "MigrateState", "get_state"]

ConfigureCallback = TypeVar("ConfigureCallback", bound="Callable[[Config], Config]")


class Migrate:
    """Bind Alembic migrations to a Flask app and its databases.

    ``Migrate(app, db)`` registers the ``flask db`` commands at once; in an app
    factory create ``Migrate()`` at module level and call :meth:`init_app`.
    Extra keyword arguments are passed to Alembic's ``context.configure`` in
    ``env.py`` (for example ``include_schemas=True``).

    :param db: A Flask-SQLAlchemy (3 or 2.5) or Flask-SQLAlchemy-Lite
        ``SQLAlchemy`` object. The engines come from it.
    :param metadata: The models' ``MetaData``, or a mapping of database name
        (``"default"`` for the default one) to ``MetaData``. Needed with
        Flask-SQLAlchemy-Lite and plain SQLAlchemy; with Flask-SQLAlchemy it
        replaces ``db.metadatas``. One ``MetaData`` can serve several
        databases when each table names its own in ``info["bind_key"]``.
    :param engines: For an app without a Flask SQLAlchemy extension: an
        ``Engine``, a database URL, a mapping of database name to either, or
        a callable that returns one of those inside the app context. An
        async engine or URL is migrated through a sync engine of the same
        URL.

    .. versionchanged:: 0.2
        The ``metadata`` and ``engines`` arguments.
    """

    def __init__(
        self,
        app: Flask | None = None,
        db: Any = None,
        directory: str = "migrations",
        command: str = "db",
        compare_type: bool = True,
        render_as_batch: bool = True,
        *,
        metadata: Any = None,
        engines: Any = None,
        **kwargs: Any,
    ) -> None:
        self.configure_callbacks: list[Callable[[Config], Config]] = []
        self.db = db
        self.metadata = metadata
        self.engines = engines
        self.command = command
        self.directory = str(directory)
        self.alembic_ctx_kwargs: dict[str, Any] = dict(kwargs)
        self.alembic_ctx_kwargs["compare_type"] = compare_type
        self.alembic_ctx_kwargs["render_as_batch"] = render_as_batch
        if app is not None and (db is not None or engines is not None or metadata is not None):
            self.init_app(app, db)
        elif app is not None:
            # Flask-Migrate ignores Migrate(app) without db, and 'flask db' then "does not exist".
            self._register_without_db(app, command)

    def init_app(
        self,
        app: Flask,
        db: Any = None,
        directory: str | None = None,
        command: str | None = None,
        compare_type: bool | None = None,
        render_as_batch: bool | None = None,
        *,
        metadata: Any = None,
        engines: Any = None,
        **kwargs: Any,
    ) -> None:
        """Register the extension on ``app``; arguments override the constructor's.

        The overrides are stored for this app only, so one ``Migrate`` object
        can serve several apps made by the same factory with different options.

        .. versionchanged:: 0.2
            The ``metadata`` and ``engines`` arguments, as for :class:`Migrate`.
        """
        db = db if db is not None else self.db
        metadata = metadata if metadata is not None else self.metadata
        engines = engines if engines is not None else self.engines
        if db is None and engines is None and metadata is None:
            # Raising here would break loading the app with a traceback; each
            # 'flask db' command (and API call) says what is missing instead.
            self._register_without_db(app, command)
            return
        ctx_kwargs = dict(self.alembic_ctx_kwargs)
        ctx_kwargs.update(kwargs)
        if compare_type is not None:
            ctx_kwargs["compare_type"] = compare_type
        if render_as_batch is not None:
            ctx_kwargs["render_as_batch"] = render_as_batch
        state = MigrateState(
            migrate=self,
            db=db,
            app=app,
            directory=str(directory) if directory is not None else self.directory,
            configure_args=ctx_kwargs,
            source=source_for(db, metadata, engines),
        )
        app.extensions["migrate"] = state

        from .cli import db_group

        name = command or app.config.get("MIGRATE_COMMAND") or self.command
        app.cli.add_command(db_group, name=name)

    def _register_without_db(self, app: Flask, command: str | None) -> None:
        from .cli import db_group

        app.extensions["migrate"] = _MissingDb()
        app.cli.add_command(db_group, name=command or app.config.get("MIGRATE_COMMAND") or self.command)

    def configure(self, f: ConfigureCallback) -> ConfigureCallback:
        """Register a function that receives the Alembic config and returns it.

        Callbacks run in the order they were registered, each time a command
        builds its config, so they can set options per command.
        """
        self.configure_callbacks.append(f)
        return f

    def call_configure_callbacks(self, config: Config) -> Config:
        for callback in self.configure_callbacks:
            config = callback(config)
        return config

    def get_config(
        self,
        directory: str | None = None,
        x_arg: str | list[str] | tuple[str, ...] | None = None,
        opts: list[str] | None = None,
    ) -> Config:
        """Build the Alembic config for the current app, as Flask-Migrate does."""
        from .api import build_config

        if isinstance(x_arg, str):
            x_arg = [x_arg]
        return build_config(directory, x_arg=list(x_arg or ()), flags=opts or ())
