"""The generic backend: what flask_schema does on a SQL database it has no module for.

Each family module (:mod:`.postgresql`, :mod:`.mysql`, :mod:`.sqlite`)
subclasses :class:`Backend` and overrides what its database does better.
The defaults here are safe on any database SQLAlchemy can talk to: the
lock is a row in a lock table, no statement is assumed to commit by itself
inside a transaction, and settings the database cannot honour are refused
with a warning rather than ignored in silence. Throw-away databases for the
pytest plugin are made with ``CREATE DATABASE`` on the same server, which
MySQL/MariaDB and most servers accept as it is.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import compat
from ..errors import DatabaseError
from .lock import MigrationLock, Notify, TableLock, lock_name, lock_table_name
from .storage import SameStorage, canonical_default, first_match

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger("flask_schema")

#: The ways the migration lock can be taken (the ``lock_method`` setting).
LOCK_METHODS = ("native", "table")

#: One fact of a schema: (kind, table, name or ``None``, text for people).
SchemaRow = tuple[str, str, str | None, str]


class Backend:
    """The facts and actions of one database family, for one dialect name."""

    #: The dialect names this class serves, for the docs.
    families: tuple[str, ...] = ()

    #: Type spellings this database stores alike, used by autogenerate's type
    #: comparison (:mod:`flask_schema.compare`). The generic backend claims
    #: none: without knowing the database, every spelling may matter.
    type_equivalences: tuple[SameStorage, ...] = ()

    #: Whether SQL can change a table through one of its indexes' names alone
    #: (``DROP INDEX ix_name``), so the toolkit's walk must look up whose index
    #: a name is. Index names that belong to their table, as on MySQL, never
    #: stand alone: there every such statement names the table.
    index_names_stand_alone: bool = True

    def __init__(self, dialect_name: str) -> None:
        self.dialect_name = dialect_name

    # -- what autogenerate compares ----------------------------------------------

    def same_storage(self, reflected: str, model: str) -> SameStorage | None:
        """The row of :attr:`type_equivalences` that makes two compiled types one storage."""
        return first_match(self.type_equivalences, reflected, model)

    def normalize_default(self, text: str | None) -> str | None:
        """A server default as this database stores it, in one spelling.

        ``text`` is either the default the database reports or the model's
        default rendered as SQL; equal results mean no change.
        """
        return canonical_default(text)

    #: Whether the database keeps enum types as named objects of their own.
    named_enum_types = False

    def database_identity(self, url: URL) -> tuple[Any, ...]:
        """What tells two URLs reach the same database, whatever the driver, user or options."""
        return (url.get_backend_name(), url.host, url.port, url.database)

    # -- the migration lock ------------------------------------------------------

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
        """The migration lock for ``engine``'s database, not yet taken.

        ``None`` only where no other process can reach the database (an
        in-memory SQLite database).
        """
        if self.can_vanish(engine):
            return None  # an in-memory database is this process's alone
        name = lock_name(version_table, version_table_schema)
        if method == "native":
            found = self.native_lock(engine, name, version_table, version_table_schema, timeout, notify)
            if found is not NotImplemented:
                return found
        table = lock_table_name(version_table)
        return self.on_own_connection(
            engine,
            lambda connection: TableLock(
                connection, name, table, version_table_schema, timeout, notify, lease
            ),
        )

    def on_own_connection(self, engine: Engine, make: Callable[[Connection], MigrationLock]) -> MigrationLock:
        """A lock made by ``make`` on a connection of its own, closed again if ``make`` fails."""
        connection = self.lock_connection(engine)
        try:
            return make(connection)
        except BaseException:
            connection.close()
            raise

    def native_lock(
        self,
        engine: Engine,
        name: str,
        version_table: str,
        version_table_schema: str | None,
        timeout: float,
        notify: Notify,
    ) -> MigrationLock | None:
        """The database's own session lock; ``NotImplemented`` when it has none."""
        return NotImplemented  # type: ignore[no-any-return]

    def lock_connection(self, engine: Engine) -> Connection:
        """A connection of its own for the lock and the run log, committing as it goes."""
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    # -- connecting --------------------------------------------------------------

    #: Async driver name -> the sync driver that reaches the same database
    #: (``""``: the dialect's default driver). Migrations run on a sync
    #: connection; an app that gives an async engine gets one made from the
    #: same URL with this driver.
    sync_drivers: dict[str, str] = {}

    def sync_drivername(self, driver: str) -> str | None:
        """The ``dialect+driver`` of a sync engine for the async ``driver``, or ``None``."""
        found = self.sync_drivers.get(driver)
        if found is None:
            return None
        return f"{self.dialect_name}+{found}" if found else self.dialect_name

    def connect_arguments(self, driver: str, seconds: float) -> dict[str, Any]:
        """Arguments for ``driver``'s ``connect()`` that give up on a silent server after ``seconds``.

        They must bound connecting and the server's first answers only; what
        must not outlive connecting is undone in :meth:`connection_ready`.
        """
        return {}

    def connection_ready(self, dbapi_connection: Any) -> None:
        """Called once a connection is made: lift limits that would cut a long statement."""

    # -- backups -----------------------------------------------------------------

    #: The file extension of this family's backups; ``None``: no backups.
    #: The file extension of this family's backups; ``None``: no backups.
    backup_extension: str | None = None

    def write_backup(self, connection: Connection, database: str, partial: str, final: str) -> str:
        """Write a consistent copy of the database to ``partial``; return the raw restore command."""
        from ..errors import BackupError

        raise BackupError(f"Cannot back up database '{database}': {self.dialect_name} is not supported.")

    def restore_backup(self, engine: Engine, path: str, database: str) -> None:
        """Replace ``engine``'s database with the backup at ``path`` (the lock is held)."""
        from ..errors import BackupError

        raise BackupError(f"Cannot restore database '{database}': {self.dialect_name} is not supported.")

    # -- while revisions run -----------------------------------------------------

    #: Whether ALTER TABLE is so limited that changes rebuild the table (batch mode).
    alters_by_rebuilding = False

    #: Whether the server (or a proxy) may close a connection that sits idle.
    closes_idle_connections = True

    def commits_by_itself(self, statement: str, transactional_ddl: bool) -> bool:
        """Whether ``statement`` is made permanent at once, even inside a transaction.

        Used to tell whether a revision that failed may have left part of its
        work behind. Where DDL is transactional the transaction is trusted;
        where it is not, any statement may have been permanent.
        """
        return not transactional_ddl

    def makes_ddl_transactional(self, connection: Connection) -> bool:
        """Whether :meth:`transactional_migrations` makes DDL on ``connection`` transactional."""
        return False

    def can_vanish(self, engine: Engine) -> bool:
        """Whether the database disappears with its last connection (nothing to record)."""
        return False

    @contextmanager
    def statement_lock_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        """Make migration statements stop waiting for table locks after ``seconds``."""
        if seconds > 0:
            log.warning(
                "MIGRATE_STATEMENT_LOCK_TIMEOUT is not supported on %s; migration statements "
                "wait for table locks as long as the database lets them.",
                self.dialect_name,
            )
        yield

    def values_changed_by_alter(self, connection: Connection, operation: Any) -> list[str]:
        """What an ``alter_column`` would change in the rows it keeps, as "N row(s) ..." phrases.

        Only databases that change values in silence need an answer; the
        generic one is that the database refuses what it cannot convert.
        """
        return []

    @contextmanager
    def migration_session(self, connection: Connection, allow_data_loss: bool = False) -> Iterator[None]:
        """Around the run: session settings that make the database refuse to lose data."""
        yield

    @contextmanager
    def transactional_migrations(self, connection: Connection) -> Iterator[None]:
        """Around the run: whatever makes the migration connection's DDL transactional."""
        yield

    # -- two-phase deploys (autogenerate's split of a rename) -----------------------

    def column_sync_sql(self, table: str, old: str, new: str, name: str) -> tuple[list[str], list[str]]:
        """SQL that keeps columns ``old`` and ``new`` of ``table`` equal while both releases run.

        Returns (statements that start it, statements that end it); all
        names come quoted. ``name`` is for whatever the statements create.
        Without a way to do it (the generic case) both are empty, and the
        post-deploy revision copies what the old release wrote meanwhile.
        """
        return [], []

    # -- reading the schema (the pytest plugin's walk) ------------------------------

    def describe_schema(
        self, connection: Connection, exclude_tables: set[str], tables: set[str] | None
    ) -> list[SchemaRow] | None:
        """The schema as rows of (kind, table, name, text), read in one query, or ``None``.

        The migration checks read the schema after each step of a walk;
        SQLAlchemy's inspector needs a dozen queries for that, which is most
        of the walk's time on a server. A family that can say it all in one
        catalog query does so here. A table, view, free-standing sequence or
        enum type is a row with no name; a table's columns, indexes,
        constraints and owned sequences are rows that name it. With
        ``tables``, only what those names name is read. ``None`` means: use
        the inspector.
        """
        return None

    # -- throw-away databases (the pytest plugin) ---------------------------------

    def throwaway_databases(self, url: URL, folder: str) -> ThrowawayDatabases:
        """Where new empty databases beside ``url``'s are made, for one test session.

        ``folder`` is a temporary folder of the session, for databases that are files.
        """
        return ThrowawayDatabases(url)


class ThrowawayDatabases:
    """New empty databases on the server of one app database, made and dropped on request.

    The generic way: ``CREATE DATABASE`` with a random name, through an
    autocommit connection that names no database. Families with a cheaper
    way (a template to copy, a file to copy) subclass this.
    """

    def __init__(self, url: URL) -> None:
        self.url = url
        self.working: URL | None = None

    def admin_urls(self) -> Sequence[URL]:
        """URLs to try for the administrative connection, which must not need the app's database."""
        return [self.url.set(database=None)]

    def create(self) -> URL:
        """A new empty database; its URL keeps the app URL's user, host and options."""
        name = throwaway_name(self.url.database)
        self.run_admin(lambda c: f"CREATE DATABASE {quote(c, name)}", "create a throw-away database")
        return self.url.set(database=name)

    def engine(self, url: URL) -> Engine:
        """The engine the app uses for a database :meth:`create` made."""
        import sqlalchemy as sa

        return sa.create_engine(url)

    def drop(self, url: URL) -> None:
        """Drop a database :meth:`create` made."""
        self.run_admin(lambda c: f"DROP DATABASE IF EXISTS {quote(c, str(url.database))}", "drop it", url)

    def close(self) -> None:
        """Drop what the session made once (a template); the generic way makes none."""

    def run_admin(self, statement: Statement, doing: str, about: URL | None = None) -> None:
        """Run one statement on the first administrative URL that connects.

        ``statement`` builds the SQL for the open connection; ``doing`` ends
        the error messages ("Could not reach the server of URL to ..."). The
        URL that worked is tried first next time.
        """
        import sqlalchemy as sa

        shown = (about or self.url).render_as_string(hide_password=True)
        problems = []
        candidates = list(self.admin_urls())
        if self.working is not None:
            candidates.insert(0, self.working)
        for admin_url in candidates:
            engine = autocommit_engine(admin_url)
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text(statement(connection)))
                self.working = admin_url
                return
            except sa.exc.OperationalError as error:
                problems.append(first_line(error))
            except sa.exc.DBAPIError as error:
                raise DatabaseError(f"Could not {doing} on {shown}: {first_line(error)}") from None
            finally:
                engine.dispose()
        raise DatabaseError(f"Could not reach the server of {shown} to {doing}: {'; '.join(problems)}")


#: Builds one administrative statement for the connection it will run on.
Statement = Callable[["Connection"], str]


def quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def throwaway_name(original: str | None, kind: str = "fs") -> str:
    """A new database name that shows where it came from and cannot clash."""
    base = re.sub(r"[^a-z0-9_]", "_", (original or "flask_schema").lower())[:32]
    return f"{base}_{kind}_{uuid.uuid4().hex[:10]}"


#: Execution option marking the engines that create and drop throw-away databases.
ADMIN_OPTION = "flask_schema_admin"


def autocommit_engine(url: URL) -> Engine:
    """An engine for administrative statements (``CREATE DATABASE``), marked as such."""
    import sqlalchemy as sa

    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        execution_options={ADMIN_OPTION: True},
    )


def first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return (text.splitlines() or [type(error).__name__])[0]


@contextmanager
def session_setting(connection: Connection, setting: str, reset: str) -> Iterator[None]:
    """Apply a session setting for the block.

    Committed at once when no transaction was open, so that a revision's
    rollback keeps it. A transaction the project's ``env.py`` began around
    the run is never ended here: the setting then lives and ends with it.
    """
    external = connection.in_transaction()
    connection.exec_driver_sql(setting)
    if not external:
        compat.commit(connection)
    try:
        yield
    finally:
        try:
            if not external:
                if connection.in_transaction():
                    compat.rollback(connection)
                connection.exec_driver_sql(reset)
                compat.commit(connection)
            else:
                connection.exec_driver_sql(reset)
        except Exception:  # a broken connection is discarded by the pool anyway
            log.debug("Could not reset %r.", setting, exc_info=True)
