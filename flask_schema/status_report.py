"""Read-only views of where each database stands: ``status`` and ``upgrade --plan``.

Both read the version table through the project's ``env.py`` (so every
database of a multi-database project is covered) and change nothing: no
lock, no version table created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .alembic_private import downgrade_steps, upgrade_steps
from .run.known import check_known

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory


@dataclass
class DatabaseStatus:
    """The revisions of one database, oldest first, each applied or pending."""

    label: str
    current: tuple[str, ...]
    revisions: list[tuple[Script, bool]] = field(default_factory=list)
    #: Revisions an earlier run left half-applied (see :mod:`flask_schema.run.runlog`).
    unfinished: list[str] = field(default_factory=list)
    #: Pending revisions ``upgrade --phase pre`` would hold back (see :mod:`flask_schema.phases`).
    held_back: set[str] = field(default_factory=set)
    #: The phase asked about: ``"pre"`` leaves :attr:`held_back` out of :attr:`due`.
    phase: str | None = None

    @property
    def pending(self) -> list[Script]:
        return [script for script, applied in self.revisions if not applied]

    @property
    def due(self) -> list[Script]:
        """The pending revisions the phase asked about applies: the deploy gate's list."""
        if self.phase != "pre":
            return self.pending
        return [script for script in self.pending if script.revision not in self.held_back]


def _each_database(config: Config, script: ScriptDirectory, visit: Any) -> None:
    """Call ``visit(label, migration_context)`` for each database, read-only."""
    from .run.environment import execute
    from .run.request import RunRequest

    execute(config, script, RunRequest("read", visit=visit))


def _applied_ids(script: ScriptDirectory, label: str, current: tuple[str, ...]) -> set[str]:
    check_known(script, label, current)
    return {found.revision for found in script.iterate_revisions(current, "base")}


def read_status(config: Config, script: ScriptDirectory, phase: str | None = None) -> list[DatabaseStatus]:
    from .alembic_private import upgrade_steps
    from .phases import held_back
    from .run.report import revision_of
    from .run.runlog import RunLog

    oldest_first = list(reversed(list(script.walk_revisions())))
    found: list[DatabaseStatus] = []

    def visit(label: str, context: Any) -> None:
        current = tuple(context.get_current_heads())
        applied = _applied_ids(script, label, current)
        entry = DatabaseStatus(label, current, phase=phase)
        entry.revisions = [(rev, rev.revision in applied) for rev in oldest_first]
        _, waiting = held_back(upgrade_steps(script, "heads", current))
        entry.held_back = {str(revision_of(step)) for step in waiting}
        if context.connection is not None:
            runlog = RunLog(context.connection, context.version_table, context.version_table_schema)
            entry.unfinished = [item.describe() for item in runlog.entries()]
        found.append(entry)

    _each_database(config, script, visit)
    return found


def read_plan(
    config: Config,
    script: ScriptDirectory,
    revision: str,
    downgrade: bool = False,
    phase: str | None = None,
) -> list[tuple[str, list[str]]]:
    """Each database's steps, as text; post-deploy ones marked `` [post]``."""
    from .phases import POST, held_back, phase_of

    found: list[tuple[str, list[str]]] = []
    steps_to = downgrade_steps if downgrade else upgrade_steps

    def visit(label: str, context: Any) -> None:
        current = tuple(context.get_current_heads())
        check_known(script, label, current)
        steps = steps_to(script, revision, current)
        if phase == "pre":
            steps, _ = held_back(steps)
        found.append(
            (label, [f"{step} [post]" if phase_of(step.revision) == POST else str(step) for step in steps])
        )

    _each_database(config, script, visit)
    return found
