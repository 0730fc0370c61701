"""Is the database at a revision this migrations folder has?

Asked before a run takes any step, and by the read-only views. A database
at a revision the folder lacks is named plainly; only then is ``stamp
--purge`` worth suggesting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RevisionError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


def check_known(script: ScriptDirectory, label: str, current: tuple[str, ...]) -> None:
    """Refuse a database whose current revision the migrations folder lacks."""
    from alembic.script.revision import ResolutionError
    from alembic.util import CommandError

    for rev in current:
        try:
            known = script.get_revision(rev) is not None
        except (ResolutionError, CommandError):
            known = False
        if not known:
            raise RevisionError(
                f"{label}: the database is at revision {rev}, which the migrations folder does "
                "not have. Check out the code that wrote it, or run 'flask db stamp --purge REV' "
                "with a revision you have if you know the schema matches it."
            )
