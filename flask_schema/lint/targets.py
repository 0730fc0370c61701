"""Which revision files ``flask db lint`` checks, and for which backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import RevisionError

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory

    from ..sources import DatabaseSource


def in_range(script: ScriptDirectory, revisions: str) -> list[Script]:
    """One revision, or the revisions of ``start:end`` (both ends included), oldest first."""
    if ":" not in revisions:
        return [rev for rev in script.get_revisions(revisions) if rev is not None]
    base, head = (part.strip() or None for part in revisions.split(":", 1))
    found = list(script.walk_revisions(base=base or "base", head=head or "heads"))
    found.reverse()
    if base is not None and not any(rev.revision == script.get_revision(base).revision for rev in found):
        raise RevisionError(f"No revisions from {base} to {head or 'heads'}.")
    return found


def pending(script: ScriptDirectory, current: dict[Any, tuple[str, ...]]) -> list[Script]:
    """The revisions some database has not applied yet, oldest first."""
    everything = list(script.walk_revisions())
    everything.reverse()
    applied_everywhere: set[str] | None = None
    for heads in current.values() or [()]:
        applied = (
            {rev.revision for rev in script.iterate_revisions(tuple(heads), "base") if rev is not None}
            if heads
            else set()
        )
        applied_everywhere = applied if applied_everywhere is None else applied_everywhere & applied
    done = applied_everywhere or set()
    return [rev for rev in everything if rev.revision not in done]


def after_baseline(script: ScriptDirectory, baseline: str) -> list[Script]:
    """Every revision that is not ``baseline`` or one of its ancestors, oldest first.

    The baseline is the revision production has already applied when the
    lint is adopted: what it and its ancestors do is history, not a hazard.
    """
    found = script.get_revision(baseline)
    if found is None:
        raise RevisionError(f"The lint baseline {baseline!r} is not a revision.")
    return pending(script, {None: (found.revision,)})


def backends_of(source: DatabaseSource) -> dict[str, str | None]:
    """Dialect names of the app's databases, keyed as ``upgrade_<name>`` functions are.

    Only the engines' dialects are read; nothing connects. With
    ``--database``, only the databases named.
    """
    from ..selection import choose

    engines = source.engines()
    found: dict[str, str | None] = {}
    for key in choose(source.keys(), multidb=True):
        found[key or ""] = engines[key].dialect.name
    return found
