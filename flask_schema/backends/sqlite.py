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
import shlex
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import compat
from ..errors import BackupError, DatabaseError
from .base import Backend, ThrowawayDatabases, throwaway_name
from .lock import MigrationLock, Notify, holder_description
from .storage import SameStorage, booleans_as_numbers, canonical_default

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger("flask_schema")

_FLOATS = r"FLOAT(?:\(\d+\))?|REAL|DOUBLE(?: PRECISION)?"


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


class SQLiteBackend(Backend):
    """SQLite: one writer at a time, DDL transactional once the driver lets us."""

    families = ("sqlite",)
    sync_drivers = {"aiosqlite": ""}

    def write_backup(self, connection: Connection, database: str, partial: str, final: str) -> str:
        return _dump(connection, database, partial, final)

    #: SQLite stores a value by the column's affinity, not its declared name
    #: (sqlite.org/datatype3.html), and SQLAlchemy writes dates as ISO text.
    #: Lengths stay significant: other databases the models run on enforce them.
    type_equivalences = (
        SameStorage("numeric", _FLOATS, _FLOATS, "REAL affinity: an 8-byte float"),
        SameStorage("text", r"TEXT|CLOB", r"N?VARCHAR", "TEXT affinity (a VARCHAR without a length)"),
        SameStorage("datetime", r"DATETIME", r"TIMESTAMP", "TEXT in ISO 8601, as SQLAlchemy writes both"),
        SameStorage("json", r"JSON", r"TEXT", "TEXT holding the JSON document"),
    )

    def normalize_default(self, text: str | None) -> str | None:
        """SQLAlchemy writes ``false()``/``true()`` as 0 and 1 on SQLite."""
        return canonical_default(booleans_as_numbers(text))

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

    def database_identity(self, url: URL) -> tuple[Any, ...]:
        database = url.database or ""
        if not database or database == ":memory:" or url.query.get("mode") == "memory":
            return ("sqlite", ":memory:")
        return ("sqlite", os.path.abspath(database))

    # SQLite has almost no ALTER TABLE; batch mode rebuilds the table.
    alters_by_rebuilding = True

    def can_vanish(self, engine: Engine) -> bool:
        return sqlite_path(engine) is None

    def makes_ddl_transactional(self, connection: Connection) -> bool:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return False  # the project asked for autocommit; leave it so
        return _sqlite3_connection(connection) is not None

    @contextmanager
    def transactional_migrations(self, connection: Connection) -> Iterator[None]:
        from sqlalchemy import event

        driver = _sqlite3_connection(connection)
        keys = _ForeignKeysOff(driver)
        keys.start()
        if not self.makes_ddl_transactional(connection) or getattr(driver, "autocommit", -1) is False:
            # Another driver, autocommit asked for, or sqlite3 in its PEP 249
            # mode (Python 3.12+), which keeps a transaction open by itself.
            try:
                yield
            finally:
                keys.finish()
            return
        saved = driver.isolation_level

        def begin_for_real(conn: Any, cursor: Any, *args: Any) -> None:
            if conn.in_transaction() and not driver.in_transaction:
                cursor.execute("BEGIN")

        def tidy() -> None:
            event.remove(connection, "before_cursor_execute", begin_for_real)
            driver.isolation_level = saved
            keys.finish()

        began_outside = connection.in_transaction()
        driver.isolation_level = None
        event.listen(connection, "before_cursor_execute", begin_for_real)
        try:
            yield
        finally:
            if not began_outside and connection.in_transaction():
                compat.rollback(connection)  # the run committed what it meant to keep
            if driver.in_transaction:
                # env.py began a transaction around the run and ends it
                # itself: tidy up once the connection goes back to its pool.
                _when_checked_in(connection, driver, tidy)
            else:
                tidy()

    def values_changed_by_alter(self, connection: Connection, operation: Any) -> list[str]:
        """Rows a batch rebuild would rewrite: it copies with ``CAST(column AS new type)``.

        ``CAST('abc' AS INTEGER)`` is 0 and ``CAST('12abc' AS INTEGER)`` 12;
        a value whose cast compares unequal to itself is one that changes.
        """
        import sqlalchemy as sa

        if operation.modify_type is None:
            return []
        table = sa.table(operation.table_name, sa.column(operation.column_name), schema=operation.schema)
        column = table.c[operation.column_name]
        changed = connection.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(column.is_not(None), sa.cast(column, operation.modify_type) != column)
        ).scalar()
        if not changed:
            return []
        return [f"{changed} row(s) hold values that {operation.modify_type} cannot keep as they are"]

    backup_extension = "sqlite"

    def restore_backup(self, engine: Engine, path: str, database: str) -> None:
        """Copy the backup in through SQLite's backup API, never with ``cp``.

        A crash can leave a hot journal or a WAL file beside the database;
        copied over by hand, the old file's journal is then replayed onto the
        new one ("database disk image is malformed"). Those files belong to
        the database being replaced, so they go first; the result is checked
        with ``PRAGMA integrity_check``.
        """
        import sqlite3
        from urllib.parse import quote

        from ..errors import BackupError

        target_path = sqlite_path(engine)
        if target_path is None:
            raise BackupError(f"Cannot restore database '{database}': it is an in-memory database.")
        engine.dispose()  # our own pooled connections must not hold the old file open
        for suffix in ("-journal", "-wal", "-shm"):
            if os.path.exists(target_path + suffix):
                os.remove(target_path + suffix)
        try:
            source = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(target_path, timeout=30)
                try:
                    source.backup(target)
                    target.execute("PRAGMA journal_mode=DELETE")
                    found = [row[0] for row in target.execute("PRAGMA integrity_check").fetchall()]
                finally:
                    target.close()
            finally:
                source.close()
        except sqlite3.Error as error:
            raise BackupError(f"Restoring database '{database}' failed: {error}") from error
        if found != ["ok"]:
            raise BackupError(
                f"Restored database '{database}' fails PRAGMA integrity_check: {found[0]}; "
                "the backup file itself may be damaged."
            )

    def throwaway_databases(self, url: URL, folder: str) -> ThrowawayDatabases:
        return SQLiteThrowaways(url, folder)


def _when_checked_in(connection: Connection, driver: Any, action: Any) -> None:
    from sqlalchemy import event

    done = False

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        nonlocal done
        if dbapi_connection is driver and not done:
            done = True
            action()

    event.listen(connection.engine.pool, "checkin", on_checkin)


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


class _ForeignKeysOff:
    """Foreign keys off for the run, so a batch rebuild's DROP TABLE deletes nothing."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.switched = False

    def start(self) -> None:
        driver = self.driver
        if driver is None or not driver.execute("PRAGMA foreign_keys").fetchone()[0]:
            return
        if driver.in_transaction or getattr(driver, "autocommit", -1) is False:
            log.warning(
                "SQLite foreign keys are on and the connection is already in a transaction, so "
                "they cannot be turned off: a batch rebuild here can delete rows of child tables."
            )
            return
        driver.execute("PRAGMA foreign_keys=OFF")
        self.switched = True

    def finish(self) -> None:
        if not self.switched:
            return
        rows = self.driver.execute("PRAGMA foreign_key_check").fetchall()
        self.driver.execute("PRAGMA foreign_keys=ON")
        self.switched = False
        tables = sorted({str(row[0]) for row in rows})
        if tables:
            log.warning(
                f"After the migrations {len(rows)} row(s) break foreign keys, in: "
                f"{', '.join(tables)}. Run 'PRAGMA foreign_key_check' in sqlite3 to see them."
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


# -- backups ------------------------------------------------------------------------


def _dump(connection: Connection, database: str, partial: str, final: str) -> str:
    """Copy through SQLite's online backup API: consistent even during writes."""
    import sqlite3
    from urllib.parse import quote

    source_path = connection.engine.url.database
    if not source_path or source_path == ":memory:" or source_path.startswith("file::memory:"):
        raise BackupError(f"Cannot back up database '{database}': it is an in-memory database.")
    source_path = os.path.abspath(source_path)
    source = sqlite3.connect(f"file:{quote(source_path)}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"Backing up database '{database}' failed: {error}") from error
    finally:
        source.close()
    return shlex.join(["cp", final, source_path])


#: libpq variables for the URL query keys people put in PostgreSQL URLs.


#: The backend :func:`flask_schema.backends.backend_for` finds in this module.
BACKEND = SQLiteBackend
