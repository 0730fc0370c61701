"""The migration lock's shared shape, and the generic lock any SQL database can hold.

Deploys run ``flask db upgrade`` from every replica at once; the lock lets
one of them change the schema while the others wait and then find the work
done. Each family module gives a lock that dies with its holder (a session
lock on the server, a file lock the kernel drops). :class:`TableLock` is the
fallback for every other SQL database: a row in a lock table with a lease
its holder renews, which a waiter takes over once the holder stopped
renewing it.

A lock is held for the length of a command, which can be much longer than a
server or proxy lets an idle connection live. So every lock can be kept
alive (:meth:`MigrationLock.keep_alive`, called from a background thread)
and asked whether it is still held (:meth:`MigrationLock.still_held`),
which the run does before each revision and before each commit.
"""

from __future__ import annotations

import abc
import datetime
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import LockTimeout
from ..internal_tables import lock_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: How often a waiter tries again, and how often it says who holds the lock.
POLL_SECONDS = 0.25
REPORT_EVERY_SECONDS = 30.0

Notify = Callable[[str], None]


def lock_name(version_table: str, version_table_schema: str | None) -> str:
    """The text every lock key is derived from: one lock per version table."""
    return f"flask_schema:{version_table_schema or ''}.{version_table}"


def holder_description() -> str:
    """Who this process is, for the waiters' messages."""
    return f"host {socket.gethostname()}, pid {os.getpid()}"


def clock(moment: Any) -> str:
    """A timestamp as people read it, without microseconds."""
    if isinstance(moment, datetime.datetime):
        return moment.replace(microsecond=0).isoformat(" ")
    return str(moment)


class MigrationLock(abc.ABC):
    """Wait for the lock until a deadline, saying who holds it; keep it while held."""

    #: How messages name the database.
    database_label = "the database"

    def __init__(
        self, name: str, timeout: float, notify: Notify, connection: Connection | None = None
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.notify = notify
        #: The autocommit connection the lock lives on (``None`` for a file lock).
        #: The run log is written on it too, so it is the one connection to keep alive.
        self.connection = connection
        #: Seconds spent waiting for another holder; 0 when the lock was free.
        self.waited = 0.0
        #: Set when the lock was found lost: why, in a few words.
        self.lost: str | None = None
        #: Serialises use of :attr:`connection` between the run and the keep-alive thread.
        self.mutex = threading.RLock()

    @abc.abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never wait."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lock back."""

    @abc.abstractmethod
    def check_held(self) -> bool:
        """Ask the database whether this process still holds the lock."""

    def describe_holder(self) -> str | None:
        """Who holds the lock, when the database can tell."""
        return None

    def query(self, sql: str, **params: Any) -> Any:
        """The first row of ``sql`` run on the lock's connection (shared with the keep-alive thread)."""
        from sqlalchemy import text

        assert self.connection is not None
        with self.mutex:
            return self.connection.execute(text(sql), params).first()

    def scalar(self, sql: str, **params: Any) -> Any:
        """The first value of :meth:`query`."""
        row = self.query(sql, **params)
        return row[0] if row is not None else None

    def renew(self) -> None:
        """Keep the lock's connection and lease alive; raise if that fails."""
        if self.connection is not None:
            from sqlalchemy import text

            self.connection.execute(text("SELECT 1"))

    def keep_alive(self) -> None:
        """Called every few seconds while the lock is held; notes a loss in :attr:`lost`."""
        with self.mutex:
            if self.lost is not None:
                return
            try:
                self.renew()
            except Exception as error:
                self.lost = f"its connection failed ({_first_line(error)})"

    def still_held(self) -> bool:
        """Whether the lock is still ours; once lost it stays lost."""
        with self.mutex:
            if self.lost is not None:
                return False
            try:
                held = self.check_held()
            except Exception as error:
                self.lost = f"its connection failed ({_first_line(error)})"
                return False
            if not held:
                self.lost = "the database no longer shows it as ours"
            return held

    def acquire(self, on_poll: Callable[[], None] | None = None) -> None:
        """Wait for the lock; ``on_poll`` runs between tries (to keep other connections alive)."""
        started = time.monotonic()
        deadline = started + self.timeout
        next_report = started
        while not self.try_acquire():
            now = time.monotonic()
            if now >= next_report:
                holder = self.describe_holder()
                who = f" held by {holder}" if holder else " held by another process"
                self.notify(
                    f"Waiting for the migration lock on {self.database_label}{who} "
                    f"(giving up after {self.timeout:g}s)."
                )
                next_report = now + REPORT_EVERY_SECONDS
            if now >= deadline:
                holder = self.describe_holder()
                who = f" It is held by {holder}." if holder else ""
                raise LockTimeout(
                    f"Gave up waiting for the migration lock on {self.database_label} after "
                    f"{self.timeout:g}s.{who} Another 'flask db' command is changing the schema; "
                    "wait for it, or raise the limit with --lock-timeout or MIGRATE_LOCK_TIMEOUT."
                )
            if on_poll is not None:
                on_poll()
            time.sleep(min(POLL_SECONDS, max(deadline - now, 0.0)))
        self.waited = time.monotonic() - started

    def close(self) -> None:
        """Release the lock if it is still held, and close its connection for real."""
        with self.mutex:
            try:
                if self.lost is None:
                    self.release()
            except Exception:
                pass  # a lost connection already dropped a session lock
            finally:
                if self.connection is not None:
                    # Never pooled: no session lock or setting of ours outlives the command.
                    try:
                        self.connection.invalidate()
                        self.connection.close()
                    except Exception:
                        pass


class TableLock(MigrationLock):
    """A lock held as a row of a lock table, for SQL databases with no session lock.

    The holder renews its lease by bumping a counter; a waiter that sees the
    counter stand still for :attr:`lease` seconds (by its own clock, so the
    hosts' clocks need not agree) takes the lock over with a conditional
    update that only one waiter can win. A holder that died is so replaced
    after one lease; one that lives on finds the row changed and stops.
    """

    def __init__(
        self,
        connection: Connection,
        name: str,
        table: str,
        schema: str | None,
        timeout: float,
        notify: Notify,
        lease: float,
    ) -> None:
        super().__init__(name, timeout, notify, connection)
        self.lease = lease
        self.token = f"{uuid.uuid4().hex[:12]} {holder_description()}"[:200]
        self.table = _lock_table(table, schema)
        database = connection.engine.url.database or connection.engine.url.host or "?"
        self.database_label = f"{connection.dialect.name} database '{database}' (lock table)"
        self._seen: tuple[Any, Any] | None = None
        self._seen_since = 0.0
        self._ensure_table()

    def _ensure_table(self) -> None:
        from sqlalchemy import inspect

        assert self.connection is not None
        if inspect(self.connection).has_table(self.table.name, schema=self.table.schema):
            return
        try:
            self.table.create(self.connection, checkfirst=True)
        except Exception:
            # Another process created it at the same moment; any other problem shows next.
            if not inspect(self.connection).has_table(self.table.name, schema=self.table.schema):
                raise

    def try_acquire(self) -> bool:
        from sqlalchemy.exc import IntegrityError

        assert self.connection is not None
        table = self.table
        with self.mutex:
            row = self.connection.execute(table.select().where(table.c.name == self.name)).first()
            if row is None:
                try:
                    self.connection.execute(table.insert().values(name=self.name, holder=self.token, beat=0))
                except IntegrityError:
                    return False  # another waiter inserted it first
                return True
            if row.holder is None:
                return self._update_if(row.holder, row.beat)
            if self._seen != (row.holder, row.beat):
                self._seen = (row.holder, row.beat)
                self._seen_since = time.monotonic()
                return False
            if time.monotonic() - self._seen_since < self.lease:
                return False
            self.notify(
                f"Taking over the migration lock on {self.database_label}: its holder "
                f"({row.holder}) has not renewed it for {self.lease:g}s."
            )
            return self._update_if(row.holder, row.beat)

    def _update_if(self, holder: Any, beat: Any) -> bool:
        assert self.connection is not None
        table = self.table
        condition = table.c.holder.is_(None) if holder is None else table.c.holder == holder
        result = self.connection.execute(
            table.update()
            .where(table.c.name == self.name, condition, table.c.beat == beat)
            .values(holder=self.token, beat=0)
        )
        return bool(result.rowcount == 1)

    def renew(self) -> None:
        assert self.connection is not None
        table = self.table
        result = self.connection.execute(
            table.update()
            .where(table.c.name == self.name, table.c.holder == self.token)
            .values(beat=table.c.beat + 1)
        )
        if result.rowcount != 1:
            raise LockTimeout("another process took the lock over")

    def check_held(self) -> bool:
        assert self.connection is not None
        table = self.table
        holder = self.connection.execute(
            table.select().with_only_columns(table.c.holder).where(table.c.name == self.name)
        ).scalar()
        return bool(holder == self.token)

    def release(self) -> None:
        assert self.connection is not None
        table = self.table
        self.connection.execute(
            table.update()
            .where(table.c.name == self.name, table.c.holder == self.token)
            .values(holder=None, beat=0)
        )

    def describe_holder(self) -> str | None:
        return str(self._seen[0]) if self._seen is not None else None


def lock_table_name(version_table: str) -> str:
    """The generic lock's table, beside the version table it protects."""
    return lock_table(version_table)


def _lock_table(name: str, schema: str | None) -> Any:
    from sqlalchemy import BigInteger, Column, MetaData, String, Table

    return Table(
        name,
        MetaData(),
        Column("name", String(200), primary_key=True),
        Column("holder", String(200), nullable=True),
        Column("beat", BigInteger, nullable=False),
        schema=schema,
    )


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    line = (text.splitlines() or [type(error).__name__])[0]
    return line.split(" (Background on this error at:")[0][:200]
