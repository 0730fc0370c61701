"""Checks on what users type and on the files a command loads.

``--rev-id`` ends up in a file name under ``versions/`` and in SQL, and
``-m`` in the generated file's docstring, so both are treated as untrusted:
a revision id is refused unless it is plain letters, digits and underscores,
and a message may not carry control characters that would break the file.
"""

from __future__ import annotations

import os
import re
import traceback

from .errors import InvalidArgument, RevisionError

#: What a hand-picked revision id may look like; 32 is the version column's width.
REV_ID = re.compile(r"^[A-Za-z0-9_]{1,32}$")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_rev_id(rev_id: str | None) -> None:
    if rev_id is None:
        return
    if not REV_ID.match(rev_id):
        raise InvalidArgument(f"Invalid --rev-id {rev_id!r}: use 1 to 32 letters, digits or underscores.")


def check_message(message: str | None) -> None:
    if message is None:
        return
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal could not decode arrive as surrogates
        raise InvalidArgument(
            "Invalid -m/--message: it is not valid UTF-8 text; check the terminal's encoding."
        ) from None
    if _CONTROL.search(message):
        raise InvalidArgument(
            "Invalid -m/--message: it holds control characters; use plain text (newlines are fine)."
        )


def check_rev_id_is_new(rev_id: str | None, taken: dict[str, str]) -> None:
    """Refuse a ``--rev-id`` that a revision file already has (``taken``: id to path)."""
    if rev_id is not None and rev_id in taken:
        raise InvalidArgument(
            f"Invalid --rev-id {rev_id!r}: {os.path.relpath(taken[rev_id])} already has that id; "
            "choose another one."
        )


def load_error(error: BaseException) -> RevisionError | None:
    """Say which file failed to load when Alembic's loading of a Python file raised.

    Returns ``None`` for errors that did not happen while loading a file.
    """
    frames = traceback.extract_tb(error.__traceback__)
    loading = [index for index, frame in enumerate(frames) if _is_loader(frame.filename)]
    if not loading:
        return None
    if isinstance(error, SyntaxError) and error.filename:
        path, line = error.filename, error.lineno
        detail = f"SyntaxError: {error.msg}"
    else:
        # Everything a command does runs inside env.py's load; only an error
        # raised by the loaded file's own top level counts as a load error.
        inner = frames[loading[-1] + 1 :]
        if any(_is_library(frame.filename) for frame in inner):
            return None
        own = [frame for frame in inner if not frame.filename.startswith("<frozen")]
        if not own:
            return None
        path, line = own[0].filename, own[-1].lineno if own[-1].filename == own[0].filename else None
        first = (str(error).strip().splitlines() or [""])[0]
        detail = f"{type(error).__name__}: {first}"
    where = f", line {line}" if line else ""
    return RevisionError(
        f"Could not load {os.path.relpath(path)}{where}: {detail}. "
        "Fix the file, or move it out of the migrations folder if it is not a revision."
    )


def _is_loader(filename: str) -> bool:
    return filename.replace("\\", "/").endswith("alembic/util/pyfiles.py")


def _is_library(filename: str) -> bool:
    path = filename.replace("\\", "/")
    return any(f"/{name}/" in path for name in ("flask_schema", "alembic", "sqlalchemy"))


def explain_revision_error(text: str) -> str:
    """Add what to do to Alembic's revision-lookup messages."""
    if text.startswith("Relative revision"):
        return (
            f"{text}: the history does not reach that far from the current revision. "
            "'flask db history -i' shows where the database is."
        )
    if text.startswith("Multiple revisions start with"):
        return (
            f"{text.rstrip('.')}: that prefix is ambiguous; type more of the revision id "
            "('flask db history' lists them)."
        )
    if text.startswith("Can't locate revision"):
        return f"{text}. 'flask db history' lists the revisions in the migrations folder."
    return text
