"""Every private Alembic name flask_schema uses, in one place, each with why.

Alembic's public API covers running ``env.py`` and configuring a migration
context, but a few things flask_schema must do have no public spelling.
Keeping each use here, behind a function named for what it does, means an
Alembic release that changes one of them breaks one function, found by the
tests of the lowest and newest Alembic versions, not code all over the
package.

=============================================  ===================================================
private name                                   why
=============================================  ===================================================
``ScriptDirectory._upgrade_revs``              the steps from the current heads to a target, as
                                               ``alembic.command.upgrade`` computes them
``ScriptDirectory._downgrade_revs``            the same for ``downgrade``
``ScriptDirectory._stamp_revs``                the version-table changes of ``stamp``, so that
                                               ``stamp`` and ``resolve --applied`` run in our run
``MigrationContext._ensure_version_table``     ``ensure-version`` inside our run, as Alembic's does
``ScriptDirectory._version_locations``         the folders to read revision headers from
``alembic.script.base._only_source_rev_file``  which file names Alembic takes as revisions
``Script._from_path``/``Script._list_py_dir``  load or list files the header reader cannot read
``Operations._to_impl``                        the implementation of an operation, to wrap the
                                               drop operations with a notice of what they discard
``Script._db_current_indicator``               mark current revisions in ``history -i`` output
``MigrateOperation._reverse``                  whether autogenerate kept the dropped table's
                                               definition (for reversible drops)
``DefaultImpl.memo``                           which named types (PostgreSQL enums) a migration
                                               context already created; cleared between the
                                               moves of one walk, as a new command would start
``Script._all_down_revisions``                 a revision's parents and dependencies, for the
                                               toolkit's walk of the history
=============================================  ===================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory


def upgrade_steps(script: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """The upgrade steps from ``heads`` to ``target``."""
    return list(script._upgrade_revs(target, tuple(heads)))  # type: ignore[arg-type]


def downgrade_steps(script: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """The downgrade steps from ``heads`` to ``target``."""
    return list(script._downgrade_revs(target, tuple(heads)))  # type: ignore[arg-type]


def stamp_steps(script: ScriptDirectory, targets: str | Sequence[str], heads: Sequence[str]) -> list[Any]:
    """The version-table changes that record ``targets`` as current."""
    wanted = targets if isinstance(targets, str) else tuple(targets)
    return list(script._stamp_revs(wanted, tuple(heads)))


def ensure_version_table(context: MigrationContext) -> None:
    """Create the version table if it does not exist."""
    context._ensure_version_table()


def version_locations(script: ScriptDirectory) -> list[Path]:
    """The folders that hold revision files."""
    return list(script._version_locations)


def is_revision_file_name(name: str) -> bool:
    """Whether Alembic would read a file of this name as a revision."""
    from alembic.script.base import _only_source_rev_file

    return bool(_only_source_rev_file.match(name))


def load_script(script: ScriptDirectory, path: str) -> Script | None:
    """Import one revision file the way Alembic does."""
    from alembic.script.base import Script

    return Script._from_path(script, path)


def list_revision_files(script: ScriptDirectory, location: Path) -> Iterable[Path]:
    """Alembic's own listing of a versions folder (nested folders, links)."""
    from alembic.script.base import Script

    return list(Script._list_py_dir(script, location))


def operation_implementation(op_class: type) -> Callable[[Any, Any], None]:
    """The function Alembic runs for an operation class."""
    from alembic.operations import Operations

    return Operations._to_impl.dispatch(op_class)  # type: ignore[no-any-return]


def mark_current(revision: Script, current: bool) -> None:
    """Have ``cmd_format`` show ``(current)`` after a revision."""
    revision._db_current_indicator = current


def reverse_of(operation: Any) -> Any:
    """The operation autogenerate recorded as the reverse of ``operation``, if any."""
    return getattr(operation, "_reverse", None)


def all_down_revisions(revision: Script) -> tuple[str, ...]:
    """The revisions ``revision`` follows, its dependencies included."""
    return tuple(revision._all_down_revisions)


def forget_created_types(context: MigrationContext) -> None:
    """Start afresh the context's record of the named types it created."""
    context.impl.memo.clear()
