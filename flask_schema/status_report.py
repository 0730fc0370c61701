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

    @property
    def pending(self) -> list[Script]:
        return [script for script, applied in self.revisions if not applied]


def _each_database(config: Config, script: ScriptDirectory, visit: Any) -> None:
    """Call ``visit(label, migration_context)`` for each database, read-only."""
    from .run.environment import execute
    from .run.request import RunRequest

    execute(config, script, RunRequest("read", visit=visit))


def _applied_ids(script: ScriptDirectory, label: str, current: tuple[str, ...]) -> set[str]:
    check_known(script, label, current)
    return {found.revision for found in script.iterate_revisions(current, "base")}


def read_status(config: Config, script: ScriptDirectory) -> list[DatabaseStatus]:
    from .run.runlog import RunLog

    oldest_first = list(reversed(list(script.walk_revisions())))
    found: list[DatabaseStatus] = []

    def visit(label: str, context: Any) -> None:
        current = tuple(context.get_current_heads())
        applied = _applied_ids(script, label, current)
        entry = DatabaseStatus(label, current)
        entry.revisions = [(rev, rev.revision in applied) for rev in oldest_first]
        if context.connection is not None:
            runlog = RunLog(context.connection, context.version_table, context.version_table_schema)
            entry.unfinished = [item.describe() for item in runlog.entries()]
        found.append(entry)

    _each_database(config, script, visit)
    return found


def read_plan(
    config: Config, script: ScriptDirectory, revision: str, downgrade: bool = False
) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    steps_to = downgrade_steps if downgrade else upgrade_steps

    def visit(label: str, context: Any) -> None:
        current = tuple(context.get_current_heads())
        check_known(script, label, current)
        steps = steps_to(script, revision, current)
        found.append((label, [str(step) for step in steps]))

    _each_database(config, script, visit)
    return found
