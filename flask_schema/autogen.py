"""Review what autogenerate found before the revision file is written.

Alembic sees a renamed column as one column dropped and another added,
and writing that down loses the column's data at ``upgrade``. The hook
made by :func:`review_hook` runs inside the runtime's
``process_revision_directives`` wrapper and, for each such pair, asks
(or takes the answer given with ``--rename``) and turns the pair into a
rename in both directions. Without an answer the drop and add stay, with
a warning and a comment in the file.

It also explains an empty autogenerate when the cause is known, and warns
about constraints that will get no name. Last, :mod:`flask_schema.autogen_split`
splits a change that would break the running release into a pre- and a
post-deploy revision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .alembic_private import reverse_of
from .comment_op import CommentOp, remove_comments_about
from .errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations.ops import (
        MigrateOperation,
        MigrationScript,
        ModifyTableOps,
    )
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import Column, MetaData
    from sqlalchemy.types import TypeEngine
    from typing_extensions import TypeGuard

log = logging.getLogger("flask_schema")

#: ``config.attributes`` keys the API fills for the hook.
RENAMES_ATTRIBUTE = "flask_schema.renames"
CONFIRM_ATTRIBUTE = "flask_schema.confirm_rename"
_WARNED_ATTRIBUTE = "flask_schema.warned_naming"

#: A naming convention that names every constraint, so later revisions can
#: drop or change them by name (SQLite batch mode needs that).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Confirm = Callable[[str], bool]
DirectivesHook = Callable[["MigrationContext", Any, "list[MigrationScript]"], None]


def parse_renames(values: Iterable[str]) -> dict[str, str]:
    """Read ``table.old:new`` (a column) and ``old:new`` (a table) answers."""
    answers: dict[str, str] = {}
    for value in values:
        old, sep, new = value.partition(":")
        if not sep or not old.strip() or not new.strip() or "." in new:
            raise ConfigurationError(
                f"--rename {value!r} is not of the form table.old_column:new_column or old_table:new_table."
            )
        answers[old.strip()] = new.strip()
    return answers


def review_hook(user_hook: DirectivesHook | None, config: Config) -> DirectivesHook:
    """Chain the rename review (autogenerate only) before the user's hook."""
    autogenerate = bool(getattr(config.cmd_opts, "autogenerate", False))

    def hook(context: MigrationContext, revision: Any, directives: list[MigrationScript]) -> None:
        if autogenerate and directives:
            _review(context, directives[0], config)
            from .autogen_split import split

            split(context, directives, config)
        if user_hook is not None:
            user_hook(context, revision, directives)

    return hook


def _review(context: MigrationContext, script: MigrationScript, config: Config) -> None:
    upgrade_ops = script.upgrade_ops_list[-1]
    downgrade_ops = script.downgrade_ops_list[-1]
    answers: dict[str, str] = config.attributes.get(RENAMES_ATTRIBUTE, {})
    confirm: Confirm | None = config.attributes.get(CONFIRM_ATTRIBUTE)
    used: set[str] = set()
    for ops in (upgrade_ops, downgrade_ops):
        _drop_indexes_with_their_tables(ops.ops)
    _review_tables(upgrade_ops.ops, downgrade_ops.ops, answers, confirm, used)
    for table_ops in list(upgrade_ops.ops):
        if _is_modify(table_ops):
            _review_columns(table_ops, downgrade_ops.ops, answers, confirm, used)
    for key in sorted(set(answers) - used):
        log.warning(f"--rename {key}:{answers[key]} matched no dropped and added pair; ignored.")
    metadata = context.opts.get("target_metadata")
    if isinstance(metadata, (list, tuple)):
        metadata = metadata[0] if metadata else None
    _warn_unnamed_constraints(metadata, config)
    if metadata is not None:
        from .enums import review_enums

        review_enums(context, metadata, upgrade_ops, downgrade_ops)
    # With several databases one may rightly have no changes; explain only a single one.
    single_database = context.opts.get("upgrade_token", "upgrades") == "upgrades"
    if upgrade_ops.is_empty() and single_database:
        _explain_no_changes(context, metadata)


def _drop_indexes_with_their_tables(ops: list[MigrateOperation]) -> None:
    """Leave out index drops on tables the same revision drops.

    Autogenerate drops a table's indexes before the table. MariaDB and MySQL
    refuse to drop an index that backs a foreign key, so such a downgrade
    fails there; dropping the table removes its indexes on every database.
    """
    from alembic.operations.ops import DropIndexOp, DropTableOp

    dropped = {(op.schema, op.table_name) for op in ops if isinstance(op, DropTableOp)}
    if not dropped:
        return

    for op in list(ops):
        if _is_modify(op) and (op.schema, op.table_name) in dropped:
            op.ops = [inner for inner in op.ops if not isinstance(inner, DropIndexOp)]
            if not op.ops:
                ops.remove(op)
        elif isinstance(op, DropIndexOp) and (op.schema, op.table_name) in dropped:
            ops.remove(op)


# -- renamed columns ---------------------------------------------------------------


def _is_modify(op: MigrateOperation) -> TypeGuard[ModifyTableOps]:
    from alembic.operations.ops import ModifyTableOps

    return isinstance(op, ModifyTableOps)


def compatible(old: TypeEngine[Any], new: TypeEngine[Any]) -> bool:
    """Whether data of type ``old`` fits a column of type ``new`` after a rename."""
    return bool(old._type_affinity is new._type_affinity)


def _ask(question_subject: str, confirm: Confirm | None) -> bool | None:
    if confirm is None:
        return None
    return confirm(f"Did you rename {question_subject}?")


def _review_columns(
    table_ops: ModifyTableOps,
    downgrade: list[MigrateOperation],
    answers: dict[str, str],
    confirm: Confirm | None,
    used: set[str],
) -> None:
    from alembic.operations.ops import AddColumnOp, DropColumnOp

    table = table_ops.table_name
    drops = [op for op in table_ops.ops if isinstance(op, DropColumnOp)]
    adds = [op for op in table_ops.ops if isinstance(op, AddColumnOp)]
    for drop in drops:
        old_column = drop.to_column()
        candidates = [add for add in adds if compatible(old_column.type, add.column.type)]
        if not candidates:
            continue
        key = f"{table}.{drop.column_name}"
        chosen = None
        if key in answers:
            chosen = next((add for add in candidates if add.column.name == answers[key]), None)
            if chosen is not None:
                used.add(key)
        elif confirm is not None:
            chosen = next(
                (
                    add
                    for add in candidates
                    if _ask(f"{table}.{drop.column_name} to {table}.{add.column.name}", confirm)
                ),
                None,
            )
        else:
            _leave_as_drop_and_add(
                table_ops.ops,
                drop,
                [f"{table}.{drop.column_name} to {table}.{add.column.name}" for add in candidates],
                [f"{key}:{add.column.name}" for add in candidates],
            )
            continue
        if chosen is None:
            continue
        adds.remove(chosen)
        _rename_column_in(table_ops, drop.column_name, chosen.column.name)
        for other in downgrade:
            if _is_modify(other) and (other.table_name, other.schema) == (table, table_ops.schema):
                _rename_column_in(other, chosen.column.name, drop.column_name)
        log.info(f"Writing a rename of {key} to {chosen.column.name}, which keeps its data.")


def _rename_column_in(table_ops: ModifyTableOps, dropped: str, added: str) -> None:
    """Replace ``drop_column(dropped)`` and ``add_column(added)`` with one rename."""
    from alembic.operations.ops import AddColumnOp, AlterColumnOp, DropColumnOp

    drop = next(
        (op for op in table_ops.ops if isinstance(op, DropColumnOp) and op.column_name == dropped), None
    )
    add = next((op for op in table_ops.ops if isinstance(op, AddColumnOp) and op.column.name == added), None)
    if drop is None or add is None:
        return
    old: Column[Any] = drop.to_column()
    new = add.column
    changes: dict[str, Any] = {}
    if getattr(old.type, "length", None) != getattr(new.type, "length", None):
        changes["modify_type"] = new.type
    if bool(old.nullable) != bool(new.nullable):
        changes["modify_nullable"] = new.nullable
    rename = AlterColumnOp(
        table_ops.table_name,
        dropped,
        schema=table_ops.schema,
        existing_type=old.type,
        existing_nullable=old.nullable,
        existing_server_default=old.server_default or False,
        modify_name=added,
        **changes,
    )
    index = table_ops.ops.index(add)
    table_ops.ops[index] = rename
    table_ops.ops.remove(drop)
    remove_comments_about(table_ops.ops, dropped)


def _leave_as_drop_and_add(
    ops: list[MigrateOperation], drop: MigrateOperation, pairs: Sequence[str], answers: Sequence[str]
) -> None:
    """Keep the drop and add, but say so loudly, in the log and in the file."""
    lost = "column's data is" if hasattr(drop, "column_name") else "table's rows are"
    for pair, answer in zip(pairs, answers):
        log.warning(
            f"Possible rename of {pair} written as a drop and an add: the dropped {lost} "
            f"lost at upgrade. If it is a rename, run again with --rename {answer}."
        )
    text = (
        f"flask-schema: possible rename of {' or '.join(pairs)}; written as drop + add, "
        f"which loses the data. Use 'flask db migrate --rename {answers[0]}' if it is a rename."
    )
    subject = getattr(drop, "column_name", None) or getattr(drop, "table_name", "")
    ops.insert(0, CommentOp(text, str(subject)))


# -- renamed tables ----------------------------------------------------------------


def _review_tables(
    upgrade: list[MigrateOperation],
    downgrade: list[MigrateOperation],
    answers: dict[str, str],
    confirm: Confirm | None,
    used: set[str],
) -> None:
    from alembic.operations.ops import CreateTableOp, DropTableOp

    creates = [op for op in upgrade if isinstance(op, CreateTableOp)]
    drops = [op for op in upgrade if isinstance(op, DropTableOp)]
    for drop in drops:
        if reverse_of(drop) is None:
            continue
        old_columns = _columns_of(reverse_of(drop).columns)
        candidates = [
            create for create in creates if _similar_columns(old_columns, _columns_of(create.columns))
        ]
        if not candidates:
            continue
        old = drop.table_name
        chosen = None
        if old in answers:
            chosen = next((c for c in candidates if c.table_name == answers[old]), None)
            if chosen is not None:
                used.add(old)
        elif confirm is not None:
            chosen = next((c for c in candidates if _ask(f"table {old} to {c.table_name}", confirm)), None)
        else:
            names = [f"table {old} to {c.table_name}" for c in candidates]
            _leave_as_drop_and_add(upgrade, drop, names, [f"{old}:{c.table_name}" for c in candidates])
            continue
        if chosen is None:
            continue
        creates.remove(chosen)
        new = chosen.table_name
        changes = _column_changes(old_columns, _columns_of(chosen.columns), new, drop.schema)
        _rename_table_in(upgrade, old, new, drop.schema, after=changes)
        _rename_table_in(downgrade, new, old, drop.schema, before=[op.reverse() for op in changes])
        log.info(f"Writing a rename of table {old} to {chosen.table_name}, which keeps its rows.")


def _columns_of(items: Iterable[Any]) -> dict[str, Column[Any]]:
    from sqlalchemy import Column

    return {item.name: item for item in items if isinstance(item, Column)}


def _similar_columns(old: dict[str, Column[Any]], new: dict[str, Column[Any]]) -> bool:
    """More than half the columns keep their name and a compatible type."""
    kept = [name for name in set(old) & set(new) if compatible(old[name].type, new[name].type)]
    return 2 * len(kept) > max(len(old), len(new))


def _column_changes(
    old: dict[str, Column[Any]], new: dict[str, Column[Any]], table: str, schema: str | None
) -> list[ModifyTableOps]:
    """The columns added and dropped besides the rename, applied to the renamed table.

    They go through the column review like any other, so a column renamed
    along with its table is asked about too.
    """
    from alembic.operations.ops import AddColumnOp, DropColumnOp, ModifyTableOps

    ops: list[MigrateOperation] = [
        AddColumnOp.from_column_and_tablename(schema, table, new[name]) for name in new if name not in old
    ]
    ops += [
        DropColumnOp.from_column_and_tablename(schema, table, old[name]) for name in old if name not in new
    ]
    return [ModifyTableOps(table, ops, schema=schema)] if ops else []


def _rename_table_in(
    ops: list[MigrateOperation],
    dropped: str,
    created: str,
    schema: str | None,
    before: Sequence[MigrateOperation] = (),
    after: Sequence[MigrateOperation] = (),
) -> None:
    """Replace ``drop_table(dropped)`` and ``create_table(created)`` with a rename.

    The created table's own operations (its indexes) move after the rename;
    the dropped table's (dropping its indexes) already run before it.
    ``before`` and ``after`` go right before and after the rename.
    """
    from alembic.operations.ops import CreateTableOp, DropTableOp, RenameTableOp

    create = next(op for op in ops if isinstance(op, CreateTableOp) and op.table_name == created)
    drop = next(op for op in ops if isinstance(op, DropTableOp) and op.table_name == dropped)
    follow: list[MigrateOperation] = [op for op in ops if _is_modify(op) and op.table_name == created]
    for op in [create, *follow]:
        ops.remove(op)
    index = ops.index(drop)
    _ensure_rename_table_renderer()
    ops[index : index + 1] = [*before, RenameTableOp(dropped, created, schema=schema), *after, *follow]
    remove_comments_about(ops, dropped)


def _ensure_rename_table_renderer() -> None:
    """Alembic's autogenerate never writes rename_table itself, so it has no renderer."""
    from alembic.autogenerate import renderers
    from alembic.operations.ops import RenameTableOp

    try:
        renderers.dispatch(RenameTableOp("a", "b"))
        return
    except ValueError:
        pass

    @renderers.dispatch_for(RenameTableOp)
    def render(autogen_context: Any, op: RenameTableOp) -> str:
        schema = f", schema={op.schema!r}" if op.schema else ""
        return f"op.rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


# -- diagnostics ---------------------------------------------------------------------


def _explain_no_changes(context: MigrationContext, metadata: MetaData | None) -> None:
    """Say why autogenerate found nothing, when the reason is one we can see."""
    if metadata is None or not metadata.tables:
        log.warning(
            "No models are registered on the metadata, so there is nothing to compare: "
            "import the modules that define your models where the app is created "
            "(before Migrate.init_app runs), then run 'flask db migrate' again."
        )
        return
    connection = context.connection
    if connection is None or context.get_current_heads():
        return
    from sqlalchemy import inspect

    version_table = context.version_table
    tables = [name for name in inspect(connection).get_table_names() if name != version_table]
    if tables:
        log.warning(
            f"The database already has the models' tables ({', '.join(sorted(tables)[:5])}"
            f"{', ...' if len(tables) > 5 else ''}) but no revision is recorded in it. "
            "If it matches the models, record that with 'flask db stamp head' "
            "(write a first empty revision with 'flask db revision -m baseline' if there is none)."
        )


def _warn_unnamed_constraints(metadata: MetaData | None, config: Config) -> None:
    """Warn once per command when constraints will get names only the database knows."""
    if metadata is None or config.attributes.get(_WARNED_ATTRIBUTE):
        return
    from sqlalchemy import CheckConstraint, ForeignKeyConstraint, UniqueConstraint

    convention = metadata.naming_convention
    kinds = {UniqueConstraint: "uq", CheckConstraint: "ck", ForeignKeyConstraint: "fk"}
    unnamed = [
        f"{table.name} ({kinds[type(constraint)]})"
        for table in metadata.tables.values()
        for constraint in table.constraints
        if type(constraint) in kinds and kinds[type(constraint)] not in convention and constraint.name is None
    ]
    if not unnamed:
        return
    config.attributes[_WARNED_ATTRIBUTE] = True
    log.warning(
        f"The metadata has no naming convention and {len(unnamed)} constraint(s) have no name "
        f"({', '.join(unnamed[:3])}{', ...' if len(unnamed) > 3 else ''}); later revisions "
        "cannot drop or change them by name. Recommended: "
        "SQLAlchemy(metadata=MetaData(naming_convention=flask_schema.NAMING_CONVENTION))."
    )
