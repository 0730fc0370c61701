"""Back up a database right before a migration changes it.

``flask db upgrade --backup`` hands a :class:`BackupRequest` to the migration
run; :mod:`flask_schema.runtime` calls :func:`back_up` for each database that
has revisions to apply. Each database family has one small function that
writes a consistent copy and returns the shell command that restores it:

* SQLite: the online backup API, never a file copy of a live database.
* PostgreSQL: ``pg_dump`` in custom format, credentials in ``PG*`` variables.
* MariaDB/MySQL: ``mariadb-dump``/``mysqldump --single-transaction``,
  credentials in a private option file deleted afterwards.

A password never goes on a command line (where ``ps`` shows it) and never
into a message. A backup is written under a temporary name and renamed when
complete, so a failed backup leaves no file behind and stops the migration.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import settings
from .errors import BackupError, ConfigurationError

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import URL, Connection

    from .sources import DatabaseSource

#: Suffix of a backup that is still being written.
PARTIAL_SUFFIX = ".partial"

_STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_NAME = re.compile(
    r"^(?P<database>.+?)--(?P<revision>.+)--(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.(?:sqlite|dump|sql)$"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


@dataclass(frozen=True)
class Backup:
    """One backup file and what it holds."""

    path: str
    #: The database label: ``default`` or the bind key.
    database: str
    #: The revision(s) the database was at, ``+``-joined; ``base`` for none.
    revision: str
    created: datetime
    size: int
    #: The shell command that puts this backup back; known when it was made.
    restore_command: str | None = None


@dataclass(frozen=True)
class BackupRequest:
    """What ``--backup`` asks of a migration run."""

    directory: str
    keep: int
    on_created: Callable[[Backup], None] | None = None


def request_for(
    app: Flask, explicit: bool | None, on_created: Callable[[Backup], None] | None
) -> BackupRequest | None:
    """The backup request of a command, or ``None`` when backups are off."""
    if not settings.resolve("backup", app.config, explicit=explicit):
        return None
    return BackupRequest(backup_directory(app), backup_keep(app), on_created)


def backup_directory(app: Flask) -> str:
    """Where backups go: ``MIGRATE_BACKUP_DIR``, else ``<instance folder>/backups``."""
    chosen = settings.resolve("backup_dir", app.config)
    if not chosen:
        return os.path.join(app.instance_path, "backups")
    return os.path.abspath(str(chosen))


def backup_keep(app: Flask) -> int:
    keep = int(settings.resolve("backup_keep", app.config))
    if keep < 0:
        raise ConfigurationError("MIGRATE_BACKUP_KEEP must be 0 (keep all) or a positive count.")
    return keep


# -- making a backup ----------------------------------------------------------------


def back_up(connection: Connection, database: str, heads: Sequence[str], request: BackupRequest) -> Backup:
    """Write a backup of ``connection``'s database, prune old ones, report it."""
    dialect = connection.dialect.name
    family = _FAMILIES.get(dialect)
    if family is None:
        raise BackupError(f"Cannot back up database '{database}': {dialect} is not supported.")
    extension, write = family
    revision = "+".join(sorted(heads)) or "base"
    created = datetime.now(timezone.utc)
    name = f"{_safe(database)}--{_safe(revision)}--{created.strftime(_STAMP_FORMAT)}.{extension}"
    path = os.path.join(request.directory, name)
    partial = path + PARTIAL_SUFFIX
    try:
        os.makedirs(request.directory, mode=0o700, exist_ok=True)
        # A backup holds every row: readable by its owner only, from the start.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        restore = write(connection, database, partial, path)
        os.replace(partial, path)
    except BaseException as error:
        if os.path.exists(partial):
            os.remove(partial)
        if isinstance(error, OSError):
            raise BackupError(f"Cannot back up database '{database}': {error}") from error
        raise
    backup = Backup(path, database, revision, created, os.path.getsize(path), restore)
    prune(request.directory, database, request.keep)
    if request.on_created is not None:
        request.on_created(backup)
    return backup


def _safe(text: str) -> str:
    return re.sub(r"-{2,}", "-", _UNSAFE.sub("_", text))


def _sqlite(connection: Connection, database: str, partial: str, final: str) -> str:
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


def _postgresql(connection: Connection, database: str, partial: str, final: str) -> str:
    """``pg_dump -Fc``; the password travels in ``PGPASSWORD``, not argv."""
    url = connection.engine.url
    tool = find_tool(database, ["pg_dump"], "the PostgreSQL client tools")
    server = connection.dialect.server_version_info or ()
    server_major = _pg_major(server)
    found = _tool_version(tool)
    tool_major = _pg_major(found)
    if server_major and tool_major and tool_major < server_major:
        raise BackupError(
            f"Cannot back up database '{database}': {os.path.basename(tool)} "
            f"{_dotted(tool_major)} cannot dump a PostgreSQL {_dotted(server_major)} server; "
            f"install pg_dump {_dotted(server_major)} or newer."
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
    numbers = _numbers(version)
    if not numbers:
        return ()
    return numbers[:1] if numbers[0] >= 10 else numbers[:2]


def _mysql(connection: Connection, database: str, partial: str, final: str) -> str:
    """``mariadb-dump --single-transaction``; credentials in a 0600 option file."""
    url = connection.engine.url
    if not url.database:
        raise BackupError(f"Cannot back up database '{database}': its URL names no database.")
    tool = find_tool(database, ["mariadb-dump", "mysqldump"], "the MariaDB or MySQL client tools")
    server = _numbers(connection.dialect.server_version_info or ())
    server_is_mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
    found = _tool_version(tool)
    tool_is_mariadb = found[-1:] == ("MariaDB",)
    tool_numbers = _numbers(found)
    same_family = server_is_mariadb == tool_is_mariadb
    if same_family and server and tool_numbers and tool_numbers[:2] < server[:2]:
        raise BackupError(
            f"Cannot back up database '{database}': {os.path.basename(tool)} "
            f"{_dotted(tool_numbers[:2])} cannot dump a "
            f"{'MariaDB' if server_is_mariadb else 'MySQL'} {_dotted(server[:2])} server; "
            f"install its client tools {_dotted(server[:2])} or newer."
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


WriteBackup = Callable[["Connection", str, str, str], str]

#: Dialect name to (file extension, writer).
_FAMILIES: dict[str, tuple[str, WriteBackup]] = {
    "sqlite": ("sqlite", _sqlite),
    "postgresql": ("dump", _postgresql),
    "mysql": ("sql", _mysql),
    "mariadb": ("sql", _mysql),
}


# -- running the dump tools -----------------------------------------------------


def find_tool(database: str, names: Sequence[str], package: str, purpose: str = "back up") -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    instead = " or run without --backup" if purpose == "back up" else ""
    raise BackupError(
        f"Cannot {purpose} database '{database}': {' or '.join(names)} is not on PATH; "
        f"install {package}{instead}."
    )


def _tool_version(tool: str) -> tuple[Any, ...]:
    """The version a dump tool reports, with a trailing ``"MariaDB"`` for MariaDB's.

    ``pg_dump (PostgreSQL) 15.4``, ``mariadb-dump Ver 10.19 Distrib
    10.11.6-MariaDB``, ``mariadb-dump from 11.4.2-MariaDB`` and ``mysqldump
    Ver 8.0.36`` all occur; the server version is the one that matters.
    """
    try:
        result = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ()
    text = result.stdout
    match = re.search(r"(?:Distrib|from)\s+(\d+(?:\.\d+)*)", text) or re.search(r"(\d+(?:\.\d+)*)", text)
    if match is None:
        return ()
    numbers: tuple[Any, ...] = tuple(int(part) for part in match.group(1).split("."))
    if "MariaDB" in text:
        numbers += ("MariaDB",)
    return numbers


def run_tool(
    argv: list[str],
    env: dict[str, str],
    database: str,
    url: URL,
    doing: str = "Backing up",
    stdin: Any = None,
) -> None:
    name = os.path.basename(argv[0])
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=stdin)
    except OSError as error:
        raise BackupError(f"{doing} database '{database}' failed: {name} did not start: {error}.") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        if url.password:
            detail = detail.replace(str(url.password), "***")
        raise BackupError(f"{doing} database '{database}' failed: {name}: {detail}")


def _numbers(version: Sequence[Any]) -> tuple[int, ...]:
    return tuple(part for part in version if isinstance(part, int))


def _dotted(numbers: Sequence[Any]) -> str:
    return ".".join(str(part) for part in numbers)


# -- putting a backup back ---------------------------------------------------------


def restore(
    source: DatabaseSource, path: str, version_table: str, version_table_schema: str | None, timeout: float
) -> Backup:
    """Replace the database a backup was made of with it, holding the migration lock.

    The database is named by the backup's file name (``default`` or a bind
    key). A migration that holds the lock makes this refuse after
    ``timeout`` seconds rather than restore under it.
    """
    import logging

    from .backends import backend_for

    found = _parse(path)
    if found is None:
        raise BackupError(
            f"{path} is not a backup made by 'flask db upgrade --backup' (see 'flask db backups')."
        )
    key = None if found.database == "default" else found.database
    engines = source.engines()
    if key not in engines:
        raise BackupError(f"Cannot restore {path}: the app has no database '{found.database}'.")
    engine = engines[key]
    backend = backend_for(engine.dialect.name)
    if backend.backup_extension != os.path.splitext(path)[1].lstrip("."):
        raise BackupError(
            f"Cannot restore {path} into database '{found.database}': it is a "
            f"{engine.dialect.name} database and the file is not one of its backups."
        )
    lock = backend.lock(
        engine, version_table, version_table_schema, timeout, logging.getLogger("flask_schema").info
    )
    try:
        if lock is not None:
            lock.acquire()
        backend.restore_backup(engine, os.path.abspath(path), found.database)
    finally:
        if lock is not None:
            lock.close()
    return found


def restore_command(backup: Backup) -> str:
    """The command that puts ``backup`` back."""
    return shlex.join(["flask", "db", "restore", backup.path])


def _parse(path: str) -> Backup | None:
    match = _NAME.match(os.path.basename(path))
    if match is None or not os.path.isfile(path):
        return None
    created = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=timezone.utc)
    return Backup(path, match["database"], match["revision"], created, os.path.getsize(path))


# -- finding and pruning backups --------------------------------------------------


def list_backups(directory: str) -> list[Backup]:
    """The backups in ``directory``, newest first."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = _NAME.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        created = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=timezone.utc)
        found.append(Backup(path, match["database"], match["revision"], created, os.path.getsize(path)))
    found.sort(key=lambda backup: backup.created, reverse=True)
    return found


def prune(directory: str, database: str, keep: int) -> list[Backup]:
    """Delete all but the newest ``keep`` backups of ``database``; 0 keeps all."""
    if keep <= 0:
        return []
    mine = [backup for backup in list_backups(directory) if backup.database == _safe(database)]
    removed = mine[keep:]
    for backup in removed:
        os.remove(backup.path)
    return removed
