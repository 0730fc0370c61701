"""Run ``env.py`` once, under an environment that owns the lock and the run's safety.

Alembic's ``env.py`` talks to the :class:`~alembic.runtime.environment.EnvironmentContext`
it finds behind ``from alembic import context``. :class:`RunEnvironment` is
that context for every flask_schema command that touches the database, and
it adds what makes the run safe at the two calls every ``env.py`` makes,
whoever wrote it:

``configure(connection=...)``
    Names the database, takes its migration lock (keeping the ``env.py``'s
    own connection alive while it waits), and adds our options
    (``transaction_per_migration``, the ``on_version_apply`` hook, the
    filter hiding our own tables) to whatever the ``env.py`` passed.
``run_migrations()``
    Runs Alembic's loop inside the :class:`~flask_schema.run.database.DatabaseRun`
    of that database: statement timeouts, SQLite's transactional DDL, the
    run log, the step reports and the failure report.

The steps themselves come from the work function this module hands Alembic,
so the revisions to run are read only once the lock is held.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from alembic.runtime.environment import EnvironmentContext

from .. import compat, settings
from ..internal_tables import skip_internal_tables
from ..selection import require_honoured
from .database import DatabaseRun
from .keeper import LockKeeper, keeping
from .request import DatabaseResult, RunRequest, RunResult, activate, deactivate

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

    from ..backends import Backend
    from ..backends.lock import MigrationLock

log = logging.getLogger("flask_schema")

#: The ``context.configure`` option naming the bind a migration context
#: belongs to; the ``env.py`` that ``flask db init`` writes passes it.
BIND_OPTION = "flask_schema_bind"


def execute(config: Config, script: ScriptDirectory, request: RunRequest) -> RunResult:
    """Run the project's ``env.py`` once for ``request`` and return what happened."""
    from flask import current_app

    from ..safety import install_drop_notices

    install_drop_notices()
    app_config = current_app.config
    result = RunResult()
    interval = float(settings.resolve("keepalive_interval", app_config))
    token = activate(request)
    with keeping(interval) as keeper:
        environment = RunEnvironment(config, script, request, result, keeper, app_config)
        try:
            with environment:
                script.run_env()
            environment.finish()
        finally:
            environment.close()
            deactivate(token)
    for notice in result.notices:
        log.warning(notice)
    return result


class RunEnvironment:
    """The environment every flask_schema database command runs ``env.py`` under.

    It holds Alembic's own :class:`EnvironmentContext` and wraps two of its
    methods on that instance: ``env.py`` reaches the context through
    Alembic's module proxy (``from alembic import context``), which looks
    each method up on the instance, so whatever ``env.py`` calls
    ``configure`` and ``run_migrations`` on comes here first.
    """

    def __init__(
        self,
        config: Config,
        script: ScriptDirectory,
        request: RunRequest,
        result: RunResult,
        keeper: LockKeeper,
        app_config: Any,
    ) -> None:
        self.script = script
        self.request = request
        self.result = result
        self.keeper = keeper
        self.app_config = app_config
        self.runs: list[DatabaseRun] = []
        self.current: DatabaseRun | None = None
        self.locks: dict[tuple[str, str], MigrationLock | None] = {}
        options: dict[str, Any] = {
            "fn": self._work,
            "as_sql": request.sql,
            "tag": request.tag,
            "dont_mutate": request.command == "read",
        }
        if request.command == "stamp":
            options["purge"] = request.purge
        if request.sql:
            options["starting_rev"] = request.starting_rev
            options["destination_rev"] = request.target
        self.context = EnvironmentContext(config, script, **options)
        self._alembic_configure = self.context.configure
        self._alembic_run_migrations = self.context.run_migrations
        setattr(self.context, "configure", self.configure)  # noqa: B010 - see the class docstring
        setattr(self.context, "run_migrations", self.run_migrations)  # noqa: B010

    def __enter__(self) -> RunEnvironment:
        self.context.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.context.__exit__(*exc_info)

    # -- what env.py calls ----------------------------------------------------

    def configure(self, connection: Connection | None = None, **kw: Any) -> None:
        """``context.configure``, with the lock and our options added."""
        # An env.py that calls logging.config.fileConfig() (Flask-Migrate's do)
        # disables every logger its alembic.ini does not name, ours included;
        # the run's reports must still be seen.
        log.disabled = False
        require_honoured("this env.py")  # before any lock or step: it ran run_env or not
        if connection is None or self.request.sql:
            self._alembic_configure(connection=connection, **kw)
            return
        from ..backends import backend_for

        backend = backend_for(connection.dialect.name)
        key = kw.get(BIND_OPTION, _MISSING)
        if key is _MISSING:
            key = _bind_key_of(connection.engine)
        label = "default" if key is None else str(key)
        version_table = str(kw.get("version_table") or "alembic_version")
        schema = kw.get("version_table_schema")
        found = self.result.databases.setdefault(key, DatabaseResult(key, label))
        lock = self._lock_for(connection, backend, version_table, schema, found)
        external = connection.in_transaction()
        per_revision = bool(settings.resolve("transaction_per_revision", self.app_config))
        kw.setdefault("transaction_per_migration", per_revision)
        if external and kw["transaction_per_migration"] and self.request.changes_database:
            self.result.notices.append(
                f"{label}: each revision is not committed by itself, because env.py begins a "
                "transaction around the whole run; 'flask db upgrade-env' replaces env.py with "
                "the one 'flask db init' writes, which commits after each revision."
            )
        if backend.makes_ddl_transactional(connection):
            kw.setdefault("transactional_ddl", True)
        kw["include_name"] = skip_internal_tables(kw.get("include_name"), version_table)
        run = DatabaseRun(
            self.request,
            self.script,
            found,
            connection,
            backend,
            lock,
            float(settings.resolve("statement_lock_timeout", self.app_config)),
            external,
        )
        user_hooks = kw.get("on_version_apply") or ()
        if callable(user_hooks):
            user_hooks = (user_hooks,)
        kw["on_version_apply"] = (*user_hooks, run.version_applied_callback)
        self._alembic_configure(connection=connection, **kw)
        run.attach(self.context.get_context())
        self.runs.append(run)
        self.current = run

    def run_migrations(self, **kw: Any) -> None:
        """``context.run_migrations``, inside the current database's run."""
        run = self.current
        if run is None or self.request.sql:
            self._alembic_run_migrations(**kw)
            return
        with run.running():
            self._alembic_run_migrations(**kw)

    # -- the work Alembic asks for -------------------------------------------

    def _work(self, heads: Any, context: Any) -> Any:
        run = next((run for run in self.runs if run.context is context), None)
        if run is None:  # offline (--sql): the plain steps
            return _offline_steps(self.request, self.script, tuple(heads), context)
        return run.steps(tuple(heads))

    # -- the lock -------------------------------------------------------------

    def _lock_for(
        self,
        connection: Connection,
        backend: Backend,
        version_table: str,
        schema: str | None,
        found: DatabaseResult,
    ) -> MigrationLock | None:
        """Take (once per database and version table) the lock, if the command needs it."""
        if not self.request.changes_database:
            return None
        if not settings.resolve("lock", self.app_config, None, self.request.lock):
            return None
        engine: Engine = connection.engine
        place = (engine.url.render_as_string(hide_password=True), f"{schema}.{version_table}")
        if place in self.locks:
            return self.locks[place]
        lock = backend.lock(
            engine,
            version_table,
            schema,
            float(settings.resolve("lock_timeout", self.app_config, None, self.request.lock_timeout)),
            log.info,
            method=str(settings.resolve("lock_method", self.app_config)),
            lease=float(settings.resolve("lock_lease", self.app_config)),
        )
        self.locks[place] = lock
        if lock is None:
            return None
        ping = _pinger(connection, self.keeper.interval) if backend.closes_idle_connections else None
        lock.acquire(on_poll=ping)
        found.waited = lock.waited
        self.keeper.add(lock)
        return lock

    # -- the end ---------------------------------------------------------------

    def finish(self) -> None:
        """After ``env.py`` returned: tidy each database's run log."""
        for run in self.runs:
            if run.resolved is not None:
                self.result.resolved.append((run.label, run.resolved.describe()))
            if self.request.changes_database:
                run.finish_run()

    def close(self) -> None:
        self.keeper.stop()
        for run in self.runs:
            run.close()
        for lock in self.locks.values():
            if lock is not None:
                lock.close()


_MISSING = object()


def _bind_key_of(engine: Engine) -> Any:
    """The app's bind key for an engine an ``env.py`` connected with.

    Flask-Migrate's ``env.py`` files use the app's own engines; older ones
    build an engine from the same URL, so a match by URL counts too. A
    database the app does not know is named by its URL, without password.
    """
    from ..state import get_state

    engines = get_state().source.engines()
    for key, candidate in engines.items():
        if candidate is engine:
            return key
    for key, candidate in engines.items():
        if _same_database(candidate.url, engine.url):
            return key
    return engine.url.render_as_string(hide_password=True)


def _same_database(first: Any, second: Any) -> bool:
    """Whether two URLs name one database (drivers, passwords and options aside).

    Flask-SQLAlchemy adds options to the URL it is given (``charset`` on
    MySQL), so an ``env.py`` that builds its engine from the configured URL
    has a URL that differs from the app engine's only in those.
    """
    from ..backends import backend_for

    def place(url: Any) -> tuple[Any, ...]:
        return (url.username, *backend_for(url.get_backend_name()).database_identity(url))

    return place(first) == place(second)


def _pinger(connection: Connection, interval: float) -> Any:
    """Touch ``connection`` every ``interval`` seconds while a lock is awaited.

    ``env.py`` opened it before asking for the lock; a server's idle timeout
    would close it during a long wait. A transaction we began for the touch
    is ended again so Alembic sees the connection as it was.
    """
    import time

    last = time.monotonic()

    def ping() -> None:
        nonlocal last
        if interval <= 0 or time.monotonic() - last < interval:
            return
        last = time.monotonic()
        began = not connection.in_transaction()
        connection.exec_driver_sql("SELECT 1")
        if began:
            compat.rollback(connection)

    return ping


def _offline_steps(request: RunRequest, script: ScriptDirectory, heads: tuple[str, ...], context: Any) -> Any:
    from .. import alembic_private

    if request.command == "ensure_version":
        alembic_private.ensure_version_table(context)
        return []
    if request.command == "upgrade":
        return alembic_private.upgrade_steps(script, str(request.target), heads)
    if request.command == "downgrade":
        return alembic_private.downgrade_steps(script, str(request.target), heads)
    if request.command == "stamp":
        return alembic_private.stamp_steps(script, request.target, heads)
    return []
