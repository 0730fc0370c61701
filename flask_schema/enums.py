"""PostgreSQL enum types that autogenerate alone gets wrong.

A native enum is a type of its own on PostgreSQL. Alembic creates it with
the first table that uses it, but leaves it behind when that table is
dropped (so the next create fails), does not create it for a column added
to an existing table, and never notices values added to it. This module
adds the missing ``op.execute`` statements to the revision being written.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .alembic_private import reverse_of

if TYPE_CHECKING:
    from alembic.operations.ops import DowngradeOps, MigrateOperation, UpgradeOps
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

log = logging.getLogger("flask_schema")


def review_enums(
    context: MigrationContext, metadata: MetaData, upgrade: UpgradeOps, downgrade: DowngradeOps
) -> None:
    """Add enum statements to ``upgrade`` and ``downgrade`` (PostgreSQL only)."""
    from .backends import backend_for

    if context.connection is None or not backend_for(context.dialect.name).named_enum_types:
        return
    from sqlalchemy import inspect

    existing = {
        item["name"]: list(item["labels"])
        for item in inspect(context.connection).get_enums()  # type: ignore[attr-defined]
    }
    wanted = _model_enums(metadata)
    quote = context.dialect.identifier_preparer.quote
    _added_values(existing, wanted, upgrade, downgrade, quote)
    _types_of_new_columns(existing, upgrade, downgrade, quote)
    _types_of_dropped_tables(existing, wanted, upgrade, downgrade, quote)


def _model_enums(metadata: MetaData) -> dict[str, list[str]]:
    from sqlalchemy import Enum

    found: dict[str, list[str]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum) and column.type.native_enum and column.type.name:
                found[column.type.name] = list(column.type.enums)
    return found


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _execute(sql: str) -> MigrateOperation:
    from alembic.operations.ops import ExecuteSQLOp

    return ExecuteSQLOp(sql)


def _added_values(
    existing: dict[str, list[str]],
    wanted: dict[str, list[str]],
    upgrade: UpgradeOps,
    downgrade: DowngradeOps,
    quote: Any,
) -> None:
    from .comment_op import CommentOp

    statements = []
    for name, values in sorted(wanted.items()):
        if name not in existing:
            continue
        for value in values:
            if value not in existing[name]:
                statements.append(
                    _execute(f"ALTER TYPE {quote(name)} ADD VALUE IF NOT EXISTS {_literal(value)}")
                )
                downgrade.ops.append(
                    CommentOp(
                        f"flask-schema: PostgreSQL cannot remove value {value!r} from enum {name}; "
                        "it stays after this downgrade.",
                        name,
                    )
                )
        removed = [value for value in existing[name] if value not in values]
        if removed:
            log.warning(
                f"Enum {name} lost value(s) {', '.join(removed)} in the models; PostgreSQL cannot "
                "drop enum values, so no operation was written for them."
            )
    upgrade.ops[0:0] = statements


def _types_of_new_columns(
    existing: dict[str, list[str]], upgrade: UpgradeOps, downgrade: DowngradeOps, quote: Any
) -> None:
    """CREATE TYPE before a column of a new enum type is added to an existing table."""
    from alembic.operations.ops import AddColumnOp, CreateTableOp, ModifyTableOps
    from sqlalchemy import Enum

    created_with_tables = {
        kind.name
        for op in upgrade.ops
        if isinstance(op, CreateTableOp)
        for kind in (getattr(column, "type", None) for column in op.columns)
        if isinstance(kind, Enum)
    }
    for index, op in reversed(list(enumerate(upgrade.ops))):
        if not isinstance(op, ModifyTableOps):
            continue
        for table_op in op.ops:
            if not isinstance(table_op, AddColumnOp):
                continue
            kind = table_op.column.type
            if not isinstance(kind, Enum) or not kind.native_enum or not kind.name:
                continue
            if kind.name in existing or kind.name in created_with_tables:
                continue
            values = ", ".join(_literal(value) for value in kind.enums)
            upgrade.ops.insert(index, _execute(f"CREATE TYPE {quote(kind.name)} AS ENUM ({values})"))
            downgrade.ops.append(_execute(f"DROP TYPE IF EXISTS {quote(kind.name)}"))
            created_with_tables.add(kind.name)


def _types_of_dropped_tables(
    existing: dict[str, list[str]],
    wanted: dict[str, list[str]],
    upgrade: UpgradeOps,
    downgrade: DowngradeOps,
    quote: Any,
) -> None:
    """DROP TYPE after the last table using it goes, in either direction."""
    from alembic.operations.ops import DropTableOp
    from sqlalchemy import Enum

    def enum_names(columns: Any) -> list[str]:
        return [
            column.type.name
            for column in columns
            if isinstance(getattr(column, "type", None), Enum) and column.type.name
        ]

    # Upgrade: a dropped table's enum that no model uses any more.
    for op in list(upgrade.ops):
        if isinstance(op, DropTableOp) and reverse_of(op) is not None:
            for name in enum_names(reverse_of(op).columns):
                if name not in wanted and name in existing:
                    upgrade.ops.insert(
                        upgrade.ops.index(op) + 1, _execute(f"DROP TYPE IF EXISTS {quote(name)}")
                    )
                    existing = {key: value for key, value in existing.items() if key != name}
    # Downgrade: a table this revision creates takes its new enum type with it.
    for op in list(downgrade.ops):
        if isinstance(op, DropTableOp) and reverse_of(op) is not None:
            for name in enum_names(reverse_of(op).columns):
                if name not in existing:
                    downgrade.ops.insert(
                        downgrade.ops.index(op) + 1, _execute(f"DROP TYPE IF EXISTS {quote(name)}")
                    )
