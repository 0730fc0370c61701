"""What a project's ``env.py`` hands over to: engines, metadata and the run.

The ``env.py`` that ``flask db init`` writes is two lines that call
:func:`run_env`. Keeping the logic here means a fix to how migrations run
reaches every existing project with a ``pip install -U``, without
regenerating files.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import compat
from .extension import MigrateState, get_state
from .safety import install_drop_notices, sqlite_rebuild_guard

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.schema import MetaData

log = logging.getLogger("flask_schema")

#: ``config.attributes`` key under which the run leaves the heads of each
#: database after it ran, keyed by bind key (``None`` for the default).
HEADS_ATTRIBUTE = "flask_schema.heads"

#: ``config.attributes`` key holding the :class:`~flask_schema.backup.BackupRequest`
#: of an ``upgrade``/``downgrade`` run with ``--backup``.
BACKUP_ATTRIBUTE = "flask_schema.backup"

#: ``context.opts`` key naming the bind a migration context belongs to.
BIND_OPTION = "flask_schema_bind"

DirectivesHook = Callable[["MigrationContext", Any, "list[MigrationScript]"], None]


def run_env(multidb: bool = False) -> None:
    """Run the migration environment for the current Flask app.

    Call this from ``env.py``. With ``multidb=True`` every database of
    ``SQLALCHEMY_BINDS`` is migrated, each with its own version table and
    all sharing one revision history.
    """
    from alembic import context

    state = get_state()
    install_drop_notices()
    binds = bind_keys(state.db) if multidb else [None]
    if context.is_offline_mode():
        _run_offline(context, state, binds, multidb)
    else:
        _run_online(context, state, binds, multidb)


def bind_keys(db: Any) -> list[str | None]:
    """The bind keys of ``db``: the default database first, then each bind."""
    keys: list[str | None] = list(compat.engines(db))
    keys.sort(key=lambda key: (key is not None, key or ""))
    return keys


def metadata_for(db: Any, key: str | None) -> MetaData:
    """The metadata whose tables live in bind ``key`` (empty if none do)."""
    return compat.metadata_for(db, key)


def database_label(key: str | None) -> str:
    return "default" if key is None else key


def configure_options(
    state: MigrateState, config: Config, bind_count: int, dialect_name: str
) -> dict[str, Any]:
    """The keyword arguments for ``context.configure``, built fresh per command."""
    options = state.configure_args
    user_hook = options.pop("process_revision_directives", None)
    autogenerate = bool(getattr(config.cmd_opts, "autogenerate", False))
    from .autogen import review_hook

    options["process_revision_directives"] = skip_empty_revisions(
        review_hook(user_hook, config), autogenerate, bind_count
    )
    from flask import current_app

    from .autogen_options import autogenerate_options

    autogenerate_options(current_app.config, options)
    if dialect_name == "sqlite":
        # SQLite has almost no ALTER TABLE; batch mode rebuilds the table.
        options["render_as_batch"] = True
    return options


def skip_empty_revisions(
    user_hook: DirectivesHook | None, autogenerate: bool, bind_count: int
) -> DirectivesHook:
    """Wrap the user's directives hook so an empty autogenerate writes no file.

    Alembic calls the hook once per database; only the last call sees every
    database's operations, so the emptiness test waits for it.
    """

    def hook(context: MigrationContext, revision: Any, directives: list[MigrationScript]) -> None:
        if user_hook is not None:
            user_hook(context, revision, directives)
        if not autogenerate or not directives:
            return
        script = directives[0]
        ops_list = script.upgrade_ops_list
        if len(ops_list) >= bind_count and all(ops.is_empty() for ops in ops_list):
            directives[:] = []
            log.debug("No changes in schema detected.")

    return hook


def _run_offline(context: Any, state: MigrateState, binds: Sequence[str | None], multidb: bool) -> None:
    config = context.config
    output = config.output_buffer or sys.stdout
    for key in binds:
        engine: Engine = compat.engines(state.db)[key]
        if multidb:
            output.write(f"-- Database: {database_label(key)}\n")
        options = configure_options(state, config, len(binds), engine.dialect.name)
        context.configure(
            url=engine.url,
            target_metadata=metadata_for(state.db, key),
            literal_binds=True,
            output_buffer=output,
            **_bind_tokens(key, multidb),
            **options,
        )
        with context.begin_transaction():
            _run(context, key, multidb)


def _run_online(context: Any, state: MigrateState, binds: Sequence[str | None], multidb: bool) -> None:
    from flask import current_app

    from .guard import RunGuard

    config = context.config
    for key in binds:
        engine = _engine_for(config, state, key)
        options = configure_options(state, config, len(binds), engine.dialect.name)
        guard = RunGuard(config, current_app.config, engine, database_label(key), options)
        options = guard.configure_options(options)
        # The lock is held before the version table is read or created.
        with guard.held(), _connection_for(config, state, key) as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata_for(state.db, key),
                **_bind_tokens(key, multidb),
                **options,
            )
            backup_if_pending(context, connection, key)
            with (
                sqlite_rebuild_guard(connection),
                guard.running(connection, context),
                context.begin_transaction(),
            ):
                _run(context, key, multidb)
            heads = context.get_context().get_current_heads()
            config.attributes.setdefault(HEADS_ATTRIBUTE, {})[key] = tuple(heads)


@contextmanager
def _connection_for(config: Config, state: MigrateState, key: str | None) -> Iterator[Connection]:
    """A caller-supplied connection for the default database, else a new one.

    With a transaction per revision, work done outside any revision (the
    version table that ``ensure-version`` creates) is left in the
    connection's implicit transaction; a connection we opened commits it
    after a clean run. A caller's connection is the caller's to commit.
    """
    supplied = config.attributes.get("connection")
    if supplied is not None and key is None:
        yield supplied
        return
    with compat.engines(state.db)[key].connect() as connection:
        yield connection
        if connection.in_transaction():
            connection.commit()


def _engine_for(config: Config, state: MigrateState, key: str | None) -> Engine:
    """The engine of the database ``key``, or of the caller-supplied connection."""
    supplied = config.attributes.get("connection")
    if supplied is not None and key is None:
        return supplied.engine  # type: ignore[no-any-return]
    found = compat.engines(state.db)
    if key not in found:
        from .errors import ConfigurationError

        raise ConfigurationError(
            f"No database is configured for {database_label(key)}: set SQLALCHEMY_DATABASE_URI"
            " (or, for SQLALCHEMY_BINDS only, create the folder with 'flask db init --multidb')."
        )
    return found[key]


def _bind_tokens(key: str | None, multidb: bool) -> dict[str, Any]:
    options: dict[str, Any] = {BIND_OPTION: key}
    if multidb:
        name = key or ""
        options["upgrade_token"] = f"{name}_upgrades"
        options["downgrade_token"] = f"{name}_downgrades"
    return options


def _run(context: EnvironmentContext, key: str | None, multidb: bool) -> None:
    if multidb:
        context.run_migrations(engine_name=key or "")
    else:
        context.run_migrations()


def backup_if_pending(context: EnvironmentContext, connection: Connection, key: str | None) -> None:
    """Back up this database if the command asked for it and will change it.

    Called once per database, after its connection is open (and any
    migration lock held) and before its first migration step. The steps come
    from the command's own function, so "pending" means exactly what
    ``run_migrations`` is about to apply.
    """
    request = context.config.attributes.get(BACKUP_ATTRIBUTE)
    if request is None:
        return
    migration_context = context.get_context()
    steps_for = migration_context.opts.get("fn")
    if steps_for is None:
        return
    heads = migration_context.get_current_heads()
    if not list(steps_for(heads, migration_context)):
        log.debug("Nothing to apply to %s; no backup taken.", database_label(key))
        return
    from .backup import back_up

    back_up(connection, database_label(key), heads, request)
