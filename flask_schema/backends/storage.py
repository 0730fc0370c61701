"""What a database keeps, as opposed to how a type or default was spelled.

Autogenerate compares a reflected column with the model's. Two spellings
can mean the same storage on one database and different storage on
another: ``FLOAT`` and ``DOUBLE`` are both an 8-byte float on SQLite and
PostgreSQL but 4 and 8 bytes on MariaDB. Each backend lists such pairs as
:class:`SameStorage` rows (a table the docs and tests read too), and
rewrites a server default to one canonical text with
:func:`canonical_default` plus its own rules, so a default written the same
way in the model never shows as changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SameStorage:
    """Two spellings of a column type the database stores alike.

    ``one`` and ``other`` are regular expressions matched against the whole
    type as compiled for the dialect (upper case, single spaces), e.g.
    ``FLOAT`` or ``VARCHAR(20)``. The row holds in both directions.
    """

    #: numeric, boolean, text, datetime or json.
    family: str
    one: str
    other: str
    #: What the database keeps for both, said for people.
    storage: str

    def matches(self, first: str, second: str) -> bool:
        def both(a: str, b: str) -> bool:
            return re.fullmatch(self.one, a) is not None and re.fullmatch(self.other, b) is not None

        return both(first, second) or both(second, first)


def type_text(compiled: str) -> str:
    """A compiled type in the form the rows match: upper case, single spaces, no space before ``(``."""
    text = " ".join(compiled.upper().split())
    return re.sub(r"\s+\(", "(", text)


def first_match(rows: Iterable[SameStorage], first: str, second: str) -> SameStorage | None:
    """The row that makes ``first`` and ``second`` the same storage, if any."""
    first, second = type_text(first), type_text(second)
    if first == second:
        return None
    return next((row for row in rows if row.matches(first, second)), None)


_QUOTED = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TIMESTAMP_NOW = re.compile(r"\b(?:now\(\)|current_timestamp(?:\(\))?|localtimestamp(?:\(\))?)")


def outside_quotes(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the parts of ``text`` that are not quoted strings."""
    parts, last = [], 0
    for match in _QUOTED.finditer(text):
        parts.append(change(text[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(change(text[last:]))
    return "".join(parts)


def _strip_parentheses(text: str) -> str:
    """``((0))`` -> ``0``: outer parentheses that wrap the whole expression."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for index, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and index < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _number(text: str) -> str:
    """``1.50`` and ``1.5`` alike; integers stay integers."""
    if re.fullmatch(r"[+-]?\d+", text):
        return str(int(text))
    return repr(float(text))


def canonical_default(text: str | None) -> str | None:
    """A server default in one spelling: the rules every backend shares.

    Outer parentheses go, words outside quotes are lower-cased, ``now()``
    and ``CURRENT_TIMESTAMP`` are one thing, and a quoted number is the
    number (``'0'`` and ``0`` are stored alike in a numeric column).
    """
    if text is None:
        return None
    value = _strip_parentheses(" ".join(text.split()))
    value = outside_quotes(value, lambda part: _TIMESTAMP_NOW.sub("current_timestamp", part.lower()))
    quoted = re.fullmatch(r"'(.*)'", value)
    if quoted and _NUMBER.fullmatch(quoted.group(1)):
        value = quoted.group(1)
    if _NUMBER.fullmatch(value):
        value = _number(value)
    return value


def booleans_as_numbers(text: str | None) -> str | None:
    """``false``/``true`` as 0 and 1, for databases that store booleans as integers."""
    if text is None:
        return None
    value = replace_outside_quotes(text, r"\bfalse\b", "0")
    return replace_outside_quotes(value, r"\btrue\b", "1")


def replace_outside_quotes(text: str, pattern: str, replacement: str) -> str:
    """For a backend's own rules: ``re.sub`` (ignoring case) that leaves quoted strings alone."""
    compiled = re.compile(pattern, re.IGNORECASE)
    return outside_quotes(text, lambda part: compiled.sub(replacement, part))
