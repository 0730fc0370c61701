"""The migration lock: one process at a time changes a database's schema.

Deploys run ``flask db upgrade`` from every replica at once. Without a lock
they race to create the same tables and the same version row. Each class
here takes a lock that dies with the process holding it (a session lock on
the server, or a file lock the kernel drops), so a crashed holder never
blocks the next run.

Every lock is scoped by the version table it protects: two apps sharing one
database with different version tables do not wait for each other.
"""

from __future__ import annotations

import abc
import datetime
import hashlib
import os
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import DatabaseError, LockTimeout

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

#: How often a waiter tries again and, every so many tries, says who holds the lock.
POLL_SECONDS = 0.25
REPORT_EVERY_SECONDS = 30.0

Notify = Callable[[str], None]


def lock_name(version_table: str, version_table_schema: str | None) -> str:
    """The text every lock key is derived from."""
    return f"flask_schema:{version_table_schema or ''}.{version_table}"


def holder_description() -> str:
    """Who this process is, for the waiters' messages."""
    return f"host {socket.gethostname()}, pid {os.getpid()}"


class MigrationLock(abc.ABC):
    """Base class: wait for the lock until a deadline, telling who holds it."""

    #: How messages name the database.
    database_label = "the database"

    def __init__(self, name: str, timeout: float, notify: Notify) -> None:
        self.name = name
        self.timeout = timeout
        self.notify = notify
        #: Seconds spent waiting for another holder; 0 when the lock was free.
        self.waited = 0.0

    @abc.abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never wait."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lock back."""

    def describe_holder(self) -> str | None:
        """Who holds the lock, when the database can tell."""
        return None

    def acquire(self) -> None:
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
            time.sleep(min(POLL_SECONDS, max(deadline - now, 0.0)))
        self.waited = time.monotonic() - started

    def __enter__(self) -> MigrationLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.release()
        except Exception:
            # A lost connection already dropped a session lock; do not hide
            # the error that is on its way out.
            if exc_info[0] is None:
                raise


class PostgresLock(MigrationLock):
    """A session advisory lock, taken by polling the non-blocking try-lock.

    A waiter blocked inside ``pg_advisory_lock`` holds a snapshot open, and a
    holder building an index ``CONCURRENTLY`` waits for every such snapshot:
    both would wait forever. Polling keeps each attempt a short transaction.
    """

    def __init__(self, connection: Connection, name: str, timeout: float, notify: Notify) -> None:
        super().__init__(name, timeout, notify)
        self.connection = connection
        self.key = self.key_for(name)
        self.database_label = f"PostgreSQL database '{connection.engine.url.database}'"

    @staticmethod
    def key_for(name: str) -> int:
        """A signed 64-bit advisory key from ``name``."""
        digest = hashlib.sha256(name.encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def try_acquire(self) -> bool:
        from sqlalchemy import text

        got = self.connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        return bool(got.scalar())

    def release(self) -> None:
        from sqlalchemy import text

        self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})

    def describe_holder(self) -> str | None:
        from sqlalchemy import text

        row = self.connection.execute(
            text(
                "SELECT a.application_name, a.client_addr, a.pid, a.backend_start"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.classid::bigint = :high AND l.objid::bigint = :low"
                " AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
            ),
            {"high": (self.key >> 32) & 0xFFFFFFFF, "low": self.key & 0xFFFFFFFF},
        ).first()
        if row is None:
            return None
        application, address, pid, since = row
        who = application if application and application.startswith("flask_schema") else None
        where = who.partition(" ")[2] if who else f"server pid {pid} from {address or 'local'}"
        return f"{where}, since {_clock(since)}"


class MariaDBLock(MigrationLock):
    """A named lock (``GET_LOCK``), scoped by database and version table.

    Lock names are server-wide and at most 64 characters, so long names are
    replaced by a digest.
    """

    def __init__(self, connection: Connection, name: str, timeout: float, notify: Notify) -> None:
        from sqlalchemy import text

        database = connection.execute(text("SELECT DATABASE()")).scalar()
        full = f"{name}@{database}"
        if len(full) > 64:
            full = "flask_schema:" + hashlib.sha256(full.encode()).hexdigest()[:48]
        super().__init__(full, timeout, notify)
        self.connection = connection
        self.database_label = f"MariaDB database '{database}'"

    def try_acquire(self) -> bool:
        from sqlalchemy import text

        got = self.connection.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": self.name})
        result = got.scalar()
        if result is None:
            raise LockTimeout(f"The server refused the migration lock {self.name!r} (GET_LOCK failed).")
        return bool(result == 1)

    def release(self) -> None:
        from sqlalchemy import text

        self.connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})

    def describe_holder(self) -> str | None:
        from sqlalchemy import text

        row = self.connection.execute(
            text(
                "SELECT p.ID, p.HOST, p.TIME FROM information_schema.PROCESSLIST p"
                " WHERE p.ID = IS_USED_LOCK(:name)"
            ),
            {"name": self.name},
        ).first()
        if row is None:
            return None
        connection_id, host, seconds = row
        since = datetime.datetime.now() - datetime.timedelta(seconds=int(seconds or 0))
        return f"connection {connection_id} from {host}, connected since {_clock(since)}"


class FileLock(MigrationLock):
    """An exclusive lock on a file beside a SQLite database file.

    The holder writes who it is into the file so waiters can say so.
    """

    def __init__(self, database: str, version_table: str, timeout: float, notify: Notify) -> None:
        # Scoped by version table like the server locks: <db file>.<table>.lock
        self.path = f"{database}.{version_table}.lock"
        super().__init__(self.path, timeout, notify)
        self.database_label = f"SQLite database '{database}'"
        self.file: Any = None

    def try_acquire(self) -> bool:
        if self.file is None:
            try:
                self.file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
            except OSError as error:
                raise DatabaseError(
                    f"Could not open the migration lock file {self.path}: {error.strerror}. "
                    "Check that the SQLite database's folder exists and is writable."
                ) from None
        if not _try_lock_file(self.file):
            return False
        self.file.seek(0)
        self.file.truncate()
        stamp = datetime.datetime.now().replace(microsecond=0).isoformat(" ")
        self.file.write(f"{holder_description()}, since {stamp}\n")
        self.file.flush()
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.seek(0)
            self.file.truncate()
            self.file.flush()
            _unlock_file(self.file)
            self.file.close()
            self.file = None

    def describe_holder(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as file:
                return file.readline().strip() or None
        except OSError:
            return None


def _try_lock_file(file: Any) -> bool:
    if os.name == "nt":  # pragma: no cover - tested on POSIX only
        import msvcrt

        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock_file(file: Any) -> None:
    if os.name == "nt":  # pragma: no cover - tested on POSIX only
        import msvcrt

        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def _clock(moment: Any) -> str:
    if isinstance(moment, datetime.datetime):
        return moment.replace(microsecond=0).isoformat(" ")
    return str(moment)


def sqlite_path(engine: Engine) -> str | None:
    """The file of a SQLite database, or ``None`` for an in-memory one."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if engine.url.query.get("mode") == "memory":
        return None
    return os.path.abspath(database)


def lock_for(
    engine: Engine,
    version_table: str,
    version_table_schema: str | None,
    timeout: float,
    notify: Notify,
) -> tuple[MigrationLock | None, Connection | None]:
    """The lock for ``engine``'s database and the connection it lives on.

    Returns ``(None, None)`` for in-memory SQLite and for dialects that have
    no lock we know how to take.
    """
    name = lock_name(version_table, version_table_schema)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        path = sqlite_path(engine)
        if path is None:
            return None, None
        table = f"{version_table_schema}.{version_table}" if version_table_schema else version_table
        return FileLock(path, table, timeout, notify), None
    if dialect not in {"postgresql", "mysql", "mariadb"}:
        return None, None
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if dialect == "postgresql":
            from sqlalchemy import text

            label = f"flask_schema {holder_description()}"[:63]
            connection.execute(text("SELECT set_config('application_name', :name, false)"),
                               {"name": label})
            return PostgresLock(connection, name, timeout, notify), connection
        return MariaDBLock(connection, name, timeout, notify), connection
    except BaseException:
        connection.close()
        raise
