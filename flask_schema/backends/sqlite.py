"""SQLite: a lock file beside the database, and DDL made transactional.

Python's ``sqlite3`` driver does not begin a transaction before DDL, so out
of the box each ``CREATE``/``ALTER`` of a revision is permanent at once and
a revision that fails halfway leaves half of itself behind. SQLite's DDL is
transactional when the driver leaves the transaction to us (SQLAlchemy's
documented pysqlite recipe): for the length of a run the migration
connection's driver is put in autocommit mode and we emit ``BEGIN``
ourselves whenever SQLAlchemy opens a transaction. A failing revision then
rolls back whole, so SQLite needs no run log.

Batch mode rebuilds a table by copying it and dropping the old one. With
``PRAGMA foreign_keys=ON`` that ``DROP TABLE`` deletes every row first,
which cascades to the rows of child tables, so the run turns foreign keys
off (which SQLite only allows outside a transaction), checks them after the
run and turns them back on.

Throw-away databases for the pytest plugin are files in the session's
temporary folder, each a copy of one empty template file.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import DatabaseError
from . import register
from .base import Backend, ThrowawayDatabases, throwaway_name
from .lock import MigrationLock, Notify, holder_description

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger("flask_schema")


def sqlite_path(engine: Engine) -> str | None:
    """The file of a SQLite database, or ``None`` for an in-memory one."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if engine.url.query.get("mode") == "memory":
        return None
    return os.path.abspath(database)


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

    def check_held(self) -> bool:
        # The kernel keeps the lock while the file is open; it is only worth
        # nothing if someone removed the file and a new one took its place.
        if self.file is None:
            return False
        try:
            return os.fstat(self.file.fileno()).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def renew(self) -> None:
        return None

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


@register("sqlite")
class SQLiteBackend(Backend):
    """SQLite: one writer at a time, DDL transactional once the driver lets us."""

    families = ("sqlite",)

    def native_lock(
        self,
        engine: Engine,
        name: str,
        version_table: str,
        version_table_schema: str | None,
        timeout: float,
        notify: Notify,
    ) -> MigrationLock | None:
        path = sqlite_path(engine)
        if path is None:
            return None
        table = f"{version_table_schema}.{version_table}" if version_table_schema else version_table
        return FileLock(path, table, timeout, notify)

    def lock(
        self,
        engine: Engine,
        version_table: str,
        version_table_schema: str | None,
        timeout: float,
        notify: Notify,
        method: str = "native",
        lease: float = 30.0,
    ) -> MigrationLock | None:
        if sqlite_path(engine) is None:
            return None  # an in-memory database is this process's alone
        return super().lock(engine, version_table, version_table_schema, timeout, notify, method, lease)

    def can_vanish(self, engine: Engine) -> bool:
        return sqlite_path(engine) is None

    @contextmanager
    def transactional_migrations(self, connection: Connection) -> Iterator[None]:
        from sqlalchemy import event

        driver = _sqlite3_connection(connection)
        if driver is None or getattr(driver, "autocommit", -1) is False:
            # Another driver, or sqlite3 in its PEP 249 mode (Python 3.12+),
            # which keeps a transaction open by itself: DDL is transactional
            # already, and foreign keys cannot be switched off.
            with _foreign_keys_off(connection, driver):
                yield
            return
        saved = driver.isolation_level

        def begin_for_real(conn: Any, cursor: Any, *args: Any) -> None:
            if conn.in_transaction() and not driver.in_transaction:
                cursor.execute("BEGIN")

        with _foreign_keys_off(connection, driver):
            driver.isolation_level = None
            event.listen(connection, "before_cursor_execute", begin_for_real)
            try:
                yield
            finally:
                event.remove(connection, "before_cursor_execute", begin_for_real)
                if connection.in_transaction():
                    connection.rollback()
                driver.isolation_level = saved

    def throwaway_databases(self, url: URL, folder: str) -> ThrowawayDatabases:
        return SQLiteThrowaways(url, folder)

    def is_transactional(self, connection: Connection) -> bool:
        """Whether :meth:`transactional_migrations` can make this connection's DDL transactional."""
        driver = _sqlite3_connection(connection)
        return driver is not None


class SQLiteThrowaways(ThrowawayDatabases):
    """Files in ``folder``, each a copy of an empty database file made once.

    The app's own URL may name a file or memory; the copies are files either
    way, so that every connection of a run sees the same database.
    """

    def __init__(self, url: URL, folder: str) -> None:
        super().__init__(url)
        self.folder = folder
        self.template: str | None = None

    def create(self) -> URL:
        if self.template is None:
            self.template = os.path.join(self.folder, throwaway_name("template") + ".db")
            sqlite3.connect(self.template).close()
        original = os.path.splitext(os.path.basename(self.url.database or ""))[0] or "memory"
        path = os.path.join(self.folder, throwaway_name(original) + ".db")
        shutil.copyfile(self.template, path)
        return self.url.set(database=path)

    def engine(self, url: URL) -> Engine:
        """An engine whose connections never wait for the disk: nothing here must survive a crash."""
        import sqlalchemy as sa

        engine = sa.create_engine(url)

        def no_sync(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous = OFF")

        sa.event.listen(engine, "connect", no_sync)
        return engine

    def drop(self, url: URL) -> None:
        path = str(url.database)
        for name in os.listdir(os.path.dirname(path)):
            if name.startswith(os.path.basename(path)):  # the file, its journal, WAL and lock files
                try:
                    os.remove(os.path.join(os.path.dirname(path), name))
                except OSError:  # already gone, or held open on Windows
                    log.debug("Could not remove %s.", name, exc_info=True)

    def close(self) -> None:
        if self.template is not None:
            os.remove(self.template)
            self.template = None


def _sqlite3_connection(connection: Connection) -> Any:
    """The ``sqlite3.Connection`` under ``connection``, if that is the driver."""
    import sqlite3

    driver = getattr(connection.connection, "dbapi_connection", None)
    return driver if isinstance(driver, sqlite3.Connection) else None


@contextmanager
def _foreign_keys_off(connection: Connection, driver: Any) -> Iterator[None]:
    """Run with foreign keys off, so a batch rebuild's DROP TABLE deletes nothing."""
    if driver is None:
        yield
        return
    enabled = bool(driver.execute("PRAGMA foreign_keys").fetchone()[0])
    if not enabled:
        yield
        return
    if driver.in_transaction:
        log.warning(
            "SQLite foreign keys are on and the connection is already in a transaction, so they "
            "cannot be turned off: a batch rebuild here can delete rows of child tables."
        )
        yield
        return
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        _report_violations(driver)
        driver.execute("PRAGMA foreign_keys=ON")


def _report_violations(driver: Any) -> None:
    rows = driver.execute("PRAGMA foreign_key_check").fetchall()
    tables = sorted({str(row[0]) for row in rows})
    if tables:
        log.warning(
            f"After the migrations {len(rows)} row(s) break foreign keys, in: {', '.join(tables)}. "
            "Run 'PRAGMA foreign_key_check' in sqlite3 to see them."
        )


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
