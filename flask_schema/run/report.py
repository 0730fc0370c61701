"""Words for what happened: where a revision failed, and the error's first line.

A failure report names the revision, the line of its file that raised, and
the driver's first line of the error (not SQLAlchemy's wrapper around it),
so the person at the terminal can go straight to the line.
"""

from __future__ import annotations

import os
import traceback
from typing import Any


def first_line(error: BaseException) -> str:
    """``Type: first line`` of an error, from the driver's error where there is one."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    line = (text.splitlines() or [""])[0]
    name = type(orig or error).__name__
    return f"{name}: {line}" if line else name


def where_in(error: BaseException, path: str | None) -> str:
    """`` (at FILE, line N: CODE)`` of the deepest frame inside the revision file."""
    if not path:
        return ""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == os.path.abspath(path):
            found = frame
    if found is None:
        return f" (in {os.path.relpath(path)})"
    return f" (at {os.path.relpath(found.filename)}, line {found.lineno}: {found.line})"


def revision_of(step: Any) -> str | None:
    """The revision id of an Alembic migration step, if it has one."""
    script = getattr(step, "revision", None)
    revision = getattr(script, "revision", None)
    return str(revision) if revision is not None else None


def direction_of(step: Any) -> str:
    return "upgrade" if getattr(step, "is_upgrade", True) else "downgrade"


def path_of(step: Any) -> str | None:
    return getattr(getattr(step, "revision", None), "path", None)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
