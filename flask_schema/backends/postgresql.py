"""PostgreSQL: advisory locks, ``lock_timeout``, transactional DDL, template databases."""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import BackupError
from .base import Backend, SchemaRow, ThrowawayDatabases, quote, session_setting, throwaway_name
from .lock import MigrationLock, Notify, clock, holder_description
from .storage import SameStorage, canonical_default, replace_outside_quotes
from .tools import dotted, find_tool, run_tool, tool_version, version_numbers

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

#: Databases to try for the administrative connection when the app's own
#: database does not exist yet.
MAINTENANCE_DATABASES = ("postgres", "template1")

#: :meth:`PostgresBackend.describe_schema`: the relations and enum types of the
#: current schema, and the columns, constraints, indexes and owned sequences of
#: its tables, one row each; with ``every`` false, only those named in ``tables``.
SCHEMA_QUERY = """
WITH rel AS (
    SELECT c.oid, c.relname::text AS relname, c.relkind
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND c.relname::text NOT IN :exclude
      AND (:every OR c.relname::text IN :tables)
),
detailed AS (
    SELECT oid, relname FROM rel WHERE relkind IN ('r', 'p', 'f')
)
SELECT CASE WHEN relkind = 'S' THEN 'sequence' WHEN relkind IN ('v', 'm') THEN 'view' ELSE 'table' END,
       relname, NULL,
       CASE WHEN relkind = 'S' THEN 'sequence ' || relname
            WHEN relkind IN ('v', 'm') THEN 'view ' || relname || ' AS ' || pg_catalog.pg_get_viewdef(oid)
            ELSE 'table ' || relname END
FROM rel
WHERE relkind <> 'S' OR NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend dep
    WHERE dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = rel.oid
      AND dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.deptype IN ('a', 'i')
)
UNION ALL
SELECT 'sequence', d.relname, s.relname::text, 'sequence ' || s.relname || ' of ' || d.relname
FROM detailed d
JOIN pg_catalog.pg_depend dep
  ON dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = d.oid
 AND dep.classid = 'pg_catalog.pg_class'::regclass AND dep.deptype IN ('a', 'i')
JOIN pg_catalog.pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
UNION ALL
SELECT 'enum type', t.typname::text, NULL,
       'enum type ' || t.typname || ' ('
       || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
           FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || ')'
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema() AND t.typtype = 'e' AND (:every OR t.typname::text IN :tables)
UNION ALL
SELECT 'column', d.relname, a.attname::text,
       'column ' || d.relname || '.' || a.attname || ' '
       || pg_catalog.format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || COALESCE(' DEFAULT ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
       || CASE a.attidentity WHEN 'a' THEN ' IDENTITY ALWAYS' WHEN 'd' THEN ' IDENTITY BY DEFAULT' ELSE '' END
       || COALESCE(' COLLATE ' || NULLIF(co.collname, 'default'), '')
FROM detailed d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = d.oid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
UNION ALL
SELECT CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
                      WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check constraint'
                      ELSE 'constraint' END,
       d.relname, k.conname::text,
       CASE k.contype
           WHEN 'p' THEN 'primary key of ' || d.relname || ' ' || regexp_replace(kd.def, '^PRIMARY KEY ', '')
           WHEN 'u' THEN 'unique constraint ' || k.conname || ' on ' || d.relname || ' '
                         || regexp_replace(kd.def, '^UNIQUE ', '')
           WHEN 'f' THEN 'foreign key ' || k.conname || ' on ' || d.relname || ' '
                         || regexp_replace(kd.def, '^FOREIGN KEY ', '')
           WHEN 'c' THEN 'check constraint ' || k.conname || ' on ' || d.relname || ': ' || kd.def
           ELSE 'constraint ' || k.conname || ' on ' || d.relname || ': ' || kd.def END
FROM detailed d
JOIN pg_catalog.pg_constraint k ON k.conrelid = d.oid
CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_constraintdef(k.oid) AS def) kd
UNION ALL
SELECT 'index', d.relname, ic.relname::text,
       CASE WHEN i.indisunique THEN 'unique ' ELSE '' END
       || 'index ' || ic.relname || ' on ' || d.relname || ' '
       || regexp_replace(
           substring(pg_catalog.pg_get_indexdef(i.indexrelid) FROM ' USING (.*)$'), '^btree ', ''
       )
FROM detailed d
JOIN pg_catalog.pg_index i ON i.indrelid = d.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint k
    WHERE k.conindid = i.indexrelid AND k.conrelid = d.oid AND k.contype IN ('p', 'u', 'x')
)
"""

_REAL = r"REAL|FLOAT4|FLOAT\((?:[1-9]|1\d|2[0-4])\)"
_DOUBLE = r"DOUBLE PRECISION|DOUBLE|FLOAT8?|FLOAT\((?:2[5-9]|[34]\d|5[0-3])\)"
_CAST = r"::\s*[a-z_][\w ]*(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?(?=$|[\s),])"


class PostgresLock(MigrationLock):
    """A session advisory lock, taken by polling the non-blocking try-lock.

    A waiter blocked inside ``pg_advisory_lock`` holds a snapshot open, and a
    holder building an index ``CONCURRENTLY`` waits for every such snapshot:
    both would wait forever. Polling keeps each attempt a short transaction.
    """

    def __init__(self, connection: Connection, name: str, timeout: float, notify: Notify) -> None:
        super().__init__(name, timeout, notify, connection)
        self.key = self.key_for(name)
        self.database_label = f"PostgreSQL database '{connection.engine.url.database}'"

    @staticmethod
    def key_for(name: str) -> int:
        """A signed 64-bit advisory key from ``name``."""
        digest = hashlib.sha256(name.encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def try_acquire(self) -> bool:
        return bool(self.scalar("SELECT pg_try_advisory_lock(:key)", key=self.key))

    def release(self) -> None:
        self.scalar("SELECT pg_advisory_unlock(:key)", key=self.key)

    def check_held(self) -> bool:
        held = self.scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid::bigint = :high AND objid::bigint = :low"
            " AND objsubid = 1",
            high=(self.key >> 32) & 0xFFFFFFFF,
            low=self.key & 0xFFFFFFFF,
        )
        return bool(held)

    def describe_holder(self) -> str | None:
        row = self.query(
            "SELECT a.application_name, a.client_addr, a.pid, a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid::bigint = :high AND l.objid::bigint = :low"
            " AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            high=(self.key >> 32) & 0xFFFFFFFF,
            low=self.key & 0xFFFFFFFF,
        )
        if row is None:
            return None
        application, address, pid, since = row
        who = application if application and application.startswith("flask_schema") else None
        where = who.partition(" ")[2] if who else f"server pid {pid} from {address or 'local'}"
        return f"{where}, since {clock(since)}"


class PostgresBackend(Backend):
    """PostgreSQL: DDL is transactional; locks are session advisory locks."""

    families = ("postgresql",)
    sync_drivers = {"asyncpg": "psycopg", "psycopg_async": "psycopg"}

    named_enum_types = True

    def write_backup(self, connection: Connection, database: str, partial: str, final: str) -> str:
        return _dump(connection, database, partial, final)

    #: ``float(p)`` is ``real`` up to p=24 and ``double precision`` above
    #: (and without p); ``varchar`` without a length is ``text``.
    type_equivalences = (
        SameStorage("numeric", _REAL, _REAL, "real: a 4-byte float"),
        SameStorage("numeric", _DOUBLE, _DOUBLE, "double precision: an 8-byte float"),
        SameStorage("text", r"TEXT", r"VARCHAR|CHARACTER VARYING", "text (varchar without a length)"),
        SameStorage(
            "datetime",
            r"TIMESTAMP\(6\) (WITH(?:OUT)? TIME ZONE)",
            r"TIMESTAMP (WITH(?:OUT)? TIME ZONE)",
            "timestamp keeps microseconds (precision 6) unless told less",
        ),
    )

    def normalize_default(self, text: str | None) -> str | None:
        """PostgreSQL reports defaults with casts: ``'a'::character varying``, ``'{}'::jsonb``."""
        if text is None:
            return None
        return canonical_default(replace_outside_quotes(text, _CAST, ""))

    def native_lock(
        self,
        engine: Engine,
        name: str,
        version_table: str,
        version_table_schema: str | None,
        timeout: float,
        notify: Notify,
    ) -> MigrationLock | None:
        from sqlalchemy import text

        def make(connection: Connection) -> MigrationLock:
            # Waiters name the holder by its application_name.
            label = f"flask_schema {holder_description()}"[:63]
            connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": label})
            return PostgresLock(connection, name, timeout, notify)

        return self.on_own_connection(engine, make)

    backup_extension = "dump"

    def restore_backup(self, engine: Engine, path: str, database: str) -> None:
        """``pg_restore`` into the same database, after emptying its public schema.

        The database itself is kept (the migration lock lives on a session
        in it), so tables made after the backup are dropped with the schema
        rather than by ``pg_restore --create``.
        """
        from sqlalchemy import text

        from .tools import find_tool, run_tool

        tool = find_tool(database, ["pg_restore"], "the PostgreSQL client tools", "restore")
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        env = pg_environment(engine.url)
        run_tool(
            [
                tool,
                "--clean",
                "--if-exists",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={engine.url.database}",
                path,
            ],
            env,
            database,
            engine.url,
            "Restoring",
        )

    def connect_arguments(self, driver: str, seconds: float) -> dict[str, Any]:
        # libpq's connect_timeout covers the whole start-up, authentication included;
        # it counts whole seconds and treats less than 2 as 2.
        if driver in {"psycopg2", "psycopg", "psycopg2cffi"}:
            return {"connect_timeout": max(int(round(seconds)), 2)}
        if driver in {"pg8000", "asyncpg"}:
            return {"timeout": seconds}
        return {}

    @contextmanager
    def statement_lock_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        if seconds <= 0:
            yield
            return
        with session_setting(connection, f"SET lock_timeout = {int(seconds * 1000)}", "RESET lock_timeout"):
            yield

    def describe_schema(
        self, connection: Connection, exclude_tables: set[str], tables: set[str] | None
    ) -> list[SchemaRow]:
        """One query over the catalog of the current schema, in PostgreSQL's own spelling.

        Constraints and indexes are given as ``pg_get_constraintdef`` and
        ``pg_get_indexdef`` print them, so a trace the inspector would not
        show (an ``ON DELETE`` rule, an index's ``WHERE``) is seen too.
        """
        import sqlalchemy as sa

        query = sa.text(SCHEMA_QUERY).bindparams(
            sa.bindparam("exclude", sorted(exclude_tables) or [""], expanding=True),
            sa.bindparam("tables", sorted(tables or ()) or [""], expanding=True),
            every=tables is None,
        )
        return [(kind, table, name, text) for kind, table, name, text in connection.execute(query)]

    def throwaway_databases(self, url: URL, folder: str) -> ThrowawayDatabases:
        return PostgresThrowaways(url)

    def column_sync_sql(self, table: str, old: str, new: str, name: str) -> tuple[list[str], list[str]]:
        """A row trigger: a write to either column is copied to the other.

        On INSERT the one left NULL takes the other's value (the old release
        writes only ``old``, the new one only ``new``); on UPDATE the column
        that changed wins. ``EXECUTE PROCEDURE`` works on PostgreSQL 10 too.
        """
        function = f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.{new} IS NULL THEN
            NEW.{new} := NEW.{old};
        ELSIF NEW.{old} IS NULL THEN
            NEW.{old} := NEW.{new};
        END IF;
    ELSIF NEW.{old} IS DISTINCT FROM OLD.{old} THEN
        NEW.{new} := NEW.{old};
    ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN
        NEW.{old} := NEW.{new};
    END IF;
    RETURN NEW;
END
$$"""
        trigger = (
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE PROCEDURE {name}()"
        )
        return [function, trigger], [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
        ]


class PostgresThrowaways(ThrowawayDatabases):
    """Copies of one empty template database, made once per session.

    ``CREATE DATABASE ... TEMPLATE`` copies the template's files; the copies
    commit without waiting for the WAL to reach the disk, as nothing in a
    throw-away database needs to survive a crash of the server.
    """

    def __init__(self, url: URL) -> None:
        super().__init__(url)
        self.template: str | None = None

    def admin_urls(self) -> list[URL]:
        return [self.url, *(self.url.set(database=name) for name in MAINTENANCE_DATABASES)]

    def create(self) -> URL:
        if self.template is None:
            template = throwaway_name(self.url.database, "fs_template")
            self.run_admin(lambda c: f"CREATE DATABASE {quote(c, template)}", "create a template database")
            self.template = template
        name = throwaway_name(self.url.database)
        template = self.template
        self.run_admin(
            lambda c: f"CREATE DATABASE {quote(c, name)} TEMPLATE {quote(c, template)}",
            "create a throw-away database",
        )
        self.run_admin(lambda c: f"ALTER DATABASE {quote(c, name)} SET synchronous_commit = off", "set it up")
        return self.url.set(database=name)

    def drop(self, url: URL) -> None:
        self.run_admin(lambda c: _drop(c, str(url.database)), "drop it", url)

    def close(self) -> None:
        if self.template is not None:
            template = self.template
            self.run_admin(lambda c: _drop(c, template), "drop the template database")
            self.template = None


def _drop(connection: Connection, name: str) -> str:
    """``DROP DATABASE``, ending its other sessions where the server can (13 and later)."""
    version = connection.dialect.server_version_info or (0,)
    force = " WITH (FORCE)" if version >= (13,) else ""
    return f"DROP DATABASE IF EXISTS {quote(connection, name)}{force}"


# -- backups ------------------------------------------------------------------------


_PG_QUERY_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
}


def _dump(connection: Connection, database: str, partial: str, final: str) -> str:
    """``pg_dump -Fc``; the password travels in ``PGPASSWORD``, not argv."""
    url = connection.engine.url
    tool = find_tool(database, ["pg_dump"], "the PostgreSQL client tools")
    server = connection.dialect.server_version_info or ()
    server_major = _pg_major(server)
    found = tool_version(tool)
    tool_major = _pg_major(found)
    if server_major and tool_major and tool_major < server_major:
        raise BackupError(
            f"Cannot back up database '{database}': {os.path.basename(tool)} "
            f"{dotted(tool_major)} cannot dump a PostgreSQL {dotted(server_major)} server; "
            f"install pg_dump {dotted(server_major)} or newer."
        )
    env = pg_environment(url)
    run_tool([tool, "--format=custom", "--no-password", f"--file={partial}"], env, database, url)
    restore = ["pg_restore", "--clean", "--if-exists", "--create", "--exit-on-error"]
    host = env.get("PGHOST")
    if host:
        restore.append(f"--host={host}")
    if env.get("PGPORT"):
        restore.append(f"--port={env['PGPORT']}")
    if env.get("PGUSER"):
        restore.append(f"--username={env['PGUSER']}")
    # --create drops and recreates the database from a maintenance database.
    restore += ["--dbname=postgres", final]
    return shlex.join(restore)


def pg_environment(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for key, variable in _PG_QUERY_VARIABLES.items():
        value = url.query.get(key)
        if isinstance(value, tuple):
            value = value[-1] if value else None
        if value:
            env[variable] = str(value)
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    if url.database:
        env["PGDATABASE"] = url.database
    return env


def _pg_major(version: Sequence[Any]) -> tuple[int, ...]:
    """PostgreSQL's major version: ``15`` since 10, ``9.6`` before."""
    numbers = version_numbers(version)
    if not numbers:
        return ()
    return numbers[:1] if numbers[0] >= 10 else numbers[:2]


#: The backend :func:`flask_schema.backends.backend_for` finds in this module.
BACKEND = PostgresBackend
