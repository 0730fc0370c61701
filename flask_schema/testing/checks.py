"""The built-in migration checks that ``pytest --flask-schema`` runs.

Each check takes a :class:`~flask_schema.testing.runner.MigrationRunner`
whose databases start empty, and raises :class:`CheckFailed` with a message
that says what was expected, what was found, which revision file is at
fault, and the ``flask db`` commands that show the same failure outside
pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..api import describe_diff
from ..errors import ChangesDetected, FlaskSchemaError
from .runner import MigrationRunner
from .schema import compare

if TYPE_CHECKING:
    from alembic.script import Script


class CheckFailed(Exception):
    """A migration check found a problem; the message explains it fully."""


def describe_revision(script: Script) -> str:
    """``1a2b3c ("add tags", migrations/versions/1a2b3c_add_tags.py)``."""
    message = (script.doc or "").strip().splitlines()
    title = f'"{message[0]}", ' if message else ""
    return f"{script.revision} ({title}{os.path.relpath(script.path)})"


def _parent(script: Script, linear: bool) -> str:
    """The downgrade target that undoes ``script`` and nothing else.

    In a straight history that is the previous revision. Where the history
    branches, downgrading to a revision would also undo the other branch,
    so ``REV@-1`` steps back along this revision's branch only; for a merge,
    downgrading to one of the merged revisions undoes just the merge.
    """
    down = script.down_revision
    if down is not None and not isinstance(down, str):
        return str(down[0])
    if not linear:
        return f"{script.revision}@-1"
    return down if down is not None else "base"


def _is_linear(revisions: list[Script]) -> bool:
    return sum(script.is_head for script in revisions) <= 1 and not any(
        script.is_branch_point or script.is_merge_point for script in revisions
    )


def _reproduce(*commands: str) -> str:
    return "Reproduce on an empty database with: " + " && ".join(f"flask db {c}" for c in commands)


def single_head(runner: MigrationRunner) -> None:
    """The history has exactly one head, so ``flask db upgrade`` knows where to go."""
    heads = [script for script in runner.revisions() if script.is_head]
    if not heads:
        raise CheckFailed(
            "Expected one head revision, found none: the migrations folder has no revisions. "
            'Write the first with: flask db migrate -m "initial"'
        )
    if len(heads) > 1:
        listed = "\n".join(f"  {describe_revision(script)}" for script in heads)
        ids = " ".join(script.revision for script in heads)
        raise CheckFailed(
            f"Expected one head revision, found {len(heads)}:\n{listed}\n"
            f'Join them with: flask db merge -m "merge heads" {ids}'
        )


def upgrade(runner: MigrationRunner) -> None:
    """Every revision upgrades, in order, from an empty database to the head."""
    previous = None
    for script in runner.revisions():
        try:
            runner.upgrade(script.revision)
        except FlaskSchemaError as error:
            start = f"from {previous} " if previous else "from an empty database "
            raise CheckFailed(
                f"Expected upgrading {start}to {describe_revision(script)} to succeed, "
                f"but it failed: {error}\n{_reproduce(f'upgrade {script.revision}')}"
            ) from None
        previous = script.revision
    expected = set(runner.heads())
    for key, found in runner.current_heads().items():
        if set(found) != expected:
            raise CheckFailed(
                f"Expected the {'default' if key is None else key} database at "
                f"{', '.join(sorted(expected))} after upgrading, found "
                f"{', '.join(found) or 'no revision'}.\n{_reproduce('upgrade heads', 'current')}"
            )


def stairway(runner: MigrationRunner) -> None:
    """Each revision upgrades, downgrades and upgrades again (up, down, up)."""
    revisions = runner.revisions()
    for script in revisions:
        parent = _parent(script, _is_linear(revisions))
        steps = [
            ("upgrade", script.revision, runner.upgrade),
            ("downgrade", parent, runner.downgrade),
            ("upgrade", script.revision, runner.upgrade),
        ]
        for index, (name, target, step) in enumerate(steps):
            try:
                step(target)
            except FlaskSchemaError as error:
                done = [f"{n} {t}" for n, t, _ in steps[: index + 1]]
                raise CheckFailed(
                    f"Stairway failed at {describe_revision(script)}: expected "
                    f"'flask db {name} {target}' to succeed (step {index + 1} of up, down, up), "
                    f"but it failed: {error}\n{_reproduce(*done)}"
                ) from None


def downgrade_leaves_no_trace(runner: MigrationRunner) -> None:
    """Downgrading a revision gives back exactly the schema it was upgraded from."""
    revisions = runner.revisions()
    for script in revisions:
        parent = _parent(script, _is_linear(revisions))
        before = runner.schema()
        try:
            runner.upgrade(script.revision)
            runner.downgrade(parent)
        except FlaskSchemaError as error:
            raise CheckFailed(
                f"Could not upgrade and downgrade {describe_revision(script)}: {error}\n"
                + _reproduce(f"upgrade {script.revision}", f"downgrade {parent}")
            ) from None
        diff = compare(before, runner.schema())
        if diff:
            down = script.down_revision
            earlier = [down] if isinstance(down, str) else list(down or ())
            start = [f"upgrade {revision}" for revision in earlier]
            found = "\n".join(f"  {line}" for line in diff.lines())
            raise CheckFailed(
                f"Expected downgrading {describe_revision(script)} to {parent} to give back the "
                f"schema from before its upgrade, found:\n{found}\n"
                + _reproduce(*start, f"upgrade {script.revision}", f"downgrade {parent}")
                + " (the schema should end as it was before the upgrade)"
            )
        try:
            runner.upgrade(script.revision)
        except FlaskSchemaError as error:
            raise CheckFailed(
                f"Could not upgrade {describe_revision(script)} again after downgrading it: {error}\n"
                + _reproduce(
                    f"upgrade {script.revision}", f"downgrade {parent}", f"upgrade {script.revision}"
                )
            ) from None


def models_match(runner: MigrationRunner) -> None:
    """After upgrading to the head, autogenerate finds no difference to the models."""
    try:
        runner.upgrade("heads")
    except FlaskSchemaError as error:
        raise CheckFailed(
            f"Could not upgrade to the head to compare the models: {error}\n{_reproduce('upgrade')}"
        ) from None
    try:
        runner.check()
    except ChangesDetected as changes:
        found = "\n".join(f"  {describe_model_diff(diff)}" for diff in changes.diffs)
        raise CheckFailed(
            "Expected the models to match the schema the migrations build, found "
            f"{len(changes.diffs)} difference{'s' if len(changes.diffs) != 1 else ''}:\n{found}\n"
            'Write a revision for them with: flask db migrate -m "..."\n' + _reproduce("upgrade", "check")
        ) from None
    except FlaskSchemaError as error:
        raise CheckFailed(
            f"Could not compare the models: {error}\n{_reproduce('upgrade', 'check')}"
        ) from None


def describe_model_diff(diff: Any) -> str:
    """Say what one Alembic autogenerate difference means for the person reading."""
    if isinstance(diff, list):
        return "; ".join(describe_model_diff(item) for item in diff)
    kind = diff[0]
    missing = "is in the models but no migration creates it"
    extra = "is created by the migrations but is in no model"
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name} {missing if kind == 'add_table' else extra}"
    if kind in ("add_column", "remove_column"):
        column = diff[3]
        what = f"column {diff[2]}.{column.name} ({column.type})"
        return f"{what} {missing if kind == 'add_column' else extra}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        item = diff[1]
        noun = {"index": "index", "constraint": "constraint", "fk": "foreign key"}[kind.split("_", 1)[1]]
        columns = ", ".join(column.name for column in getattr(item, "columns", ()))
        table = getattr(getattr(item, "table", None), "name", "?")
        name = item.name or f"({columns})"
        return f"{noun} {name} on {table} {missing if kind.startswith('add') else extra}"
    if kind in ("modify_type", "modify_nullable", "modify_default", "modify_comment"):
        _, _, table, column, _, existing, new = diff
        if kind == "modify_nullable":
            existing = "NULL" if existing else "NOT NULL"
            new = "NULL" if new else "NOT NULL"
        attribute = kind.split("_", 1)[1]
        return f"column {table}.{column}: the migrations give {attribute} {existing}, the model says {new}"
    return describe_diff(diff)


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[MigrationRunner], None]
    #: False for checks that read only the revision files, so none is made.
    needs_database: bool = True

    @property
    def description(self) -> str:
        return (self.run.__doc__ or "").strip()


#: The checks, by the name used to select them, in the order they run.
CHECKS: dict[str, Check] = {
    check.name: check
    for check in [
        Check("single_head", single_head, needs_database=False),
        Check("upgrade", upgrade),
        Check("stairway", stairway),
        Check("downgrade_leaves_no_trace", downgrade_leaves_no_trace),
        Check("models_match", models_match),
    ]
}
