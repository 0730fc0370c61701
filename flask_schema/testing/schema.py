"""What a database's schema looks like, as plain text, and how two differ.

A downgrade should leave the schema exactly as it found it. To check that,
the schema is read back from the database (not from the models) into a
mapping from a key such as ``("column", "post", "title")`` to a short
description such as ``column post.title VARCHAR(200) NOT NULL``; two
snapshots are then compared key by key.

Reading every table before and after every step of a long history would
cost the square of its length, so a walk keeps one snapshot up to date
(:func:`update`): after each step it reads back only the tables, views,
sequences and types the step's own SQL names (and the tables of indexes
and constraints it names). At the end the whole schema is read once and
compared with the snapshot kept, so a change made behind the SQL's back (a
trigger, a ``CASCADE``) is noticed, not missed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backends import backend_for

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Snapshot = dict[tuple[str, ...], str]


def snapshot(
    connection: Connection,
    exclude_tables: set[str],
    label: str = "",
    tables: set[str] | None = None,
    quick: bool = False,
) -> Snapshot:
    """Read tables, columns, keys, indexes, constraints, views, sequences and enum types.

    With ``tables``, only the tables, views, sequences and types so named
    are read (a walk's step names what it changes). With ``quick``, a database family that can read it
    all in one query does (:meth:`~flask_schema.backends.base.Backend.describe_schema`),
    in its own spelling: compare such a snapshot only with another quick one.
    """
    import sqlalchemy as sa

    where = f" in the {label} database" if label else ""
    found: Snapshot = {}

    def add(key: tuple[str, ...], text: str) -> None:
        found[(label, *key)] = text + where

    backend = backend_for(connection.dialect.name)
    rows = backend.describe_schema(connection, exclude_tables, tables) if quick else None
    if rows is not None:
        for kind, table, name, text in rows:
            add((kind, table) if name is None else (kind, table, name), text)
        return found
    inspector = sa.inspect(connection)

    def wanted(name: str) -> bool:
        return tables is None or name in tables

    detailed = sorted(name for name in set(inspector.get_table_names()) - exclude_tables if wanted(name))
    read = _BulkReader(inspector, detailed)
    for table in detailed:
        add(("table", table), f"table {table}")
    for table in detailed:
        for column in read("columns", table):
            add(("column", table, column["name"]), _column(table, column))
        primary = read("pk_constraint", table) or {}
        if primary.get("constrained_columns"):
            columns = ", ".join(primary["constrained_columns"])
            add(("primary key", table, ""), f"primary key of {table} ({columns})")
        for index in read("indexes", table):
            columns = ", ".join(str(name) for name in index["column_names"])
            unique = "unique " if index.get("unique") else ""
            name = index["name"] or f"({columns})"
            add(("index", table, name), f"{unique}index {name} on {table} ({columns})")
        for unique_constraint in read("unique_constraints", table):
            columns = ", ".join(unique_constraint["column_names"])
            name = unique_constraint["name"] or f"({columns})"
            add(("unique constraint", table, name), f"unique constraint {name} on {table} ({columns})")
        for key in read("foreign_keys", table):
            columns = ", ".join(key["constrained_columns"])
            target = f"{key['referred_table']}({', '.join(key['referred_columns'])})"
            name = key.get("name") or f"({columns})"
            add(("foreign key", table, name), f"foreign key {name} on {table} ({columns}) -> {target}")
        for check in read("check_constraints", table):
            name = check.get("name") or check["sqltext"]
            add(("check constraint", table, name), f"check constraint {name} on {table}: {check['sqltext']}")
    for view in filter(wanted, inspector.get_view_names()):
        add(("view", view), f"view {view}")
    if connection.dialect.supports_sequences:
        for sequence in filter(wanted, inspector.get_sequence_names()):
            add(("sequence", sequence), f"sequence {sequence}")
    get_enums = getattr(inspector, "get_enums", None)
    if get_enums is not None:
        for enum in get_enums():
            if not wanted(enum["name"]):
                continue
            labels = ", ".join(repr(label) for label in enum["labels"])
            add(("enum type", enum["name"]), f"enum type {enum['name']} ({labels})")
    return found


def _column(table: str, column: Any) -> str:
    text = f"column {table}.{column['name']} {column['type']}"
    if not column.get("nullable", True):
        text += " NOT NULL"
    if column.get("default") is not None:
        text += f" DEFAULT {column['default']}"
    return text


class _BulkReader:
    """One kind of reflection for many tables at once: a query per kind, not per table.

    SQLAlchemy's ``Inspector.get_multi_*`` read every table asked for in one
    query where the dialect can (PostgreSQL, MySQL/MariaDB) and loop where it
    cannot (SQLite, whose per-table pragmas are cheap).
    """

    def __init__(self, inspector: Any, tables: list[str]) -> None:
        self.inspector = inspector
        self.tables = tables
        self.found: dict[str, dict[Any, Any]] = {}

    def __call__(self, kind: str, table: str) -> Any:
        if kind not in self.found:
            self.found[kind] = self._read(kind)
        empty: Any = None if kind == "pk_constraint" else []
        return self.found[kind].get((None, table), empty)

    def _read(self, kind: str) -> dict[Any, Any]:
        if not self.tables:
            return {}
        try:
            return dict(getattr(self.inspector, f"get_multi_{kind}")(filter_names=self.tables))
        except NotImplementedError:  # a dialect that cannot reflect this kind (check constraints)
            return {}


@dataclass
class SchemaDiff:
    """What changed between two snapshots, each as readable lines."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        return (
            [f"left behind: {text}" for text in self.added]
            + [f"removed: {text}" for text in self.removed]
            + [f"changed: {text}" for text in self.changed]
        )


def compare(before: Snapshot, after: Snapshot) -> SchemaDiff:
    """How ``after`` differs from ``before``."""
    diff = SchemaDiff()
    added = after.keys() - before.keys()
    removed = before.keys() - after.keys()
    for key in sorted(added):
        if not _part_of_table_in(key, added):
            diff.added.append(after[key])
    for key in sorted(removed):
        if not _part_of_table_in(key, removed):
            diff.removed.append(before[key])
    for key in sorted(before.keys() & after.keys()):
        if before[key] != after[key]:
            diff.changed.append(f"was {before[key]}, is now {after[key]}")
    return diff


def _part_of_table_in(key: tuple[str, ...], keys: set[tuple[str, ...]]) -> bool:
    """Whether ``key`` is a column, index or constraint of a table listed in ``keys``.

    A table left behind is reported once, not with each of its columns.
    """
    label, kind = key[0], key[1]
    return kind != "table" and len(key) == 4 and (label, "table", key[2]) in keys


# -- keeping a snapshot up to date along a walk ----------------------------------

_IDENTIFIER = re.compile(r'"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][A-Za-z0-9_$]*)')


def names_in(statements: Iterable[str]) -> set[str]:
    """Every identifier-like word of ``statements``, as written and lower-cased."""
    found: set[str] = set()
    for statement in statements:
        for match in _IDENTIFIER.finditer(statement):
            word = next(group for group in match.groups() if group is not None)
            found.add(word)
            found.add(word.lower())
    return found


#: What SQL can name without naming its table: ``DROP INDEX ix_name``, ``ALTER SEQUENCE``.
_NAMED_ALONE = {"index", "sequence"}


def touched_tables(known: Snapshot, names: set[str], alone_in: Collection[str] = ()) -> set[str]:
    """The tables of ``known`` (and any others named) that SQL naming ``names`` can have changed.

    A table counts when its name is among ``names``, or, in the databases
    labelled ``alone_in`` (where index names stand alone, see
    :attr:`~flask_schema.backends.base.Backend.index_names_stand_alone`), the
    name of one of its indexes or owned sequences is.
    """
    tables = set(names)
    for key in known:
        if len(key) == 4 and key[1] in _NAMED_ALONE and key[0] in alone_in:
            if key[3] in names or key[3].lower() in names:
                tables.add(key[2])
    return tables


def restrict(found: Snapshot, tables: set[str]) -> Snapshot:
    """The part of ``found`` that a snapshot read with ``tables`` holds."""
    return {key: text for key, text in found.items() if key[2] in tables}


def update(known: Snapshot, fresh: Snapshot, tables: set[str]) -> Snapshot:
    """``known`` with what ``fresh`` (read with ``tables``) says of those names."""
    kept = {key: text for key, text in known.items() if key[2] not in tables}
    return {**kept, **fresh}
