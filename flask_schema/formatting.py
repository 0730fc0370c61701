"""Format each new revision file, so it reads like the rest of the project.

Autogenerate writes code in its own layout. The ``format_revisions``
setting names a command to run on each new file: ``auto`` (the default)
runs ``ruff format`` when ruff is installed and does nothing otherwise;
``none`` turns it off; anything else is a command line in which
``{path}`` stands for the file (appended when absent).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from . import settings

log = logging.getLogger("flask_schema")

OFF = {"", "none", "off", "false", "0", "no"}


def formatter_command(setting: str, path: str) -> list[str] | None:
    """The command that formats ``path``, or ``None`` when there is none to run."""
    if setting.strip().lower() in OFF:
        return None
    if setting.strip().lower() == "auto":
        beside_python = os.path.join(os.path.dirname(sys.executable), "ruff")
        ruff = shutil.which("ruff") or (beside_python if os.path.isfile(beside_python) else None)
        return [ruff, "format", "--quiet", path] if ruff else None
    parts = shlex.split(setting)
    if not any("{path}" in part for part in parts):
        parts.append("{path}")
    return [part.replace("{path}", path) for part in parts]


def format_revision(path: str, app_config: Mapping[str, Any]) -> None:
    """Run the configured formatter on ``path``; a failure leaves the file as written."""
    command = formatter_command(str(settings.resolve("format_revisions", app_config)), path)
    if command is None:
        return
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning(f"Could not run {command[0]} on {path}: {error}; the file is kept as written.")
        return
    if result.returncode != 0:
        first = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[0]
        log.warning(f"{command[0]} failed on {path} ({first}); the file is kept as written.")
