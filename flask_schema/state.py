"""The extension's per-app state at ``app.extensions["migrate"]``, and how to find it.

Kept apart from :mod:`flask_schema.extension` (which registers the ``flask db``
commands and so sits above them): everything that needs the current app's
database, directory or options asks :func:`get_state` here, and nothing
here imports the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app, has_app_context

from . import settings
from .errors import ConfigurationError
from .internal_tables import skip_internal_tables
from .sources import BrokenSource, DatabaseSource, source_for

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from .config import Config


class _Extension(Protocol):
    """What the state needs of the ``Migrate`` object that made it."""

    def call_configure_callbacks(self, config: Config) -> Config: ...


class MigrateState:
    """What the extension keeps for one app, at ``app.extensions["migrate"]``.

    The attribute names are those ``env.py`` files written by Flask-Migrate
    read (``db``, ``directory``, ``configure_args``, ``metadata``,
    ``migrate``), so those files keep working unchanged. ``source`` is where
    flask_schema itself reads the engines and metadata. ``db`` is ``None``
    for an app set up with ``engines=``.
    """

    def __init__(
        self,
        migrate: _Extension,
        db: Any,
        app: Flask,
        directory: str,
        configure_args: dict[str, Any],
        source: DatabaseSource | None = None,
    ) -> None:
        self.migrate = migrate
        self.db = db
        self.source = source if source is not None else source_for(db)
        self._app = app
        self._directory = directory
        self._configure_args = configure_args

    @property
    def directory(self) -> str:
        """The migrations folder, after config keys and environment variables."""
        return str(settings.resolve("directory", self._app.config, self._directory))

    @property
    def configure_args(self) -> dict[str, Any]:
        """Keyword arguments for ``context.configure``, as a fresh dict each time.

        Flask-Migrate's ``env.py`` adds its own callback to this dict; handing
        out a copy keeps one command's callback from leaking into the next
        command run in the same process.
        """
        args = dict(self._configure_args)
        for name in ("compare_type", "render_as_batch"):
            args[name] = settings.resolve(name, self._app.config, args.get(name))
        # The autogenerate settings (per-backend type and default comparison,
        # ignored tables) reach every env.py, since every one passes this dict.
        from .autogen_options import autogenerate_options

        autogenerate_options(self._app.config, args)
        # Our run log and lock tables are not the app's: no autogenerate may drop them.
        version_table = str(args.get("version_table") or "alembic_version")
        args["include_name"] = skip_internal_tables(args.get("include_name"), version_table)
        return args

    @property
    def metadata(self) -> MetaData:
        """The default metadata, for ``env.py`` files of old Flask-Migrate releases."""
        if self.db is not None and self.source.metadata is None:
            return self.db.metadata  # type: ignore[no-any-return]
        return self.source.metadata_for(None)


class _MissingDb:
    """Stands in ``app.extensions["migrate"]`` for ``Migrate(app)`` given no ``db``."""


def get_state(app: Flask | None = None) -> MigrateState:
    """Return the extension state of ``app`` (default: the current app)."""
    if app is None and not has_app_context():
        raise ConfigurationError(
            "flask_schema's functions need the Flask app: call them inside 'with app.app_context():'."
        )
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get("migrate")
    if isinstance(state, _MissingDb):
        raise ConfigurationError(BrokenSource.without_databases)
    if not isinstance(state, MigrateState):
        raise ConfigurationError(
            "flask_schema is not set up on this app: call Migrate(app, db) or "
            "migrate.init_app(app, db) where the app is created."
        )
    return state
