"""The run of one database: its steps, what each step did, and the truth after a failure.

:class:`DatabaseRun` is made for each ``context.configure`` call of a run. It
hands Alembic the steps to take (checking the lock before each one), times
and reports each step, and watches the statements and commits on the
migration connection. From what it saw it knows, when a revision fails,
whether anything of it can have outlived the rollback:

* a statement that commits by itself (DDL on MariaDB/MySQL, any statement
  on a connection in autocommit mode);
* a commit inside the revision (Alembic's ``autocommit_block``).

Before the first such thing happens, the revision is noted in the run log
(:mod:`flask_schema.run.runlog`), so even a ``kill -9`` leaves the truth
behind; when nothing of the kind happened the revision rolled back whole
and nothing is recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from .. import alembic_private, compat
from ..errors import (
    DataLossRefused,
    FlaskSchemaError,
    HalfAppliedRevision,
    LockLost,
    MigrationFailed,
    RevisionError,
    sentence,
)
from .known import check_known
from .report import direction_of, first_line, path_of, plural, revision_of, where_in
from .request import DatabaseResult, RunRequest, StepReport
from .runlog import Entry, RunLog

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

    from ..backends import Backend
    from ..backends.lock import MigrationLock

log = logging.getLogger("flask_schema")


class DatabaseRun:
    """One database's part of a run."""

    def __init__(
        self,
        request: RunRequest,
        script: ScriptDirectory,
        result: DatabaseResult,
        connection: Connection,
        backend: Backend,
        lock: MigrationLock | None,
        statement_lock_timeout: float,
        external_transaction: bool,
    ) -> None:
        self.request = request
        self.script = script
        self.result = result
        self.label = result.label
        self.connection = connection
        self.engine: Engine = connection.engine
        self.backend = backend
        self.lock = lock
        self.statement_lock_timeout = statement_lock_timeout
        #: env.py began a transaction around the run: nothing commits until it ends.
        self.external_transaction = external_transaction
        self.context: MigrationContext | None = None
        self.runlog: RunLog | None = None
        self._own_runlog_connection: Connection | None = None
        # What the current step has done so far.
        self.step: Any = None
        self.step_started = 0.0
        self.noted = False
        self.lasting = 0
        self.committed_inside = False
        self.version_applied = False
        #: Steps that ran to the end but are not committed yet.
        self.uncommitted: list[Any] = []
        self.total = 0
        #: The commit that ended the last step checked the lock (so the next step need not).
        self.checked_at_commit = False
        #: For ``resolve``: the run log entry that was settled.
        self.resolved: Entry | None = None
        #: The run log lives on the migration connection and is only read (see _open_runlog).
        self.runlog_read_only = False
        #: For ``upgrade --phase pre``: the pending steps left for the post phase.
        self.held_back: list[Any] = []

    # -- set-up ------------------------------------------------------------------

    def attach(self, context: MigrationContext) -> None:
        """Called once Alembic made the migration context for this database."""
        self.context = context
        if self.request.changes_database and not self.backend.can_vanish(self.engine):
            self.runlog = self._open_runlog()

    def _open_runlog(self) -> RunLog:
        """The run log, on the connection that can write it when a revision cannot roll back.

        Server databases write it on the lock's own connection. Where every
        revision rolls back whole (SQLite, as the run drives it) nothing is
        ever noted, so the log is only read, on the migration connection:
        another connection would wait on the migration's write lock.
        """
        assert self.context is not None
        mutex = None
        if self.lock is not None and self.lock.connection is not None:
            connection, mutex = self.lock.connection, self.lock.mutex
        elif self.context.impl.transactional_ddl and not self._autocommit(self.connection):
            connection = self.connection
            self.runlog_read_only = True
        else:
            connection = self._helper_connection()
        return RunLog(connection, self.context.version_table, self.context.version_table_schema, mutex)

    @staticmethod
    def _autocommit(connection: Connection) -> bool:
        return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"

    def _helper_connection(self) -> Connection:
        if self._own_runlog_connection is None:
            self._own_runlog_connection = self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return self._own_runlog_connection

    def close(self) -> None:
        if self._own_runlog_connection is not None:
            try:
                self._own_runlog_connection.close()
            except Exception:
                log.debug("Could not close the run log connection.", exc_info=True)
            self._own_runlog_connection = None

    # -- around run_migrations ---------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around Alembic's ``run_migrations``: watchers, timeouts, the failure report."""
        from sqlalchemy import event

        connection = self.connection
        watchers: list[tuple[str, Callable[..., Any]]] = [
            ("before_cursor_execute", self._before_statement),
            ("after_cursor_execute", self._after_statement),
            ("commit", self._before_commit),
        ]
        started = time.monotonic()
        began_outside = connection.in_transaction()
        with ExitStack() as stack:
            stack.enter_context(self.backend.transactional_migrations(connection))
            if self.request.command in {"upgrade", "downgrade"}:
                from ..safety import data_loss_allowed

                stack.enter_context(self.backend.migration_session(connection, data_loss_allowed()))
                stack.enter_context(
                    self.backend.statement_lock_timeout(connection, self.statement_lock_timeout)
                )
            for name, watcher in watchers:
                event.listen(connection, name, watcher)
            try:
                self._back_up_if_pending()
                yield
                if not began_outside and connection.in_transaction():
                    # Work outside any revision (the version table made for a
                    # first run, ensure-version) is kept, whatever env.py does.
                    compat.commit(connection)
            except DataLossRefused as error:
                if self.step is None:
                    raise
                if self.committed_inside or self.lasting:
                    raise self._failure(error) from error
                self._forget_step()  # refused before its first change: nothing to resolve
                raise
            except FlaskSchemaError as error:
                if self.step is None or isinstance(error, (HalfAppliedRevision, RevisionError)):
                    raise
                raise self._failure(error) from error
            except Exception as error:
                if self.step is None:
                    raise
                raise self._failure(error) from error
            finally:
                for name, watcher in watchers:
                    event.remove(connection, name, watcher)
        if self.result.steps:
            seconds = time.monotonic() - started
            verb = "Applied" if self.request.command == "upgrade" else "Ran"
            log.info(
                "%s %s to %s in %.2fs; it is now at %s.",
                verb,
                plural(len(self.result.steps), "step"),
                self.label,
                seconds,
                ", ".join(self.result.heads) or "base",
            )

    def _back_up_if_pending(self) -> None:
        """Back up the database before Alembic touches it, if the command asked and will change it.

        This runs before Alembic's loop, which may create the version table
        (on MariaDB, for good) before the first step.
        """
        if self.request.backup is None or self.request.command not in {"upgrade", "downgrade"}:
            return
        assert self.context is not None
        heads = tuple(self.context.get_current_heads())
        check_known(self.script, self.label, heads)
        if not self._planned(heads):
            log.debug("Nothing to apply to %s; no backup taken.", self.label)
            return
        from ..backup import back_up

        back_up(self.connection, self.label, heads, self.request.backup)

    def version_applied_callback(self, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        """Alembic's ``on_version_apply``: the step's version row is written."""
        if ctx is self.context:
            self.version_applied = True
            self.result.heads = tuple(sorted(heads))

    # -- the steps ---------------------------------------------------------------

    def steps(self, heads: tuple[str, ...]) -> Iterator[Any]:
        """The steps Alembic takes, with the checks and reports around each one."""
        self.result.heads = tuple(heads)
        command = self.request.command
        if command == "read":
            if self.request.visit is not None:
                assert self.context is not None
                self.request.visit(self.label, self.context)
            return
        if command == "ensure_version":
            assert self.context is not None
            alembic_private.ensure_version_table(self.context)
            return
        if command == "resolve":
            yield from self._resolve(heads)
            return
        if command == "walk":
            yield from self._walk(heads)
            return
        check_known(self.script, self.label, heads)
        if command in {"upgrade", "downgrade"}:
            self._refuse_half_applied()
        planned = self._planned(heads)
        if self.result.held_back:
            from ..phases import describe_held_back

            log.info(describe_held_back(self.label, self.held_back))
        if not planned:
            if command in {"upgrade", "downgrade"} and not self.result.held_back:
                self._report_nothing_to_do(heads)
            return
        self.total = len(planned)
        if command in {"upgrade", "downgrade"}:
            log.info(
                "%s %s to %s (now at %s).",
                "Applying",
                plural(len(planned), "step"),
                self.label,
                ", ".join(heads) or "base",
            )
        for position, step in enumerate(planned, start=1):
            self._check_lock_before(step)
            self._begin(step)
            yield step
            self._end(step, position)

    def _walk(self, heads: tuple[str, ...]) -> Iterator[Any]:
        """Several moves up and down the history in one run (the pytest toolkit's walk).

        One ``env.py`` run and one connection instead of a command per move.
        Each move starts as a command of its own would, with Alembic's memo
        of the named types it already created cleared.
        """
        assert self.context is not None
        check_known(self.script, self.label, heads)
        # A stairway makes the same move twice (up, down, up); Alembic's path
        # search walks the whole ancestry, so each path is looked up once.
        paths: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}
        for index, (direction, target) in enumerate(self.request.moves):
            alembic_private.forget_created_types(self.context)
            planned = paths.get((direction, target, heads))
            if planned is None:
                if direction == "upgrade":
                    planned = alembic_private.upgrade_steps(self.script, target, heads)
                else:
                    planned = alembic_private.downgrade_steps(self.script, target, heads)
                paths[(direction, target, heads)] = planned
            for step in planned:
                self._check_lock_before(step)
                self._begin(step)
                yield step
                self._end(step, 0)
            heads = self.result.heads
            if self.request.after_move is not None:
                self.request.after_move(index)

    def _planned(self, heads: tuple[str, ...]) -> list[Any]:
        command, target = self.request.command, self.request.target
        if command == "upgrade":
            steps = alembic_private.upgrade_steps(self.script, str(target), heads)
            if self.request.phase == "pre":  # post-deploy revisions wait (see flask_schema.phases)
                from ..phases import held_back

                steps, self.held_back = held_back(steps)
                self.result.held_back = tuple(revision_of(step) or str(step) for step in self.held_back)
            return steps
        if command == "downgrade":
            return alembic_private.downgrade_steps(self.script, str(target), heads)
        if command == "stamp":
            return alembic_private.stamp_steps(self.script, target, heads)
        raise ValueError(f"unknown command {command!r}")

    def _begin(self, step: Any) -> None:
        self.step = step
        self.step_started = time.monotonic()
        self.noted = False
        self.lasting = 0
        self.committed_inside = False
        self.version_applied = False

    def _end(self, step: Any, position: int) -> None:
        """Alembic asked for the next step, so this one ran to its end."""
        seconds = time.monotonic() - self.step_started
        revision = revision_of(step)
        self.step = None
        if self.noted and self.runlog is not None and revision and not self._commits_later():
            self.runlog.finish(revision)
        if self._commits_later():
            self.uncommitted.append(step)
        self.result.steps.append(StepReport(self.label, str(step), revision, seconds))
        if self.request.command in {"upgrade", "downgrade"}:
            log.info("[%d/%d] %s: %s (%.2fs)", position, self.total, self.label, step, seconds)

    def _commits_later(self) -> bool:
        """Whether a finished step's transaction is still open when the next one starts."""
        assert self.context is not None
        if self.external_transaction:
            return True
        per_revision = bool(self.context.opts.get("transaction_per_migration"))
        return bool(self.context.impl.transactional_ddl) and not per_revision

    def _report_nothing_to_do(self, heads: tuple[str, ...]) -> None:
        current = ", ".join(heads) or "base"
        waited = self.result.waited
        if waited > 0.05:
            log.info(
                "Nothing to do for %s: another process brought it to %s while this one "
                "waited %.1fs for the lock.",
                self.label,
                current,
                waited,
            )
        else:
            log.info("Nothing to do for %s: it is already at %s.", self.label, current)

    # -- the lock ----------------------------------------------------------------

    def _check_lock_before(self, step: Any) -> None:
        """Check the lock before a step, unless the commit just before it was checked."""
        if not self.checked_at_commit:
            self._check_lock(f"before {step}")
        self.checked_at_commit = False

    def _check_lock(self, moment: str) -> None:
        if self.lock is None or self.lock.still_held():
            return
        detail = f"lost the migration lock {moment} ({self.lock.lost})"
        raise LockLost(
            f"{self.label}: this run {detail}, so it stopped rather than risk another process "
            f"migrating at the same time. {sentence(self._where_now())} Run the command again.",
            detail,
        )

    # -- watching the migration connection --------------------------------------

    def _lasts(self, connection: Connection, statement: str) -> bool:
        """Whether ``statement`` outlives a rollback of the step."""
        if self._autocommit(connection):
            return True
        assert self.context is not None
        return self.backend.commits_by_itself(statement, bool(self.context.impl.transactional_ddl))

    def _note(self) -> None:
        """Record the current step in the run log before it changes anything for good."""
        revision = revision_of(self.step)
        if self.noted or self.runlog is None or revision is None:
            return
        self._check_lock(f"before {self.step} changed the database")
        self.runlog.start(revision, direction_of(self.step))
        self.noted = True

    def _before_statement(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if self.step is not None and not self.noted and self._lasts(conn, statement):
            self._note()

    def _after_statement(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if self.step is not None and self._lasts(conn, statement):
            self.lasting += 1

    def _before_commit(self, conn: Any) -> None:
        if self.step is not None and not self.version_applied:
            # A commit in the middle of a revision (autocommit_block): what
            # ran so far is permanent from here on.
            self._note()
            self.committed_inside = True
            return
        if self.step is not None or self.uncommitted:
            # The commit that makes finished steps permanent.
            self._check_lock("before committing")
            self.checked_at_commit = True
            self.uncommitted = []

    # -- after a failure ---------------------------------------------------------

    def _forget_step(self) -> None:
        """The current step stopped having changed nothing: no run log entry stays."""
        revision = revision_of(self.step)
        if self.noted and self.runlog is not None and revision is not None:
            self.runlog.finish(revision)
            self.runlog.drop_if_empty()
        self.step = None

    def _failure(self, error: BaseException) -> MigrationFailed:
        step = self.step
        revision = revision_of(step) or "?"
        partial = self.committed_inside or self.lasting > 0
        if isinstance(error, LockLost):
            what = (
                f"{step} was stopped: this run {error.detail}, so that no other process "
                "migrates at the same time."
            )
        else:
            what = f"{step} failed: {first_line(error)}{where_in(error, path_of(step))}."
        if self.runlog is not None and self.noted:
            try:
                if partial:
                    self.runlog.fail(revision, first_line(error))
                else:
                    self.runlog.finish(revision)
                    self.runlog.drop_if_empty()
            except Exception:  # the report matters more than the log entry
                log.debug("Could not record the failure in the run log.", exc_info=True)
        if partial:
            part = revision if direction_of(step) == "upgrade" else f"{revision}'s downgrade"
            why = (
                "a commit inside it (autocommit_block) made its first part permanent"
                if self.committed_inside
                else "this database commits each DDL statement by itself"
            )
            state = (
                f"{self._where_now()[:-1]} and holds part of {part}, because {why}. Check it, "
                f"then run 'flask db resolve {revision} --applied' or '--rolled-back'."
            )
            if self.runlog is None:
                state = f"{self._where_now()[:-1]} and may hold part of {part}, because {why}."
        elif self.uncommitted:
            state = f"{self._where_now()} This run's revisions were rolled back."
        elif self.lasting == 0 and not self.backend_rolls_back():
            state = f"{self._where_now()} None of that revision's statements took effect."
        else:
            state = f"{self._where_now()} That revision was rolled back."
        self.step = None
        return MigrationFailed(f"{self.label}: {what} {state}")

    def backend_rolls_back(self) -> bool:
        assert self.context is not None
        return bool(self.context.impl.transactional_ddl)

    def _where_now(self) -> str:
        """``The database is at X.`` read from the committed version table."""
        try:
            heads = self.committed_heads()
        except Exception as error:  # the database may be gone altogether
            return f"Its current revision could not be read: {first_line(error)}."
        return f"The database is at {', '.join(heads) or 'base (no revision)'}."

    def committed_heads(self) -> tuple[str, ...]:
        """The version table as other connections see it now."""
        from alembic.runtime.migration import MigrationContext

        assert self.context is not None
        opts = {
            "version_table": self.context.version_table,
            "version_table_schema": self.context.version_table_schema,
        }
        on_lock = self.lock is not None and self.lock.connection is not None
        if self.runlog is not None and on_lock and self.lock is not None and self.lock.lost is None:
            with self._runlog_mutex():
                return tuple(
                    MigrationContext.configure(self.runlog.connection, opts=opts).get_current_heads()
                )
        with self.engine.connect() as reader:
            return tuple(MigrationContext.configure(reader, opts=opts).get_current_heads())

    def _runlog_mutex(self) -> Any:
        from contextlib import nullcontext

        return (
            self.lock.mutex if self.lock is not None and self.lock.connection is not None else nullcontext()
        )

    # -- half-applied revisions --------------------------------------------------

    def settle(self) -> list[Entry]:
        """Drop run log entries the version table shows as done; return the rest."""
        if self.runlog is None or not self.runlog.exists():
            return []
        applied = self._applied(self.committed_heads())

        def is_done(entry: Entry) -> bool | None:
            if applied is None or not self._known(entry.revision):
                return None
            if entry.direction == "upgrade":
                return entry.revision in applied
            return entry.revision not in applied

        return self.runlog.settle(is_done)

    def finish_run(self) -> None:
        """After ``env.py`` ended cleanly: settle the run log and drop it once empty."""
        if self.runlog is None or self.runlog_read_only:
            return
        try:
            if self.runlog.exists() and not self.settle():
                self.runlog.drop_if_empty()
        except Exception:
            log.debug("Could not tidy the run log of %s.", self.label, exc_info=True)

    def _applied(self, heads: tuple[str, ...]) -> set[str] | None:
        try:
            return {found.revision for found in self.script.iterate_revisions(heads, "base")}
        except Exception:
            return None

    def _known(self, revision: str) -> bool:
        try:
            return self.script.get_revision(revision) is not None
        except Exception:
            return False

    def _refuse_half_applied(self) -> None:
        left = self.settle()
        if not left:
            return
        first = left[0]
        detail = f" Its error was: {sentence(first.error)}" if first.error else ""
        if not self._known(first.revision):
            raise HalfAppliedRevision(
                f"{self.label}: {first.describe()}, so the database may hold part of it, and "
                f"{first.revision} is no longer in the migrations folder (its file was deleted or "
                f"written anew).{detail} Undo what is left of it by hand (or check that nothing "
                f"is), then run 'flask db resolve {first.revision} --rolled-back'."
            )
        raise HalfAppliedRevision(
            f"{self.label}: {first.describe()}, so the database may hold part of it.{sentence(detail)} "
            "Check the database by hand, then run "
            f"'flask db resolve {first.revision} --applied' if its changes are all there, or "
            f"'flask db resolve {first.revision} --rolled-back' once you have undone them."
        )

    def _resolve(self, heads: tuple[str, ...]) -> Iterator[Any]:
        """Settle one half-applied revision, as ``stamp`` would, under the lock."""
        assert self.request.resolve is not None
        wanted, applied = self.request.resolve
        if self.runlog is None:
            return
        entries = self.runlog.entries()
        entry = next((e for e in entries if e.revision == wanted), None)
        if entry is None:
            matches = [e for e in entries if e.revision.startswith(wanted)]
            entry = matches[0] if len(matches) == 1 else None
        if entry is None:
            return
        if applied:
            if not self._known(entry.revision):
                raise RevisionError(
                    f"{self.label}: {entry.revision} is not in the migrations folder, so it cannot "
                    "be recorded as applied. Put its file back, or undo what it did and run "
                    f"'flask db resolve {entry.revision} --rolled-back'."
                )
            if entry.direction == "upgrade":
                targets: tuple[str, ...] = (entry.revision,)
            else:
                found = self.script.get_revision(entry.revision)
                down = found.down_revision if found is not None else None
                if isinstance(down, (list, tuple)):
                    targets = tuple(down)
                else:
                    targets = (down,) if down else ("base",)
            yield from alembic_private.stamp_steps(self.script, targets, heads)
        self.runlog.finish(entry.revision)
        self.result.steps.clear()
        self.resolved = entry
