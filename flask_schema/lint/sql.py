"""Read raw SQL from ``op.execute`` into operations, where it can be read.

Statements are split by :mod:`sqlparse`, which keeps PostgreSQL ``$$``
function bodies, ``BEGIN ... END`` blocks and backslash-escaped quotes
whole; every statement is then judged. The DDL shapes the rules care about
are recognised with a few patterns. A statement it does not recognise
becomes an ``execute`` operation that the ``raw-sql`` rule asks a person to
review; statements known to be harmless produce nothing. The statements of
a ``DO`` block run now, so they are read too; a function's body does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .model import Operation

_NAME = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+))?'

_HARMLESS = re.compile(
    r"^(SELECT|INSERT|SET|RESET|SHOW|COMMENT\s+ON|GRANT|REVOKE|ANALYZE|PRAGMA|"
    r"CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?"
    r"(FUNCTION|PROCEDURE|VIEW|TRIGGER|TYPE|EXTENSION|SEQUENCE|SCHEMA)|"
    r"DROP\s+(FUNCTION|PROCEDURE|VIEW|TRIGGER|EXTENSION|SEQUENCE|TYPE)|"
    r"ALTER\s+TYPE|ALTER\s+SEQUENCE)\b",
    re.IGNORECASE,
)
#: Transaction control is harmless only as a whole statement: "BEGIN ALTER ..." is not.
_TRANSACTION = re.compile(
    r"^(BEGIN|COMMIT|END|ROLLBACK|START\s+TRANSACTION)(\s+(WORK|TRANSACTION))?$", re.IGNORECASE
)
_DO_BLOCK = re.compile(r"^DO\s+(?:LANGUAGE\s+\w+\s+)?(\$\w*\$)(.*)\1(?:\s+LANGUAGE\s+\w+)?$", re.I | re.S)
_BLOCK_BODY = re.compile(r"^(?:DECLARE\b.*?)?\bBEGIN\b(.*)\bEND\s*;?$", re.I | re.S)
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_NAME})", re.I
)
_DROP_TABLE = re.compile(r"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.+?)(?:\s+(?:CASCADE|RESTRICT))?$", re.I)
_CREATE_INDEX = re.compile(
    rf"^CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:{_NAME}\s+)?"
    rf"ON\s+(?:ONLY\s+)?({_NAME})",
    re.I,
)
_DROP_INDEX = re.compile(r"^DROP\s+INDEX\s+(CONCURRENTLY\s+)?", re.I)
_RENAME_TABLE = re.compile(rf"^RENAME\s+TABLE\s+({_NAME})\s+TO\s+({_NAME})", re.I)
_ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_NAME})\s+(.*)$", re.I | re.S)
_UPDATE_DELETE = re.compile(rf"^(UPDATE|DELETE\s+FROM)\s+({_NAME})", re.I)


def operations_from_sql(
    sql: str,
    line: int,
    end_line: int,
    in_transaction: bool,
    backends: frozenset[str] | None = None,
) -> list[Operation]:
    """The operations the statements in ``sql`` make, each at the ``op.execute`` line."""
    found: list[Operation] = []
    for statement in split_statements(sql):
        for kind, table, facts in _read_statement(statement):
            found.append(
                Operation(
                    kind,
                    table,
                    line=line,
                    end_line=end_line,
                    in_transaction=in_transaction,
                    source="sql",
                    backends=backends,
                    **facts,
                )
            )
    return found


def split_statements(sql: str) -> list[str]:
    """Statements of ``sql`` without comments, on one line each."""
    import sqlparse

    statements = []
    for raw in sqlparse.split(sql):
        text = sqlparse.format(raw, strip_comments=True).strip()
        text = " ".join(text.split()).rstrip(";").strip()
        if text:
            statements.append(text)
    return statements


def name(text: str) -> str:
    """An identifier without its quotes or schema."""
    last = re.split(r"\s*\.\s*(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text.strip())[-1]
    return last.strip('"`[]')


def _split_top_level(text: str) -> list[str]:
    """Split ``text`` at commas outside parentheses and quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


Read = Iterator[tuple[str, "str | None", dict[str, Any]]]


def _read_statement(statement: str) -> Read:
    if _HARMLESS.match(statement) or _TRANSACTION.match(statement):
        return
    if match := _DO_BLOCK.match(statement):
        yield from _read_block(statement, match.group(2).strip())
        return
    if _BLOCK_BODY.match(statement):  # an anonymous BEGIN ... END block runs now too
        yield from _read_block(statement, statement)
        return
    if match := _CREATE_TABLE.match(statement):
        yield "create_table", name(match.group(1)), {}
    elif match := _DROP_TABLE.match(statement):
        for table in _split_top_level(match.group(1)):
            yield "drop_table", name(table), {}
    elif match := _CREATE_INDEX.match(statement):
        yield (
            "create_index",
            name(match.group(3)),
            {"unique": bool(match.group(1)), "concurrently": bool(match.group(2))},
        )
    elif match := _DROP_INDEX.match(statement):
        yield "drop_index", None, {"concurrently": bool(match.group(1))}
    elif match := _RENAME_TABLE.match(statement):
        yield "rename_table", name(match.group(1)), {"new_name": name(match.group(2))}
    elif match := _UPDATE_DELETE.match(statement):
        kind = "update_all" if " WHERE " not in f" {statement.upper()} " else "update_some"
        yield kind, name(match.group(2)), {}
    elif match := _ALTER_TABLE.match(statement):
        table = name(match.group(1))
        for action in _split_top_level(match.group(2)):
            yield from _read_alter_action(table, action, statement)
    else:
        yield "execute", None, {"sql": statement}


def _read_block(statement: str, code: str) -> Read:
    """A ``DO`` block: what its statements do, and one review of the block's own logic."""
    body = _BLOCK_BODY.match(code.strip())
    inner = split_statements(body.group(1)) if body else []
    for part in inner:
        for kind, table, facts in _read_statement(part):
            if kind != "execute":  # IF, LOOP, PERFORM: the block as a whole is reviewed once
                yield kind, table, facts
    yield "execute", None, {"sql": statement}


_ADD_CONSTRAINT = re.compile(
    rf"^ADD\s+(?:CONSTRAINT\s+{_NAME}\s+)?(FOREIGN\s+KEY|CHECK|UNIQUE|PRIMARY\s+KEY)", re.I
)
_ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?({_NAME})\s+(.*)$", re.I)
_DROP_COLUMN = re.compile(
    rf"^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({_NAME})(?:\s+(?:CASCADE|RESTRICT))?$", re.I
)
_RENAME_COLUMN = re.compile(rf"^RENAME\s+(?:COLUMN\s+)?({_NAME})\s+TO\s+({_NAME})$", re.I)
_RENAME_TO = re.compile(rf"^RENAME\s+(?:TO|AS)\s+({_NAME})$", re.I)
_ALTER_TYPE = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?({_NAME})\s+(?:SET\s+DATA\s+)?TYPE\s+(.+)$", re.I)
_SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?({_NAME})\s+SET\s+NOT\s+NULL$", re.I)
_HARMLESS_ALTER = re.compile(
    r"^(ALTER\s+(COLUMN\s+)?\S+\s+(SET|DROP)\s+(DEFAULT|STATISTICS|STORAGE)|"
    r"ALTER\s+(COLUMN\s+)?\S+\s+DROP\s+NOT\s+NULL|DROP\s+CONSTRAINT|VALIDATE\s+CONSTRAINT|"
    r"OWNER\s+TO|ENABLE|DISABLE|DROP\s+(INDEX|KEY|FOREIGN\s+KEY|PRIMARY\s+KEY))",
    re.I,
)
_MYSQL_CHANGE = re.compile(rf"^(?:MODIFY|CHANGE)\s+(?:COLUMN\s+)?({_NAME})\s+(?:({_NAME})\s+)?(.+)$", re.I)


def _read_alter_action(table: str, action: str, statement: str) -> Read:
    upper = action.upper()
    if _HARMLESS_ALTER.match(action):
        return
    if match := _ADD_CONSTRAINT.match(action):
        kind = " ".join(match.group(1).upper().split())
        not_valid = "NOT VALID" in upper
        if kind == "FOREIGN KEY":
            yield "add_foreign_key", table, {"not_valid": not_valid}
        elif kind == "CHECK":
            yield "add_check", table, {"not_valid": not_valid}
        elif kind == "UNIQUE" and "USING INDEX" not in upper:
            yield "add_unique", table, {"unique": True}
        elif kind == "PRIMARY KEY" and "USING INDEX" not in upper:
            yield "add_unique", table, {"unique": True}
    elif match := _ADD_COLUMN.match(action):
        definition = f" {match.group(2).upper()} "
        yield (
            "add_column",
            table,
            {
                "column": name(match.group(1)),
                "nullable": not (" NOT NULL " in definition or " PRIMARY KEY " in definition),
                "server_default": " DEFAULT " in definition,
            },
        )
    elif match := _DROP_COLUMN.match(action):
        yield "drop_column", table, {"column": name(match.group(1))}
    elif match := _RENAME_COLUMN.match(action):
        yield "rename_column", table, {"column": name(match.group(1)), "new_name": name(match.group(2))}
    elif match := _RENAME_TO.match(action):
        yield "rename_table", table, {"new_name": name(match.group(1))}
    elif match := _SET_NOT_NULL.match(action):
        yield "set_not_null", table, {"column": name(match.group(1))}
    elif match := _ALTER_TYPE.match(action):
        yield "alter_type", table, {"column": name(match.group(1)), "type_": match.group(2)}
    elif match := _MYSQL_CHANGE.match(action):
        column = name(match.group(1))
        if upper.startswith("CHANGE") and match.group(2) and name(match.group(2)) != column:
            yield "rename_column", table, {"column": column, "new_name": name(match.group(2))}
        yield "alter_type", table, {"column": column, "type_": match.group(3)}
    else:
        yield "execute", None, {"sql": statement}
