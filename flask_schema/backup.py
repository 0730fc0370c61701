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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from . import settings
from .errors import BackupError, ConfigurationError

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Connection

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
    from .backends import backend_for

    backend = backend_for(connection.dialect.name)
    extension = backend.backup_extension
    if extension is None:
        raise BackupError(
            f"Cannot back up database '{database}': {connection.dialect.name} is not supported."
        )
    revision = "+".join(sorted(heads)) or "base"
    created = datetime.now(timezone.utc)
    name = f"{_safe(database)}--{_safe(revision)}--{created.strftime(_STAMP_FORMAT)}.{extension}"
    path = os.path.join(request.directory, name)
    partial = path + PARTIAL_SUFFIX
    try:
        os.makedirs(request.directory, mode=0o700, exist_ok=True)
        # A backup holds every row: readable by its owner only, from the start.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        restore = backend.write_backup(connection, database, partial, path)
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
