"""Say in words what one autogenerate difference is, old value and new.

``flask db check`` reports the differences Alembic found between the
database and the models. Alembic hands them over as tuples whose middle
holds a dict of keyword arguments (``existing_nullable`` and the like);
printed raw, that hides what actually changed. :func:`describe_diff` names
the place and shows ``old -> new``: ``bill.kind: VARCHAR(20) -> billkind
enum``, ``billowers.bill_id: nullable -> NOT NULL``.

Nothing here imports SQLAlchemy or Alembic: the objects are read through
their attributes.
"""

from __future__ import annotations

from typing import Any


def describe_diff(diff: Any) -> str:
    """One short phrase for an Alembic autogenerate diff tuple (or a list of them)."""
    if isinstance(diff, list):
        return ", ".join(describe_diff(item) for item in diff)
    kind = str(diff[0])
    if kind.startswith("modify_"):
        return _describe_modify(kind, diff)
    verb, _, what = kind.partition("_")
    subject = diff[-1]
    if what == "table":
        return f"{verb} table {_table_name(subject)}"
    if what == "column":
        return f"{verb} column {_place(diff[1], diff[2], getattr(subject, 'name', subject))}"
    if what == "index":
        return f"{verb} index {subject.name} on {_table_name(subject.table)}"
    if what == "fk":
        columns = ", ".join(str(name) for name in getattr(subject, "column_keys", []))
        target = getattr(subject, "referred_table", None)
        named = f" {subject.name}" if getattr(subject, "name", None) else ""
        return f"{verb} foreign key{named} {_table_name(subject.table)}({columns}) -> {_table_name(target)}"
    if what == "constraint":
        label = type(subject).__name__.replace("Constraint", "").lower() or "constraint"
        named = f" {subject.name}" if getattr(subject, "name", None) else ""
        return f"{verb} {label} constraint{named} on {_table_name(subject.table)}"
    return f"{kind.replace('_', ' ')} {getattr(subject, 'name', subject)}"


def _describe_modify(kind: str, diff: Any) -> str:
    _, schema, table, column, _existing, old, new = diff
    where = _place(schema, table, column)
    if kind == "modify_type":
        return f"{where}: {type_text(old)} -> {type_text(new)}"
    if kind == "modify_nullable":
        return f"{where}: {_nullable(old)} -> {_nullable(new)}"
    if kind == "modify_default":
        return f"{where}: default {_default(old)} -> {_default(new)}"
    if kind == "modify_comment":
        return f"{where}: comment {old!r} -> {new!r}"
    return f"{where}: {kind.removeprefix('modify_').replace('_', ' ')} {old!r} -> {new!r}"


def type_text(type_: Any) -> str:
    """A column type as people write it: ``VARCHAR(20)``, ``billkind enum``."""
    if type_ is None:
        return "no type"
    enums = getattr(type_, "enums", None)
    if enums is not None:
        name = getattr(type_, "name", None)
        return f"{name} enum" if name else f"enum ({', '.join(map(str, enums))})"
    try:
        return str(type_)
    except Exception:  # a type that needs its dialect to render
        return type(type_).__name__


def _nullable(value: Any) -> str:
    return "nullable" if value else "NOT NULL"


def _default(value: Any) -> str:
    if value is None:
        return "none"
    arg = getattr(value, "arg", value)
    if isinstance(arg, str):
        return repr(arg)
    text = getattr(arg, "text", None)
    if isinstance(text, str):
        return text
    try:
        return str(arg)
    except Exception:  # an expression that needs its dialect
        return type(arg).__name__


def _place(schema: Any, table: Any, column: Any) -> str:
    parts = [str(part) for part in (schema, table, column) if part is not None]
    return ".".join(parts)


def _table_name(table: Any) -> str:
    if table is None:
        return "?"
    if isinstance(table, str):
        return table
    schema = getattr(table, "schema", None)
    name = getattr(table, "name", table)
    return f"{schema}.{name}" if schema else str(name)
