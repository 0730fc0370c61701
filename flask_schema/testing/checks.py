"""The built-in migration checks that ``pytest --flask-schema`` runs.

Each check takes a :class:`~flask_schema.testing.runner.MigrationRunner`
whose databases start empty, and raises :class:`CheckFailed` with a message
that says what was expected, what was found, which revision file is at
fault (and the line, when the revision's own code raised), and the
``flask db`` commands that show the same failure outside pytest.

Every check costs a number of commands linear in the history's length:
``upgrade`` is one run through every revision, and the stairway and
``downgrade_leaves_no_trace`` are one walk (up, down, up for each
revision) that reads back only what each step's SQL names. The two walk
the same steps from the same empty database, so when both are selected
in one session the first to run records what the walk found (both
verdicts) and the second reads it instead of walking again.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..alembic_private import all_down_revisions
from ..api import describe_diff
from ..errors import ChangesDetected, FlaskSchemaError
from .runner import MigrationRunner
from .schema import SchemaDiff, Snapshot, compare, names_in, restrict, touched_tables, update

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


def describe_error(error: BaseException, revisions: Sequence[Script]) -> str:
    """The error as one line, with the revision file and line its own code raised at."""
    if isinstance(error, FlaskSchemaError):
        text = str(error)
    else:
        lines = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    found = raised_in(error, revisions)
    if found is not None and f"{os.path.relpath(found[0].path)}, line" not in text:
        script, frame = found
        text += f" (at {os.path.relpath(script.path)}, line {frame.lineno}: {frame.line})"
    return text


def raised_in(error: BaseException, revisions: Sequence[Script]) -> tuple[Script, Any] | None:
    """The revision whose file the error (or its cause) was raised in, and the deepest frame there."""
    by_path = {os.path.abspath(script.path): script for script in revisions}
    seen: set[int] = set()
    current: BaseException | None = error
    found = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame in traceback.extract_tb(current.__traceback__):
            script = by_path.get(os.path.abspath(frame.filename))
            if script is not None:
                found = (script, frame)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _first_pending(runner: MigrationRunner, revisions: Sequence[Script]) -> Script | None:
    """The first revision, in upgrade order, that the databases have not applied."""
    applied: set[str] = set()
    by_id = {script.revision: script for script in revisions}
    todo = [rev for revs in runner.current_heads().values() for rev in revs]
    while todo:
        rev = todo.pop()
        if rev in applied or rev not in by_id:
            continue
        applied.add(rev)
        todo.extend(all_down_revisions(by_id[rev]))
    return next((script for script in revisions if script.revision not in applied), None)


def upgrade(runner: MigrationRunner) -> None:
    """Every revision upgrades, in order, from an empty database to the head."""
    revisions = runner.revisions()
    try:
        runner.upgrade("heads")
    except Exception as error:  # a revision's own code may raise anything
        found = raised_in(error, revisions)
        try:
            script = found[0] if found is not None else _first_pending(runner, revisions)
        except Exception:  # the database may be unreadable after the failure
            script = None
        if script is None:
            raise CheckFailed(
                f"Expected upgrading an empty database to the head to succeed, but it failed: "
                f"{describe_error(error, revisions)}\n{_reproduce('upgrade')}"
            ) from None
        index = revisions.index(script)
        start = f"from {revisions[index - 1].revision} " if index else "from an empty database "
        raise CheckFailed(
            f"Expected upgrading {start}to {describe_revision(script)} to succeed, "
            f"but it failed: {describe_error(error, revisions)}\n{_reproduce(f'upgrade {script.revision}')}"
        ) from None
    expected = set(runner.heads())
    for key, found_heads in runner.current_heads().items():
        if set(found_heads) != expected:
            raise CheckFailed(
                f"Expected the {'default' if key is None else key} database at "
                f"{', '.join(sorted(expected))} after upgrading, found "
                f"{', '.join(found_heads) or 'no revision'}.\n{_reproduce('upgrade heads', 'current')}"
            )


# -- the walk: up, down and up again for each revision ----------------------------


@dataclass
class StepFailure:
    """A step of the walk that raised."""

    script: Script
    index: int  # 0: upgrade, 1: downgrade, 2: upgrade again
    steps: list[tuple[str, str]]
    error: str


@dataclass
class Leftover:
    """A downgrade that did not give back the schema from before its upgrade."""

    script: Script
    parent: str
    diff: SchemaDiff


@dataclass
class Walk:
    """What walking the history found: the first failing step, the first leftover."""

    failure: StepFailure | None = None
    leftover: Leftover | None = None
    #: Whether the leftover was looked for (``downgrade_leaves_no_trace`` wanted).
    compared: bool = False
    #: How many round trips were compared.
    compared_count: int = 0
    #: The schema at the head as the walk kept it, to compare with the real one.
    tracked: Snapshot | None = None


WALK_MEMO = "flask_schema.walk"


def _recorded_walk(runner: MigrationRunner, check_name: str) -> Walk | None:
    """The walk another check of the session recorded, if it answers ``check_name``."""
    found = runner.memo.get((WALK_MEMO, runner.key()))
    if isinstance(found, Walk) and (found.compared or check_name == "stairway"):
        return found
    return None


def answered_by_recorded_walk(check_name: str) -> Callable[[MigrationRunner], bool]:
    """For :attr:`Check.answered`: whether a recorded walk answers the check."""

    def answered(runner: MigrationRunner) -> bool:
        return _recorded_walk(runner, check_name) is not None

    return answered


def _walk_for(runner: MigrationRunner, check_name: str) -> Walk:
    """The walk for ``check_name``: the one another check of the session recorded, or a new one."""
    key = (WALK_MEMO, runner.key())
    found = _recorded_walk(runner, check_name)
    runner.memo.pop(key, None)
    if found is not None:
        return found
    other = "downgrade_leaves_no_trace" if check_name == "stairway" else "stairway"
    still_to_run = runner.memo.get(STILL_TO_RUN, set())
    compare_schema = check_name == "downgrade_leaves_no_trace" or other in still_to_run
    walk = walk_history(runner, compare_schema, exact=False)
    if walk.tracked is not None and compare(walk.tracked, runner.schema(quick=True)):
        # The head's schema is not what the steps' SQL named (a trigger, a CASCADE):
        # walk again from the base, reading the whole schema at each step.
        try:
            runner.downgrade("base")
        except Exception as error:  # a revision's own code may raise anything
            problem = describe_error(error, runner.revisions())
            raise CheckFailed(
                "The schema at the head differs from what the revisions' SQL named, and "
                f"downgrading to the base to look closer failed: {problem}\n"
                + _reproduce("upgrade", "downgrade base")
            ) from None
        walk = walk_history(runner, compare_schema, exact=True)
    if other in still_to_run:
        runner.memo[key] = walk
    return walk


#: Memo key: the names of the checks selected for the session that have not run yet.
STILL_TO_RUN = "flask_schema.still_to_run"


def walk_history(runner: MigrationRunner, compare_schema: bool, exact: bool) -> Walk:
    """Upgrade, downgrade and upgrade again each revision, oldest first.

    With ``compare_schema``, the schema after each downgrade is compared
    with the one before the upgrade: read whole each time when ``exact``,
    else only what each step's SQL names (see :mod:`.schema`).
    """
    revisions = runner.revisions()
    linear = _is_linear(revisions)
    walk = Walk(compared=compare_schema)
    known = runner.schema(quick=True) if compare_schema else {}
    moves: list[tuple[str, str]] = []
    for script in revisions:
        parent = _parent(script, linear)
        moves += [("upgrade", script.revision), ("downgrade", parent), ("upgrade", script.revision)]
    done = 0
    named: set[str] = set()
    alone_in = runner.labels_where_index_names_stand_alone()

    def after_move(position: int) -> None:
        """Look at the database after each move, as the walk goes."""
        nonlocal done, known, named
        script, index = revisions[position // 3], position % 3
        batch = list(statements)
        statements.clear()
        done = position + 1
        if not compare_schema:
            return
        if index == 0:
            named = set()
        named |= names_in(batch)
        if index == 1 and walk.leftover is None:
            tables = None if exact else touched_tables(known, named, alone_in)
            after = runner.schema(tables, quick=True)
            before = known if tables is None else restrict(known, tables)
            diff = compare(before, after)
            if diff:
                walk.leftover = Leftover(script, _parent(script, linear), diff)
            walk.compared_count += 1
        if index == 2:
            if exact:
                known = runner.schema(quick=True)
            else:
                tables = touched_tables(known, named, alone_in)
                known = update(known, runner.schema(tables, quick=True), tables)
        statements.clear()  # the reads above are ours, not the next step's

    with runner.reading_schema(), runner.recorded_statements() as statements:
        try:
            runner.walk(moves, after_move)
        except Exception as error:  # a revision's own code may raise anything
            first = done // 3 * 3
            walk.failure = StepFailure(
                revisions[done // 3], done % 3, moves[first : first + 3], describe_error(error, revisions)
            )
            walk.tracked = None
            return walk
    walk.tracked = known if compare_schema and walk.leftover is None else None
    return walk


def stairway(runner: MigrationRunner) -> None:
    """Each revision upgrades, downgrades and upgrades again (up, down, up)."""
    failure = _walk_for(runner, "stairway").failure
    if failure is not None:
        name, target = failure.steps[failure.index]
        done = [f"{n} {t}" for n, t in failure.steps[: failure.index + 1]]
        raise CheckFailed(
            f"Stairway failed at {describe_revision(failure.script)}: expected "
            f"'flask db {name} {target}' to succeed (step {failure.index + 1} of up, down, up), "
            f"but it failed: {failure.error}\n{_reproduce(*done)}"
        )


def downgrade_leaves_no_trace(runner: MigrationRunner) -> None:
    """Downgrading a revision gives back exactly the schema it was upgraded from."""
    walk = _walk_for(runner, "downgrade_leaves_no_trace")
    leftover, failure = walk.leftover, walk.failure
    if leftover is not None:
        script, parent = leftover.script, leftover.parent
        down = script.down_revision
        earlier = [down] if isinstance(down, str) else list(down or ())
        start = [f"upgrade {revision}" for revision in earlier]
        found = "\n".join(f"  {line}" for line in leftover.diff.lines())
        raise CheckFailed(
            f"Expected downgrading {describe_revision(script)} to {parent} to give back the "
            f"schema from before its upgrade, found:\n{found}\n"
            + _reproduce(*start, f"upgrade {script.revision}", f"downgrade {parent}")
            + " (the schema should end as it was before the upgrade)"
        )
    if failure is None:
        return
    script = failure.script
    up, down = failure.steps[0][1], failure.steps[1][1]
    if failure.index < 2:
        raise CheckFailed(
            f"Could not upgrade and downgrade {describe_revision(script)}: {failure.error}\n"
            + _reproduce(f"upgrade {up}", f"downgrade {down}")
        )
    raise CheckFailed(
        f"Could not upgrade {describe_revision(script)} again after downgrading it: {failure.error}\n"
        + _reproduce(f"upgrade {up}", f"downgrade {down}", f"upgrade {up}")
    )


def models_match(runner: MigrationRunner) -> None:
    """After upgrading to the head, autogenerate finds no difference to the models."""
    try:
        # Nothing to do on databases that a passed ``upgrade`` check left at the head.
        runner.upgrade("heads")
    except Exception as error:  # a revision's own code may raise anything
        raise CheckFailed(
            "Could not upgrade to the head to compare the models: "
            f"{describe_error(error, runner.revisions())}\n{_reproduce('upgrade')}"
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
    except Exception as error:  # the models' own code may raise anything
        raise CheckFailed(
            f"Could not compare the models: {describe_error(error, [])}\n{_reproduce('upgrade', 'check')}"
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


#: A state of a check's databases: upgraded from empty to the head, each revision in order.
AT_HEAD = "head"


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[MigrationRunner], None]
    #: False for checks that read only the revision files, so none is made.
    needs_database: bool = True
    #: When the check passes, the state its databases are left in, for a later check to start from.
    leaves: str | None = None
    #: The state this check would bring empty databases to first; it starts from databases a
    #: passed check left in that state, where there are some, instead of doing it again.
    starts_from: str | None = None
    #: Whether what an earlier check recorded answers this one, so it needs no database at all.
    answered: Callable[[MigrationRunner], bool] | None = None

    @property
    def description(self) -> str:
        return (self.run.__doc__ or "").strip()


#: The checks, by the name used to select them, in the order they run.
CHECKS: dict[str, Check] = {
    check.name: check
    for check in [
        Check("single_head", single_head, needs_database=False),
        Check("upgrade", upgrade, leaves=AT_HEAD),
        Check("stairway", stairway, answered=answered_by_recorded_walk("stairway")),
        Check(
            "downgrade_leaves_no_trace",
            downgrade_leaves_no_trace,
            answered=answered_by_recorded_walk("downgrade_leaves_no_trace"),
        ),
        Check("models_match", models_match, starts_from=AT_HEAD),
    ]
}
