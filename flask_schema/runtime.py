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

from . import selection
from .sources import DatabaseSource, label, source_for
from .state import MigrateState, get_state

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.schema import MetaData

log = logging.getLogger("flask_schema")

#: ``context.configure`` option naming the bind a migration context belongs to.
BIND_OPTION = "flask_schema_bind"

DirectivesHook = Callable[["MigrationContext", Any, "list[MigrationScript]"], None]


def run_env(multidb: bool = False) -> None:
    """Run the migration environment for the current Flask app.

    Call this from ``env.py``. With ``multidb=True`` every database of the
    app (``SQLALCHEMY_BINDS``, ``SQLALCHEMY_ENGINES`` or the ``engines``
    given to ``Migrate``) is migrated, each with its own version table and
    all sharing one revision history; ``--database NAME`` narrows that to
    the databases named. The lock, the run log and the step reports are not
    here: the commands add them around any ``env.py``
    (:mod:`flask_schema.run`), so this function only says which databases,
    metadata and options the project has.
    """
    from alembic import context

    state = get_state()
    binds = selection.choose(bind_keys(state.db) if multidb else [None], multidb)
    if context.is_offline_mode():
        _run_offline(context, state, binds, multidb)
    else:
        _run_online(context, state, binds, multidb)


def source_of(db: Any = None) -> DatabaseSource:
    """The source of the current app's databases; ``db`` only when it is another one."""
    state = get_state()
    if db is None or db is state.db:
        return state.source
    return source_for(db)


def bind_keys(db: Any = None) -> list[str | None]:
    """The database keys of the current app: the default database first, then each bind.

    ``db`` is accepted for the revision template of earlier releases, which
    passes ``get_state().db`` (``None`` for an app set up with ``engines=``).
    """
    return source_of(db).keys()


def metadata_for(db: Any, key: str | None) -> MetaData:
    """The metadata whose tables live in database ``key`` (empty if none do)."""
    return source_of(db).metadata_for(key)


def database_label(key: str | None) -> str:
    return label(key)


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
    from .backends import backend_for

    if backend_for(dialect_name).alters_by_rebuilding:
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
        engine: Engine = state.source.engine(key)
        if multidb:
            output.write(f"-- Database: {database_label(key)}\n")
        options = configure_options(state, config, len(binds), engine.dialect.name)
        context.configure(
            url=engine.url,
            target_metadata=state.source.metadata_for(key),
            literal_binds=True,
            output_buffer=output,
            **_bind_tokens(key, multidb),
            **options,
        )
        with context.begin_transaction():
            _run(context, key, multidb)


def _run_online(context: Any, state: MigrateState, binds: Sequence[str | None], multidb: bool) -> None:
    config = context.config
    for key in binds:
        with _connection_for(config, state, key) as connection:
            options = configure_options(state, config, len(binds), connection.dialect.name)
            context.configure(
                connection=connection,
                target_metadata=state.source.metadata_for(key),
                **_bind_tokens(key, multidb),
                **options,
            )
            with context.begin_transaction():
                _run(context, key, multidb)


@contextmanager
def _connection_for(config: Config, state: MigrateState, key: str | None) -> Iterator[Connection]:
    """A caller-supplied connection (or engine) for the default database, else a new one.

    Callers such as pytest-alembic hand over an ``Engine`` rather than a
    ``Connection``; both are accepted. With a transaction per revision, work
    done outside any revision (the version table that ``ensure-version``
    creates) is left in the connection's implicit transaction; a connection
    we opened commits it after a clean run. A caller's connection is the
    caller's to commit.
    """
    from sqlalchemy.engine import Engine

    supplied = config.attributes.get("connection") if key is None else None
    if supplied is not None and not isinstance(supplied, Engine):
        yield supplied
        return
    engine = supplied if supplied is not None else _engine_for(state, key)
    with engine.connect() as connection:
        yield connection
        if connection.in_transaction():
            connection.commit()


def _engine_for(state: MigrateState, key: str | None) -> Engine:
    """The engine of the database ``key``."""
    return state.source.engine(key)


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
