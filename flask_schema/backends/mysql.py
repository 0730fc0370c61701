"""MySQL and MariaDB: named locks, ``lock_wait_timeout``, DDL that commits by itself."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import BackupError, LockTimeout
from .base import Backend, SchemaRow, session_setting
from .lock import MigrationLock, Notify, clock
from .storage import SameStorage, booleans_as_numbers, canonical_default
from .tools import dotted, find_tool, run_tool, tool_version, version_numbers

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

# Statements that end the transaction and are permanent at once ("implicit commit").
_IMPLICIT_COMMIT = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)*(?:CREATE|ALTER|DROP|RENAME|TRUNCATE|GRANT|REVOKE|LOCK\s+TABLES"
    r"|UNLOCK\s+TABLES|ANALYZE|OPTIMIZE|REPAIR)\b",
    re.IGNORECASE | re.DOTALL,
)

#: :meth:`MySQLBackend.describe_schema`: the tables, views and sequences of the
#: current database, and the columns, indexes, foreign keys (their columns and
#: their rules apart) and check constraints of its tables, one row each. Each
#: part reads one ``information_schema`` table on its own: joined, they are
#: slow. ``{where_...}`` is each part's filter on the names asked for.
SCHEMA_QUERY = """
SELECT CASE t.TABLE_TYPE WHEN 'VIEW' THEN 'view' WHEN 'SEQUENCE' THEN 'sequence' ELSE 'table' END,
       t.TABLE_NAME, NULL,
       CONCAT(CASE t.TABLE_TYPE WHEN 'VIEW' THEN 'view ' WHEN 'SEQUENCE' THEN 'sequence ' ELSE 'table ' END,
              t.TABLE_NAME)
FROM information_schema.TABLES t
WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME NOT IN :exclude AND {where_t}
UNION ALL
SELECT 'column', c.TABLE_NAME, c.COLUMN_NAME,
       CONCAT('column ', c.TABLE_NAME, '.', c.COLUMN_NAME, ' ', c.COLUMN_TYPE,
              IF(c.IS_NULLABLE = 'NO', ' NOT NULL', ''),
              COALESCE(CONCAT(' DEFAULT ', c.COLUMN_DEFAULT), ''),
              IF(c.EXTRA <> '', CONCAT(' ', c.EXTRA), ''),
              COALESCE(CONCAT(' COLLATE ', c.COLLATION_NAME), ''))
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME NOT IN :exclude AND {where_c}
  AND c.TABLE_NAME NOT IN (
      SELECT v.TABLE_NAME FROM information_schema.VIEWS v WHERE v.TABLE_SCHEMA = DATABASE()
  )
UNION ALL
SELECT IF(s.INDEX_NAME = 'PRIMARY', 'primary key', 'index'), s.TABLE_NAME, s.INDEX_NAME,
       CONCAT(IF(s.INDEX_NAME = 'PRIMARY', CONCAT('primary key of ', s.TABLE_NAME),
                 CONCAT(IF(MAX(s.NON_UNIQUE) = 0, 'unique ', ''), 'index ', s.INDEX_NAME,
                        ' on ', s.TABLE_NAME)),
              IF(MAX(s.INDEX_TYPE) = 'BTREE', '', CONCAT(' ', MAX(s.INDEX_TYPE))), ' (',
              GROUP_CONCAT(CONCAT(s.COLUMN_NAME, COALESCE(CONCAT('(', s.SUB_PART, ')'), ''))
                           ORDER BY s.SEQ_IN_INDEX SEPARATOR ', '), ')')
FROM information_schema.STATISTICS s
WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME NOT IN :exclude AND {where_s}
GROUP BY s.TABLE_NAME, s.INDEX_NAME
UNION ALL
SELECT 'foreign key', k.TABLE_NAME, k.CONSTRAINT_NAME,
       CONCAT('foreign key ', k.CONSTRAINT_NAME, ' on ', k.TABLE_NAME, ' (',
              GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ') REFERENCES ',
              MAX(k.REFERENCED_TABLE_NAME), '(',
              GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ')')
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
  AND k.TABLE_NAME NOT IN :exclude AND {where_k}
GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME
UNION ALL
SELECT 'foreign key rules', r.TABLE_NAME, r.CONSTRAINT_NAME,
       CONCAT('foreign key ', r.CONSTRAINT_NAME, ' on ', r.TABLE_NAME,
              ': ON UPDATE ', r.UPDATE_RULE, ', ON DELETE ', r.DELETE_RULE)
FROM information_schema.REFERENTIAL_CONSTRAINTS r
WHERE r.CONSTRAINT_SCHEMA = DATABASE() AND r.TABLE_NAME NOT IN :exclude AND {where_r}
UNION ALL
{checks}
"""

#: MariaDB's CHECK_CONSTRAINTS names the table (column-level checks included).
MARIADB_CHECKS = """SELECT 'check constraint', cc.TABLE_NAME, cc.CONSTRAINT_NAME,
       CONCAT('check constraint ', cc.CONSTRAINT_NAME, ' on ', cc.TABLE_NAME, ': ', cc.CHECK_CLAUSE)
FROM information_schema.CHECK_CONSTRAINTS cc
WHERE cc.CONSTRAINT_SCHEMA = DATABASE() AND cc.TABLE_NAME NOT IN :exclude AND {where_cc}"""

_DOUBLE = r"DOUBLE(?: PRECISION)?|REAL|FLOAT\((?:2[5-9]|[34]\d|5[0-3])\)"


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
        super().__init__(full, timeout, notify, connection)
        self.database_label = f"MariaDB database '{database}'"

    def try_acquire(self) -> bool:
        result = self.scalar("SELECT GET_LOCK(:name, 0)", name=self.name)
        if result is None:
            raise LockTimeout(f"The server refused the migration lock {self.name!r} (GET_LOCK failed).")
        return bool(result == 1)

    def release(self) -> None:
        self.scalar("SELECT RELEASE_LOCK(:name)", name=self.name)

    def check_held(self) -> bool:
        return bool(self.scalar("SELECT IS_USED_LOCK(:name) = CONNECTION_ID()", name=self.name))

    def describe_holder(self) -> str | None:
        row = self.query(
            "SELECT p.ID, p.HOST, p.TIME FROM information_schema.PROCESSLIST p"
            " WHERE p.ID = IS_USED_LOCK(:name)",
            name=self.name,
        )
        if row is None:
            return None
        connection_id, host, seconds = row
        since = datetime.datetime.now() - datetime.timedelta(seconds=int(seconds or 0))
        return f"connection {connection_id} from {host}, connected since {clock(since)}"


class MySQLBackend(Backend):
    """MySQL and MariaDB: each DDL statement commits by itself."""

    families = ("mysql", "mariadb")
    sync_drivers = {"aiomysql": "pymysql", "asyncmy": "pymysql"}
    # DROP INDEX needs ON table; and an index a foreign key needs is named after
    # its column, so a column's name must not pull in every table with such an index.
    index_names_stand_alone = False

    def write_backup(self, connection: Connection, database: str, partial: str, final: str) -> str:
        return _dump(connection, database, partial, final)

    #: ``FLOAT`` alone is 4 bytes here, unlike on SQLite and PostgreSQL, so
    #: ``Float`` and ``Double`` stay different; ``FLOAT(p)`` above 24 is DOUBLE.
    type_equivalences = (
        SameStorage("numeric", _DOUBLE, _DOUBLE, "DOUBLE: an 8-byte float"),
        SameStorage("boolean", r"BOOL(?:EAN)?", r"TINYINT(?:\(1\))?", "TINYINT(1)"),
    )

    def normalize_default(self, text: str | None) -> str | None:
        """MySQL keeps ``false``/``true`` as 0 and 1 and reports ``current_timestamp()``."""
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
        return self.on_own_connection(
            engine, lambda connection: MariaDBLock(connection, name, timeout, notify)
        )

    backup_extension = "sql"

    def restore_backup(self, engine: Engine, path: str, database: str) -> None:
        """Feed the dump (which drops and recreates the database) to the ``mariadb`` client."""
        import os
        import tempfile

        from .tools import find_tool, run_tool

        tool = find_tool(database, ["mariadb", "mysql"], "the MariaDB or MySQL client tools", "restore")
        engine.dispose()
        descriptor, options_path = tempfile.mkstemp(prefix="flask-schema-", suffix=".cnf")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(option_file(engine.url))
            with open(path, "rb") as dump:
                run_tool(
                    [tool, f"--defaults-extra-file={options_path}", "--batch"],
                    dict(os.environ),
                    database,
                    engine.url,
                    "Restoring",
                    stdin=dump,
                )
        finally:
            os.remove(options_path)

    def connect_arguments(self, driver: str, seconds: float) -> dict[str, Any]:
        whole = max(int(round(seconds)), 1)
        if driver == "pymysql":
            # PyMySQL's connect_timeout covers the TCP connect only; the server's
            # greeting is read under read_timeout, lifted in connection_ready.
            return {"connect_timeout": whole, "read_timeout": whole, "write_timeout": whole}
        if driver in {"mysqldb", "mariadbconnector"}:
            return {"connect_timeout": whole}
        return {}

    def connection_ready(self, dbapi_connection: Any) -> None:
        if hasattr(dbapi_connection, "_read_timeout"):  # PyMySQL: no limit on statements
            dbapi_connection._read_timeout = None
            dbapi_connection._write_timeout = None

    def values_changed_by_alter(self, connection: Connection, operation: Any) -> list[str]:
        """Rows a ``MODIFY`` would change when the session is not strict.

        Outside strict mode MariaDB and MySQL truncate what no longer fits,
        turn NULLs into ``''`` or ``0`` under NOT NULL, and blank ENUM values
        that were removed, each with only a warning.
        """
        import sqlalchemy as sa

        table = sa.table(operation.table_name, sa.column(operation.column_name), schema=operation.schema)
        column = table.c[operation.column_name]
        found = []

        def count(condition: Any) -> int:
            query = sa.select(sa.func.count()).select_from(table).where(condition)
            return int(connection.execute(query).scalar() or 0)

        new_type = operation.modify_type
        length = getattr(new_type, "length", None)
        values = getattr(new_type, "enums", None)
        if values:
            removed = count(sa.and_(column.is_not(None), sa.cast(column, sa.String).not_in(list(values))))
            if removed:
                found.append(f"{removed} row(s) hold a value the new ENUM does not have")
        elif isinstance(length, int) and isinstance(new_type, sa.String):
            longer = count(sa.func.char_length(column) > length)
            if longer:
                found.append(f"{longer} row(s) are longer than {length} characters")
        if operation.modify_nullable is False:
            nulls = count(column.is_(None))
            if nulls:
                found.append(f"{nulls} row(s) are NULL, which NOT NULL would turn into '' or 0")
        return found

    @contextmanager
    def migration_session(self, connection: Connection, allow_data_loss: bool = False) -> Iterator[None]:
        """Run strict (STRICT_TRANS_TABLES, STRICT_ALL_TABLES) unless data loss is allowed."""
        from sqlalchemy import text

        if allow_data_loss:
            yield
            return
        mode = str(connection.execute(text("SELECT @@SESSION.sql_mode")).scalar() or "")
        modes = [part for part in mode.split(",") if part]
        missing = [name for name in ("STRICT_TRANS_TABLES", "STRICT_ALL_TABLES") if name not in modes]
        if not missing:
            yield
            return
        strict = ",".join([*modes, *missing])
        with session_setting(
            connection, f"SET SESSION sql_mode = '{strict}'", f"SET SESSION sql_mode = '{mode}'"
        ):
            yield

    def describe_schema(
        self, connection: Connection, exclude_tables: set[str], tables: set[str] | None
    ) -> list[SchemaRow] | None:
        """On MariaDB, one query over ``information_schema``, in the server's own spelling.

        MySQL keeps its check constraints apart from their tables, and there is
        no MySQL server among the test databases, so MySQL uses the inspector; so
        does a MariaDB without ``CHECK_CONSTRAINTS`` (before 10.2), where the
        query fails.
        """
        import sqlalchemy as sa
        from sqlalchemy.exc import DBAPIError

        if not getattr(connection.dialect, "is_mariadb", False):
            return None
        # The server reads only the tables a query names by a constant list; "x OR name IN
        # (...)" would have it open every table's definition.
        names = {
            f"where_{alias}": "TRUE" if tables is None else f"{alias}.TABLE_NAME IN :tables"
            for alias in ("t", "c", "s", "k", "r", "cc")
        }
        query = sa.text(SCHEMA_QUERY.format(checks=MARIADB_CHECKS.format(**names), **names)).bindparams(
            sa.bindparam("exclude", sorted(exclude_tables) or [""], expanding=True)
        )
        if tables is not None:
            query = query.bindparams(sa.bindparam("tables", sorted(tables) or [""], expanding=True))
        try:
            rows = connection.execute(query).all()
        except DBAPIError:  # a failed statement leaves a MySQL transaction as it was
            return None
        return [(kind, table, name, text) for kind, table, name, text in rows]

    def commits_by_itself(self, statement: str, transactional_ddl: bool) -> bool:
        return bool(_IMPLICIT_COMMIT.match(statement))

    @contextmanager
    def statement_lock_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        if seconds <= 0:
            yield
            return
        with session_setting(
            connection,
            f"SET SESSION lock_wait_timeout = {max(int(round(seconds)), 1)}",
            "SET SESSION lock_wait_timeout = DEFAULT",
        ):
            yield


# -- backups ------------------------------------------------------------------------


def _dump(connection: Connection, database: str, partial: str, final: str) -> str:
    """``mariadb-dump --single-transaction``; credentials in a 0600 option file."""
    url = connection.engine.url
    if not url.database:
        raise BackupError(f"Cannot back up database '{database}': its URL names no database.")
    tool = find_tool(database, ["mariadb-dump", "mysqldump"], "the MariaDB or MySQL client tools")
    server = version_numbers(connection.dialect.server_version_info or ())
    server_is_mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
    found = tool_version(tool)
    tool_is_mariadb = found[-1:] == ("MariaDB",)
    tool_numbers = version_numbers(found)
    same_family = server_is_mariadb == tool_is_mariadb
    if same_family and server and tool_numbers and tool_numbers[:2] < server[:2]:
        raise BackupError(
            f"Cannot back up database '{database}': {os.path.basename(tool)} "
            f"{dotted(tool_numbers[:2])} cannot dump a "
            f"{'MariaDB' if server_is_mariadb else 'MySQL'} {dotted(server[:2])} server; "
            f"install its client tools {dotted(server[:2])} or newer."
        )
    descriptor, options_path = tempfile.mkstemp(prefix="flask-schema-", suffix=".cnf")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(option_file(url))
        run_tool(
            [
                tool,
                f"--defaults-extra-file={options_path}",
                "--single-transaction",
                "--add-drop-database",
                f"--result-file={partial}",
                "--databases",
                url.database,
            ],
            dict(os.environ),
            database,
            url,
        )
    finally:
        os.remove(options_path)
    client = "mariadb" if os.path.basename(tool).startswith("mariadb") else "mysql"
    restore = [client]
    if url.host:
        restore.append(f"--host={url.host}")
    if url.port:
        restore.append(f"--port={url.port}")
    if url.query.get("unix_socket"):
        restore.append(f"--socket={url.query['unix_socket']}")
    if url.username:
        restore.append(f"--user={url.username}")
    if url.password:
        restore.append("-p")  # asks for the password instead of showing it
    # The dump drops and recreates the database, so the client needs none named.
    return f"{shlex.join(restore)} < {shlex.quote(final)}"


def option_file(url: URL) -> str:
    """A ``[client]`` option file holding the connection settings of ``url``."""
    lines = ["[client]"]
    values = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "socket": url.query.get("unix_socket"),
    }
    for name, value in values.items():
        if value is not None and value != "":
            lines.append(f"{name}={_option_value(str(value))}")
    return "\n".join(lines) + "\n"


def _option_value(value: str) -> str:
    """Quote a value for an option file; the escapes are MySQL's own."""
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        value = value.replace(raw, escaped)
    return f'"{value}"'


#: The backend :func:`flask_schema.backends.backend_for` finds in this module.
BACKEND = MySQLBackend
