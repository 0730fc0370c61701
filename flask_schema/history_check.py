"""Say what is wrong with a broken versions folder, naming the files.

Alembic meets a broken history late and describes it by its effect: an
empty file is "Could not determine revision id", an unknown
``down_revision`` a bare ``KeyError``, a duplicate id a warning (and one of
the two files silently wins), and the lookups that then fail claim that
the *database's* revision is missing. Each revision is checked here as the
revision map is read, before Alembic builds it, so every command gets one
line naming the file(s) and the problem instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import RevisionError

if TYPE_CHECKING:
    from alembic.script import Script

_MOVE_OUT = "fix the file, or move it out of the versions folder if it is not a revision"


def checked(revisions: Iterable[Script], locate: Callable[[str], str]) -> Iterator[Script]:
    """Pass ``revisions`` through, then raise :class:`RevisionError` if they do not form a history.

    ``locate`` names the file that declares a revision id, for a problem
    found before Alembic made a Script of it.
    """
    from alembic.script.revision import LoopDetected
    from alembic.util import CommandError

    by_id: dict[str, Script] = {}
    iterator = iter(revisions)
    while True:
        try:
            script = next(iterator)
        except StopIteration:
            break
        except CommandError as error:
            raise _unreadable(error) from None
        except LoopDetected as error:  # Alembic refuses a self-loop as it reads the file
            raise _names_itself(error.revisions[0], locate(error.revisions[0])) from None
        earlier = by_id.get(script.revision)
        if earlier is not None:
            raise RevisionError(
                f"Revision id {script.revision} is used by two files, {_name(earlier)} and {_name(script)}; "
                "give one of them a new id (and update the down_revision that points at it)."
            )
        if script.revision in _downs(script):
            raise _names_itself(script.revision, _name(script))
        by_id[script.revision] = script
        yield script
    _check_links(by_id)


def _check_links(by_id: dict[str, Script]) -> None:
    for script in by_id.values():
        for down in _downs(script):
            if down not in by_id:
                raise RevisionError(
                    f"{_name(script)}: its down_revision {down!r} is not a revision in the "
                    "migrations folder; set it to the revision this one follows."
                )
    cycle = _find_cycle(by_id)
    if cycle:
        files = ", ".join(_name(by_id[rev]) for rev in cycle)
        loop = " -> ".join([*cycle, cycle[0]])
        raise RevisionError(
            f"The down_revisions of {files} form a loop ({loop}); each revision must follow "
            "an older one, so break the loop by fixing one of them."
        )


def _find_cycle(by_id: dict[str, Script]) -> list[str]:
    """Revision ids of one loop of down_revisions, or an empty list."""
    settled: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rev, script in by_id.items():
            if rev not in settled and all(down in settled for down in _downs(script)):
                settled.add(rev)
                changed = True
    left = [rev for rev in by_id if rev not in settled]
    if not left:
        return []
    # Each unsettled revision follows at least one unsettled one: walk down to a repeat.
    path: list[str] = []
    current = left[0]
    while current not in path:
        path.append(current)
        current = next(down for down in _downs(by_id[current]) if down not in settled)
    return path[path.index(current) :]


def _names_itself(revision: str, where: str) -> RevisionError:
    return RevisionError(
        f"{where}: revision {revision} names itself as its down_revision; "
        "set down_revision to the revision it follows (None for the first)."
    )


def _downs(script: Script) -> tuple[str, ...]:
    down: Any = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


def _name(script: Script) -> str:
    return _relative(script.path)


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path


def _unreadable(error: Exception) -> RevisionError:
    text = str(error)
    marker = "from filename "
    if marker in text:
        # Alembic's "Could not determine revision id from filename X.py. Be sure ...".
        name = text.split(marker, 1)[1].split(" ", 1)[0].rstrip(".")
        return RevisionError(
            f"versions/{name} declares no revision id (it is empty or has no 'revision = ...' "
            f"line); {_MOVE_OUT}."
        )
    return RevisionError(text)
