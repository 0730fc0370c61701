"""The database client tools backups and restores run: found on PATH, run without secrets.

``pg_dump``, ``pg_restore``, ``mariadb-dump`` and the ``mariadb`` client are
found here, their versions read, and each run with its password in the
environment or an option file, never on the command line; a failure
becomes one :class:`~flask_schema.errors.BackupError` line without the
password.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BackupError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


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


def tool_version(tool: str) -> tuple[Any, ...]:
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


def version_numbers(version: Sequence[Any]) -> tuple[int, ...]:
    return tuple(part for part in version if isinstance(part, int))


def dotted(numbers: Sequence[Any]) -> str:
    return ".".join(str(part) for part in numbers)
