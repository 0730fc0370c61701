"""Read raw SQL from ``op.execute`` into operations, where it can be read.

This is no SQL parser: it splits statements, then recognises the DDL
shapes the rules care about with a few patterns. A statement it does not
recognise becomes an ``execute`` operation that the ``raw-sql`` rule asks
a person to review. Statements known to be harmless produce nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .model import Operation

_NAME = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+))?'

_HARMLESS = re.compile(
    r"^(SELECT|INSERT|SET|RESET|SHOW|COMMENT\s+ON|GRANT|REVOKE|ANALYZE|PRAGMA|"
    r"CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|VIEW|TRIGGER|TYPE|EXTENSION|SEQUENCE|SCHEMA)|"
    r"DROP\s+(FUNCTION|PROCEDURE|VIEW|TRIGGER|EXTENSION|SEQUENCE|TYPE)|"
    r"ALTER\s+TYPE|ALTER\s+SEQUENCE|BEGIN|COMMIT)\b",
    re.IGNORECASE,
)
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


def operations_from_sql(sql: str, line: int, end_line: int, in_transaction: bool) -> list[Operation]:
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
                    **facts,
                )
            )
    return found


def split_statements(sql: str) -> list[str]:
    """Statements of ``sql`` without comments, split at semicolons outside quotes."""
    statements, current, quote = [], [], ""
    index = 0
    while index < len(sql):
        char = sql[index]
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            index = len(sql) if end == -1 else end
            continue
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)
            index = len(sql) if end == -1 else end + 2
            current.append(" ")
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    statements.append("".join(current))
    return [" ".join(text.split()) for text in statements if text.strip()]


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
    if _HARMLESS.match(statement):
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
