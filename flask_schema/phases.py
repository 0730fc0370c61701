"""Pre- and post-deploy phases: which revisions may run while the old release serves.

In a rolling deploy the old release keeps serving while the new one starts.
A revision declares ``phase = "post"`` at module level when it would break
the old release (it drops or renames what the old code uses); every other
revision is ``"pre"``. ``flask db upgrade --phase pre`` runs before the new
code and holds back each pending post revision, and everything that comes
after one (it cannot run without its parent); ``--phase post`` runs the
rest once the old release is gone.

The phase is read from the revision header (see
:mod:`flask_schema.revision_headers`), so asking costs no import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import RevisionError

PRE = "pre"
POST = "post"
PHASES = (PRE, POST)

#: ``config.attributes`` keys: the phase of a revision written without
#: autogenerate (``revision --post``), and the phases autogenerate chose, by
#: revision id. The templates read both (see :func:`template_phase`).
PHASE_ATTRIBUTE = "flask_schema.phase"
PHASES_ATTRIBUTE = "flask_schema.phases"


def phase_of(script: Any) -> str:
    """The phase of an Alembic ``Script``: ``"post"`` when it says so, else ``"pre"``."""
    module = getattr(script, "module", None)
    value = getattr(module, "phase", PRE) if module is not None else PRE
    if value not in PHASES:
        raise RevisionError(
            f"Revision {getattr(script, 'revision', '?')} declares phase = {value!r}; "
            'a revision\'s phase is "pre" (the default) or "post".'
        )
    return str(value)


def check_phase_option(phase: str | None) -> None:
    """Refuse an unknown ``--phase`` value with one clear line."""
    if phase is not None and phase not in PHASES:
        from .errors import InvalidArgument

        raise InvalidArgument(f"--phase takes 'pre' or 'post', not {phase!r}.")


def template_phase(config: Any, revision_id: str) -> str:
    """The phase a template writes for ``revision_id`` (``"pre"`` unless asked otherwise)."""
    attributes = getattr(config, "attributes", {}) or {}
    chosen = (attributes.get(PHASES_ATTRIBUTE) or {}).get(revision_id)
    return str(chosen or attributes.get(PHASE_ATTRIBUTE) or PRE)


def held_back(steps: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Split upgrade ``steps`` into (what the pre phase runs, what it holds back).

    A step is held back when its revision is a post revision, or when one of
    the revisions it stands on (down revisions or dependencies) is held
    back: it cannot run before its parent. Everything else keeps Alembic's
    order, so on a history with branches the pre revisions of one branch
    still run when another branch waits at a post revision.
    """
    kept: list[Any] = []
    waiting: list[Any] = []
    waiting_ids: set[str] = set()
    for step in steps:
        revision = getattr(step, "revision", None)
        if revision is None:  # a step without a revision file (never for an upgrade)
            kept.append(step)
            continue
        parents = _parents_of(revision)
        if phase_of(revision) == POST or waiting_ids & parents:
            waiting.append(step)
            waiting_ids.add(revision.revision)
        else:
            kept.append(step)
    return kept, waiting


def _parents_of(revision: Any) -> set[str]:
    return set(as_tuple(revision.down_revision) + as_tuple(revision.dependencies))


def as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def describe_held_back(label: str, waiting: Sequence[Any]) -> str:
    """The line that says what the pre phase held back on one database, and why."""
    names = []
    for step in waiting:
        revision = step.revision
        why = "post" if phase_of(revision) == POST else "after a post revision"
        doc = (revision.doc or "").strip().splitlines()
        names.append(f"{revision.revision} ({why}{': ' + doc[0] if doc else ''})")
    count = len(waiting)
    return (
        f"Held back {count} revision{'s' if count != 1 else ''} of {label} for the post-deploy "
        f"phase: {', '.join(names)}. A post revision would break the release still running; "
        "run 'flask db upgrade --phase post' once the new release serves everywhere."
    )


_DECLARED = re.compile(r"^phase\s*(?::[^=]*)?=", re.MULTILINE)
_AFTER = re.compile(r"^(?:depends_on|branch_labels|down_revision)\s*(?::[^=]*)?=.*$", re.MULTILINE)


def declare_phase(path: str, phase: str) -> None:
    """Make sure a post revision's file says so, whatever template wrote it.

    The templates of flask_schema write the line themselves; a migrations
    folder made by Flask-Migrate (or with a custom template) keeps its own
    ``script.py.mako``, so the line goes in after the header names.
    """
    if phase != POST:
        return
    with open(path, encoding="utf-8") as file:
        text = file.read()
    if _DECLARED.search(text):
        return
    anchors = list(_AFTER.finditer(text))
    line = f"phase = \"{POST}\"  # runs with 'flask db upgrade --phase post'\n"
    if anchors:
        end = max(anchor.end() for anchor in anchors) + 1
        text = text[:end] + line + text[end:]
    else:
        text = line + text
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
