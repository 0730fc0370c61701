"""Split what autogenerate found into a pre- and a post-deploy revision.

A model change often mixes what the running (old) release survives, a new
table or a nullable column, with what breaks it: a column or table it still
reads dropped, a column it still writes renamed, a NOT NULL column it does
not fill. Written as one revision, the change breaks the old release during
a rolling deploy. :func:`split` runs after the review of
:mod:`flask_schema.autogen` and, when both kinds are there, writes two
revisions (see :mod:`flask_schema.phases`):

* pre: the additive operations; a new NOT NULL column added nullable; a
  renamed column added under its new name with the data copied over (and,
  where the backend has one, a trigger that keeps both columns equal while
  both releases run), the old column made nullable so the new release can
  insert without it;
* post: the drops; NOT NULL set after a backfill; for a rename, the trigger
  and the old column dropped, after copying what the old release wrote.

Each revision's downgrade undoes exactly its own part. Only the ops of a
single-database project are split; with several databases each would need
its own pair, and the lint still points at what breaks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from .phases import PHASES_ATTRIBUTE, POST

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations.ops import MigrateOperation, MigrationScript
    from alembic.runtime.migration import MigrationContext

log = logging.getLogger("flask_schema")

#: ``config.attributes`` key: ``False`` when ``--no-split`` asked for one revision.
SPLIT_ATTRIBUTE = "flask_schema.split"

Ops = list["MigrateOperation"]


@dataclass
class _Parts:
    """What one revision becomes: the upgrade and downgrade operations of each phase."""

    pre_up: Ops = field(default_factory=list)
    #: The pre revision's own downgrade steps, before what autogenerate wrote for the rest.
    pre_down: Ops = field(default_factory=list)
    post_up: Ops = field(default_factory=list)
    post_down: Ops = field(default_factory=list)
    #: The downgrade operations autogenerate wrote for an op moved or rewritten.
    taken: list[Any] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def undo(self, phase: str, table: str, schema: str | None, steps: Ops) -> None:
        """Put ``steps`` (in the order they run) first in ``phase``'s downgrade."""
        target = self.post_down if phase == POST else self.pre_down
        target[:0] = _grouped(table, schema, steps)


def split(context: MigrationContext, directives: list[MigrationScript], config: Config) -> None:
    """Turn ``directives[0]`` into a pre and a post revision when it breaks the old release."""
    if config.attributes.get(SPLIT_ATTRIBUTE) is False or len(directives) != 1:
        return
    script = directives[0]
    if len(script.upgrade_ops_list) != 1 or context.opts.get("upgrade_token", "upgrades") != "upgrades":
        return
    upgrade, downgrade = script.upgrade_ops_list[0], script.downgrade_ops_list[0]
    parts = _partition(context, upgrade.ops, downgrade.ops)
    if not parts.post_up:
        return
    phases = config.attributes.setdefault(PHASES_ATTRIBUTE, {})
    if not parts.pre_up:
        phases[script.rev_id] = POST
        log.info(
            f"This revision only {'; '.join(parts.said)}, which would break the release still "
            "running, so it is a post-deploy revision ('flask db upgrade --phase post' runs it)."
        )
        return
    from alembic.operations.ops import DowngradeOps, MigrationScript, UpgradeOps
    from alembic.util import rev_id

    upgrade.ops = parts.pre_up
    downgrade.ops = parts.pre_down + _without(downgrade.ops, parts.taken)
    post = MigrationScript(
        rev_id=rev_id(),
        message=f"{script.message or 'changes'} (post-deploy)",
        upgrade_ops=UpgradeOps(parts.post_up, upgrade_token=upgrade.upgrade_token),
        downgrade_ops=DowngradeOps(parts.post_down, downgrade_token=downgrade.downgrade_token),
        head=script.rev_id,
        version_path=script.version_path,
    )
    post.imports = set(script.imports)
    directives.append(post)
    phases[post.rev_id] = POST
    log.info(
        f"Split into two revisions so the running release keeps working: {script.rev_id} (pre) runs "
        f"before the new release starts; {post.rev_id} (post) {'; '.join(parts.said)}, and runs "
        "with 'flask db upgrade --phase post' once the old release is gone. "
        "Pass --no-split for one revision."
    )


# -- sorting the operations ----------------------------------------------------------


def _partition(context: MigrationContext, upgrade: Ops, downgrade: Ops) -> _Parts:
    from alembic.operations.ops import DropTableOp, ModifyTableOps

    parts = _Parts()
    moved = False  # whether the op before went to the post revision
    for op in upgrade:
        if moved and _drops_what_came_before(op):
            parts.post_up.append(op)  # DROP TYPE after the last table using it (enums.py)
            continue
        moved = isinstance(op, DropTableOp)
        if isinstance(op, DropTableOp):
            parts.post_up.append(op)
            found = _counterparts(downgrade, partial(_is_create_of, table=op.table_name, schema=op.schema))
            parts.taken += found
            parts.post_down[:0] = found
            parts.said.append(f"drops table {op.table_name}")
        elif isinstance(op, ModifyTableOps):
            pre, post = _split_table(context, op, downgrade, parts)
            parts.pre_up += _grouped(op.table_name, op.schema, pre)
            parts.post_up += _grouped(op.table_name, op.schema, post)
        else:
            parts.pre_up.append(op)
    return parts


def _drops_what_came_before(op: Any) -> bool:
    """SQL that the review put after a drop to drop what only that drop used."""
    from alembic.operations.ops import ExecuteSQLOp

    return isinstance(op, ExecuteSQLOp) and str(op.sqltext).lstrip().upper().startswith("DROP ")


def _split_table(context: MigrationContext, table_ops: Any, downgrade: Ops, parts: _Parts) -> tuple[Ops, Ops]:
    from alembic.operations.ops import AddColumnOp, AlterColumnOp, DropColumnOp

    table, schema = table_ops.table_name, table_ops.schema
    pre: Ops = []
    post: Ops = []
    for op in table_ops.ops:
        if isinstance(op, DropColumnOp):
            post.append(op)
            found = _counterparts(downgrade, partial(_adds, name=op.column_name), table)
            parts.taken += found
            parts.undo(POST, table, schema, found)
            parts.said.append(f"drops column {table}.{op.column_name}")
        elif isinstance(op, AlterColumnOp) and op.modify_name:
            parts.taken += _counterparts(downgrade, partial(_alters, name=op.modify_name), table)
            _rename(context, op, parts, pre, post)
        elif isinstance(op, AlterColumnOp) and op.modify_nullable is False and op.modify_type is None:
            post += [_backfill_note(table, op.column_name), op]
            found = _counterparts(downgrade, partial(_alters, name=op.column_name), table)
            parts.taken += found
            parts.undo(POST, table, schema, found)
            parts.said.append(f"makes {table}.{op.column_name} NOT NULL")
        elif isinstance(op, AddColumnOp) and _breaks_inserts(op):
            _add_nullable_first(context, op, parts, pre, post)
        else:
            pre.append(op)
    return pre, post


def _breaks_inserts(op: Any) -> bool:
    """A NOT NULL column without a server default: the old release's INSERTs fail."""
    column = op.column
    return column.nullable is False and column.server_default is None and not column.primary_key


def _add_nullable_first(context: MigrationContext, op: Any, parts: _Parts, pre: Ops, post: Ops) -> None:
    """Pre: add the column nullable (its drop stays the downgrade); post: backfill, NOT NULL."""
    from alembic.operations.ops import AddColumnOp, AlterColumnOp, ExecuteSQLOp

    column = op.column.copy()
    column.nullable = True
    table, schema = op.table_name, op.schema
    pre.append(AddColumnOp(table, column, schema=schema))
    default = op.column.default
    if default is not None and getattr(default, "is_scalar", False):
        quoted = _quote(context, column.name)
        post.append(
            ExecuteSQLOp(
                f"UPDATE {_table_sql(context, table, schema)} SET {quoted} = "
                f"{_literal(context, default.arg)} WHERE {quoted} IS NULL"
            )
        )
    else:
        post.append(_backfill_note(table, column.name))
    post.append(
        AlterColumnOp(
            table,
            column.name,
            schema=schema,
            existing_type=column.type,
            existing_nullable=True,
            modify_nullable=False,
        )
    )
    parts.undo(
        POST,
        table,
        schema,
        [
            AlterColumnOp(
                table,
                column.name,
                schema=schema,
                existing_type=column.type,
                existing_nullable=False,
                modify_nullable=True,
            )
        ],
    )
    parts.said.append(f"makes the new column {table}.{column.name} NOT NULL")


def _rename(context: MigrationContext, op: Any, parts: _Parts, pre: Ops, post: Ops) -> None:
    """A rename becomes add + copy (+ keep in step) before, and drop after."""
    from alembic.operations.ops import AddColumnOp, AlterColumnOp, DropColumnOp, ExecuteSQLOp
    from sqlalchemy import Column

    from .backends import backend_for

    table, schema, old, new = op.table_name, op.schema, op.column_name, op.modify_name
    old_type = op.existing_type
    new_type = op.modify_type if op.modify_type is not None else old_type
    was_not_null = op.existing_nullable is False
    ends_not_null = op.modify_nullable is False or (op.modify_nullable is None and was_not_null)
    table_sql = _table_sql(context, table, schema)
    quoted_old, quoted_new = _quote(context, old), _quote(context, new)
    name = _quote(context, f"fs_sync_{table}_{old}"[:63])
    start, stop = backend_for(context.dialect.name).column_sync_sql(table_sql, quoted_old, quoted_new, name)

    def sql(statements: list[str]) -> Ops:
        return [ExecuteSQLOp(statement) for statement in statements]

    def nullable(column: str, type_: Any, to: bool) -> MigrateOperation:
        return AlterColumnOp(
            table, column, schema=schema, existing_type=type_, existing_nullable=not to, modify_nullable=to
        )

    pre.append(AddColumnOp(table, Column(new, new_type, nullable=True), schema=schema))
    pre.append(ExecuteSQLOp(f"UPDATE {table_sql} SET {quoted_new} = {quoted_old}"))
    pre += sql(start)
    undo_pre: Ops = [*sql(stop), DropColumnOp.from_column_and_tablename(schema, table, Column(new, new_type))]
    if was_not_null:
        pre.append(nullable(old, old_type, True))  # the new release inserts rows without it
        undo_pre.insert(0, nullable(old, old_type, False))
    parts.undo("pre", table, schema, undo_pre)

    post += sql(stop)
    post.append(
        ExecuteSQLOp(f"UPDATE {table_sql} SET {quoted_new} = {quoted_old} WHERE {quoted_new} IS NULL")
    )
    post.append(DropColumnOp.from_column_and_tablename(schema, table, Column(old, old_type)))
    undo_post: Ops = [
        AddColumnOp(table, Column(old, old_type, nullable=True), schema=schema),
        ExecuteSQLOp(f"UPDATE {table_sql} SET {quoted_old} = {quoted_new}"),
        *sql(start),
    ]
    if ends_not_null:
        post.append(nullable(new, new_type, False))
        undo_post.insert(0, nullable(new, new_type, True))
    parts.undo(POST, table, schema, undo_post)
    parts.said.append(f"drops {table}.{old}, renamed to {new}")


def _grouped(table: str, schema: str | None, items: Ops) -> Ops:
    """Runs of table changes in one ``ModifyTableOps`` each; SQL and comments between them.

    SQL must not sit in a batch (SQLite's ``batch_alter_table`` applies its
    changes at the end of the block, after any SQL inside it would run).
    """
    from alembic.operations.ops import ExecuteSQLOp, ModifyTableOps

    from .comment_op import is_comment

    grouped: Ops = []
    run: Ops = []
    for item in items:
        if isinstance(item, ExecuteSQLOp) or is_comment(item) or not hasattr(item, "table_name"):
            if run:
                grouped.append(ModifyTableOps(table, run, schema=schema))
                run = []
            grouped.append(item)
        else:
            run.append(item)
    if run:
        grouped.append(ModifyTableOps(table, run, schema=schema))
    return grouped


# -- the downgrade side --------------------------------------------------------------


def _counterparts(downgrade: Ops, matches: Callable[[Any], bool], table: str | None = None) -> list[Any]:
    """The downgrade operations ``matches`` picks (inside ``table``'s group when given)."""
    from alembic.operations.ops import ModifyTableOps

    found = []
    for op in downgrade:
        if isinstance(op, ModifyTableOps):
            if table is None or op.table_name == table:
                found += [inner for inner in op.ops if matches(inner)]
        elif table is None and matches(op):
            found.append(op)
    return found[:1] if table is not None else found


def _adds(op: Any, name: str) -> bool:
    from alembic.operations.ops import AddColumnOp

    return isinstance(op, AddColumnOp) and op.column.name == name


def _alters(op: Any, name: str) -> bool:
    from alembic.operations.ops import AlterColumnOp

    return isinstance(op, AlterColumnOp) and op.column_name == name


def _is_create_of(op: Any, table: str, schema: str | None) -> bool:
    from alembic.operations.ops import CreateIndexOp, CreateTableOp

    if isinstance(op, CreateTableOp):
        return bool(op.table_name == table and op.schema == schema)
    return isinstance(op, CreateIndexOp) and op.table_name == table


def _without(downgrade: Ops, taken: list[Any]) -> Ops:
    """``downgrade`` less the operations in ``taken`` (by identity); empty groups go too."""
    from alembic.operations.ops import ModifyTableOps

    gone = {id(op) for op in taken}
    kept: Ops = []
    for op in downgrade:
        if id(op) in gone:
            continue
        if isinstance(op, ModifyTableOps):
            inner = [item for item in op.ops if id(item) not in gone]
            if not inner:
                continue
            op.ops = inner
        kept.append(op)
    return kept


# -- SQL pieces ----------------------------------------------------------------------


def _quote(context: MigrationContext, name: str) -> str:
    return str(context.dialect.identifier_preparer.quote(name))


def _table_sql(context: MigrationContext, table: str, schema: str | None) -> str:
    quoted = _quote(context, table)
    return f"{context.dialect.identifier_preparer.quote_schema(schema)}.{quoted}" if schema else quoted


def _literal(context: MigrationContext, value: Any) -> str:
    from sqlalchemy import literal

    return str(literal(value).compile(dialect=context.dialect, compile_kwargs={"literal_binds": True}))


def _backfill_note(table: str, column: str) -> MigrateOperation:
    from .comment_op import CommentOp

    return CommentOp(
        f"Backfill {table}.{column} before NOT NULL: rows without a value make the next line fail, "
        f'for example op.execute("UPDATE {table} SET {column} = ... WHERE {column} IS NULL").',
        f"{table}.{column}",
    )
