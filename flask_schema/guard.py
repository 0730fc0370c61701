"""What makes a migration run safe to start from every replica of a deploy.

:mod:`flask_schema.runtime` runs each database inside a :class:`RunGuard`:

1. take the migration lock (:mod:`flask_schema.lock`) on its own connection,
   before anything reads or creates the version table;
2. refuse to run over a revision an earlier run left half-applied
   (:mod:`flask_schema.runlog`);
3. limit how long migration statements wait for table locks;
4. time each step, note it in the run log, and when a step fails, say which
   revision failed, where in its file, and what state the database is in.

The revisions to run are read only once the lock is held, so a replica that
waited finds the work done and says so.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import settings
from .backends import backend_for
from .backends.lock import MigrationLock
from .errors import HalfAppliedRevision, MigrationFailed, sentence
from .runlog import RunLog
from .runlog import table_name as runlog_table_name
from .status_report import check_known

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("flask_schema")

#: ``config.attributes`` keys the API sets for the run.
COMMAND_ATTRIBUTE = "flask_schema.command"
LOCK_ATTRIBUTE = "flask_schema.lock"
LOCK_TIMEOUT_ATTRIBUTE = "flask_schema.lock_timeout"
RESOLVE_ATTRIBUTE = "flask_schema.resolve"
RESOLVED_ATTRIBUTE = "flask_schema.resolved"
STEPS_ATTRIBUTE = "flask_schema.steps"

#: Commands that change the database, and so take the lock.
CHANGING_COMMANDS = {"upgrade", "downgrade", "stamp", "ensure_version", "resolve"}


class RunGuard:
    """Guards the run of one database: lock, run log, timeouts, failure report."""

    def __init__(
        self, config: Config, app_config: Any, engine: Engine, label: str, options: dict[str, Any]
    ) -> None:
        self.config = config
        self.engine = engine
        self.label = label
        self.command = config.attributes.get(COMMAND_ATTRIBUTE)
        self.version_table = str(options.get("version_table") or "alembic_version")
        self.version_table_schema: str | None = options.get("version_table_schema")
        self.use_lock = self.command in CHANGING_COMMANDS and bool(
            settings.resolve("lock", app_config, None, config.attributes.get(LOCK_ATTRIBUTE))
        )
        self.lock_timeout = float(
            settings.resolve("lock_timeout", app_config, None, config.attributes.get(LOCK_TIMEOUT_ATTRIBUTE))
        )
        self.statement_lock_timeout = float(settings.resolve("statement_lock_timeout", app_config))
        self.per_revision = bool(settings.resolve("transaction_per_revision", app_config))
        self.lock: MigrationLock | None = None
        self.runlog: RunLog | None = None
        self.current_step: Any = None

    # -- around the whole run ----------------------------------------------------

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the migration lock (when this command takes it) for the block."""
        if not self.use_lock:
            yield
            return
        lock = backend_for(self.engine.dialect.name).lock(
            self.engine,
            self.version_table,
            self.version_table_schema,
            self.lock_timeout,
            log.info,
        )
        if lock is None:
            yield
            return
        try:
            lock.acquire()
            self.lock = lock
            yield
        finally:
            lock.close()

    def configure_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Add ours to the ``context.configure`` options."""
        options.setdefault("transaction_per_migration", self.per_revision)
        options["include_name"] = _skip_runlog(options.get("include_name"), self.version_table)
        return options

    @contextmanager
    def running(self, connection: Connection, context: Any) -> Iterator[None]:
        """Around ``run_migrations``: run log, statement timeouts, failure report."""
        migration_context: MigrationContext = context.get_context()
        if self.command not in {"upgrade", "downgrade", "resolve"} or connection is None:
            yield
            return
        if not migration_context.impl.transactional_ddl and _is_file_or_server(self.engine):
            self.runlog = RunLog(
                self.engine.connect().execution_options(isolation_level="AUTOCOMMIT"),
                self.version_table,
                self.version_table_schema,
            )
        try:
            if self.command == "resolve":
                self._wrap_resolve(migration_context, context.script)
                yield
            else:
                self._refuse_half_applied()
                self._wrap_steps(migration_context, context.script)
                with _statement_lock_timeout(connection, self.statement_lock_timeout):
                    try:
                        yield
                    except Exception as error:
                        if self.current_step is None:
                            raise
                        raise self._failure(error, connection) from error
            if self.runlog is not None:
                self.runlog.drop_if_empty()
        finally:
            if self.runlog is not None:
                self.runlog.connection.close()

    # -- the steps ---------------------------------------------------------------

    def _wrap_steps(self, migration_context: MigrationContext, script: Any) -> None:
        """Read the steps once the lock is held, and time and log each one.

        Alembic hands the steps over through the context's work function;
        wrapping it is the one place that sees each step begin and commit.
        """
        work = getattr(migration_context, "_migrations_fn", None)
        if work is None:
            return

        def guarded_work(heads: Any, ctx: Any) -> Iterator[Any]:
            check_known(script, self.label, tuple(heads))
            steps = list(work(heads, ctx))
            if not steps:
                self._report_nothing_to_do(heads)
                return
            self.about_to_apply_changes(steps, heads)
            for step in steps:
                started = time.monotonic()
                self._begin_step(step)
                yield step
                self._end_step(step, time.monotonic() - started)

        migration_context._migrations_fn = guarded_work

    def _wrap_resolve(self, migration_context: MigrationContext, script: Any) -> None:
        """Replace the work with the resolution of one half-applied revision."""
        revision, applied = self.config.attributes[RESOLVE_ATTRIBUTE]
        runlog = self.runlog

        def resolve_work(heads: Any, ctx: Any) -> Iterator[Any]:
            if runlog is None:
                return
            entry = next((e for e in runlog.entries() if e.revision == revision), None)
            if entry is None:
                return
            if applied:
                if entry.direction == "upgrade":
                    targets: tuple[str, ...] = (revision,)
                else:
                    found = script.get_revision(revision)
                    down = found.down_revision if found is not None else None
                    targets = (
                        tuple(down) if isinstance(down, (list, tuple)) else ((down,) if down else ("base",))
                    )
                yield from script._stamp_revs(targets, heads)
            runlog.finish(revision)
            self.config.attributes.setdefault(RESOLVED_ATTRIBUTE, []).append((self.label, entry))

        migration_context._migrations_fn = resolve_work

    def about_to_apply_changes(self, steps: list[Any], heads: Any) -> None:
        """Called once, with the lock held, right before the first revision runs.

        Only runs when something is pending. Anything that must happen before
        a database changes (a backup, a notice) belongs here.
        """
        current = ", ".join(heads) or "base"
        log.info(
            "Applying %d step%s to %s (now at %s).",
            len(steps),
            "" if len(steps) == 1 else "s",
            self.label,
            current,
        )

    def _report_nothing_to_do(self, heads: Any) -> None:
        current = ", ".join(heads) or "base"
        if self.lock is not None and self.lock.waited > 0.05:
            log.info(
                "Nothing to do for %s: another process brought it to %s while this one "
                "waited %.1fs for the lock.",
                self.label,
                current,
                self.lock.waited,
            )
        else:
            log.info("Nothing to do for %s: it is already at %s.", self.label, current)

    def _begin_step(self, step: Any) -> None:
        if self.runlog is not None and _revision_of(step) is not None:
            self.runlog.start(_revision_of(step) or "", _direction(step))
        # Set only now: a failure in the run log itself is not the revision's.
        self.current_step = step

    def _end_step(self, step: Any, seconds: float) -> None:
        if self.runlog is not None and _revision_of(step) is not None:
            self.runlog.finish(_revision_of(step) or "")
        self.current_step = None
        self.config.attributes.setdefault(STEPS_ATTRIBUTE, []).append((self.label, str(step), seconds))
        log.info("  %s: %s (%.2fs)", self.label, step, seconds)

    def _refuse_half_applied(self) -> None:
        if self.runlog is None:
            return
        entries = self.runlog.entries()
        if not entries:
            return
        first = entries[0]
        detail = f" Its error was: {first.error}" if first.error else ""
        raise HalfAppliedRevision(
            f"{self.label}: {first.describe()}, so the database may hold part of it.{sentence(detail)} "
            "Check the database by hand, then run "
            f"'flask db resolve {first.revision} --applied' if its changes are all there, or "
            f"'flask db resolve {first.revision} --rolled-back' once you have undone them."
        )

    def _failure(self, error: BaseException, connection: Connection) -> MigrationFailed:
        step = self.current_step
        revision = _revision_of(step) or "?"
        path = getattr(getattr(step, "revision", None), "path", None)
        where = _where_in(error, path)
        first_line = _first_line(error)
        try:
            state = self._state_after_failure(step)
        except Exception as read_error:  # the database may be gone altogether
            state = f"Its current revision could not be read: {_first_line(read_error)}."
        if self.runlog is not None:
            try:
                self.runlog.fail(revision, first_line)
            except Exception:  # the report matters more than the log entry
                log.debug("Could not record the failure in the run log.", exc_info=True)
        return MigrationFailed(f"{self.label}: {step} failed: {first_line}{where}. {state}")

    def _state_after_failure(self, step: Any) -> str:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as reader:
            heads = MigrationContext.configure(
                reader,
                opts={
                    "version_table": self.version_table,
                    "version_table_schema": self.version_table_schema,
                },
            ).get_current_heads()
        at = ", ".join(heads) or "base (no revision)"
        revision = _revision_of(step)
        if self.runlog is not None:
            part = revision if _direction(step) == "upgrade" else f"{revision}'s downgrade"
            return (
                f"The database is at {at} and may hold part of {part}, because this "
                "database commits each DDL statement by itself. Check it, then run "
                f"'flask db resolve {revision} --applied' or '--rolled-back'."
            )
        undone = "that revision was" if self.per_revision else "this run's revisions were"
        return f"The database is at {at}; {undone} rolled back."


def _revision_of(step: Any) -> str | None:
    script = getattr(step, "revision", None)
    revision = getattr(script, "revision", None)
    return str(revision) if revision is not None else None


def _direction(step: Any) -> str:
    return "upgrade" if getattr(step, "is_upgrade", True) else "downgrade"


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    line = (text.splitlines() or [""])[0]
    return f"{type(orig or error).__name__}: {line}" if line else type(orig or error).__name__


def _where_in(error: BaseException, path: str | None) -> str:
    """``(file, line N)`` of the deepest frame inside the revision file."""
    if not path:
        return ""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == os.path.abspath(path):
            found = frame
    if found is None:
        return f" (in {os.path.relpath(path)})"
    return f" (at {os.path.relpath(found.filename)}, line {found.lineno}: {found.line})"


def _is_file_or_server(engine: Engine) -> bool:
    from .backends.sqlite import sqlite_path

    return engine.dialect.name != "sqlite" or sqlite_path(engine) is not None


@contextmanager
def _statement_lock_timeout(connection: Connection, seconds: float) -> Iterator[None]:
    """Make migration statements give up waiting for table locks after ``seconds``."""
    dialect = connection.dialect.name
    if seconds <= 0 or dialect not in {"postgresql", "mysql", "mariadb"}:
        yield
        return
    if dialect == "postgresql":
        setting = f"SET lock_timeout = {int(seconds * 1000)}"
        reset = "RESET lock_timeout"
    else:
        setting = f"SET SESSION lock_wait_timeout = {max(int(round(seconds)), 1)}"
        reset = "SET SESSION lock_wait_timeout = DEFAULT"
    connection.exec_driver_sql(setting)
    connection.commit()
    try:
        yield
    finally:
        try:
            if connection.in_transaction():
                connection.rollback()
            connection.exec_driver_sql(reset)
            connection.commit()
        except Exception:  # a broken connection is discarded by the pool anyway
            log.debug("Could not reset the statement lock timeout.", exc_info=True)


def _skip_runlog(user_hook: Callable[..., bool] | None, version_table: str) -> Callable[..., bool]:
    """Keep autogenerate from proposing to drop the run log table."""
    name_to_skip = runlog_table_name(version_table)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table" and name == name_to_skip:
            return False
        return user_hook(name, type_, parent_names) if user_hook is not None else True

    return include_name
