"""Which backends a branch of a revision runs on, read from its ``if`` test.

Revisions of real projects do different things per database::

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION ...")

Code under such a branch is judged only for the backends it runs on. A
test is recognised when one side names a dialect (``dialect.name``,
``engine.name``, a URL or ``sqlalchemy.url`` setting, or a variable assigned
from one) and the other is a string literal of a known database, compared
with ``==``/``!=``/``in``/``not in``/``startswith``; ``not``, ``and``
and ``or`` combine them, and a variable may hold a test's result. Anything
else is not a dialect test, and both of its branches are judged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .model import ALL_BACKENDS

Backends = frozenset[str]

#: How each backend may be spelled in a test, in a dialect name or a URL.
_SPELLINGS = {
    "postgresql": ("postgresql", "postgres", "psycopg"),
    "mysql": ("mysql", "mariadb"),
    "sqlite": ("sqlite",),
}
#: Words that make an expression a dialect or URL when unparsed.
_DIALECT_WORDS = ("dialect", "url", "uri", "drivername", "backend_name", "engine.name", "bind.name")


def _exact(text: str) -> Backends | None:
    """The backend a literal compared with ``==`` names (``postgresql+psycopg2`` too)."""
    name = text.lower().split("+", 1)[0]
    for backend, spellings in _SPELLINGS.items():
        if name in spellings:
            return frozenset({backend})
    return None


def _containing(text: str) -> Backends | None:
    """Backends whose name contains, or starts with, ``text`` (``"postgres" in url``)."""
    text = text.lower()
    found = {
        backend for backend, spellings in _SPELLINGS.items() if any(text in s or s in text for s in spellings)
    }
    return frozenset(found) if found else None


def _strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        values = [item.value for item in node.elts if isinstance(item, ast.Constant)]
        if len(values) == len(node.elts) and all(isinstance(value, str) for value in values):
            return [str(value) for value in values]
    return None


def _union(parts: list[Backends | None]) -> Backends | None:
    if any(part is None for part in parts):
        return None
    return frozenset().union(*(part for part in parts if part is not None))


@dataclass
class DialectTests:
    """Reads ``if`` tests; remembers variables that hold a dialect or a test result."""

    #: Names assigned a dialect name or URL: ``dialect = op.get_bind().dialect.name``.
    dialect_names: set[str] = field(default_factory=set)
    #: Names assigned a test: ``is_pg = bind.dialect.name == "postgresql"``.
    flags: dict[str, Backends] = field(default_factory=dict)

    def remember(self, statement: ast.stmt) -> None:
        """Note an assignment of a dialect expression or a dialect test."""
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            return
        selected = self.selects(statement.value)
        if selected is not None:
            self.flags[target.id] = selected
        elif self._is_dialect(statement.value):
            self.dialect_names.add(target.id)

    def _is_dialect(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.dialect_names or any(
                word in node.id.lower() for word in ("dialect", "url")
            )
        text = ast.unparse(node).lower()
        return any(word in text for word in _DIALECT_WORDS)

    def selects(self, test: ast.expr) -> Backends | None:
        """The backends on which ``test`` is true, or ``None`` when it is no dialect test."""
        if isinstance(test, ast.Name) and test.id in self.flags:
            return self.flags[test.id]
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.selects(test.operand)
            return None if inner is None else ALL_BACKENDS - inner
        if isinstance(test, ast.BoolOp):
            parts = [self.selects(value) for value in test.values]
            if isinstance(test.op, ast.And):
                known = [part for part in parts if part is not None]
                # Unknown parts only narrow further: the body runs at most where the known ones hold.
                return frozenset.intersection(*known) if known else None
            return _union(parts)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return self._compare(test.left, test.ops[0], test.comparators[0])
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Attribute)
            and test.func.attr == "startswith"
            and self._is_dialect(test.func.value)
            and test.args
        ):
            prefixes = _strings(test.args[0])
            return _union([_containing(prefix) for prefix in prefixes]) if prefixes else None
        return None

    def _compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> Backends | None:
        if isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) and self._is_dialect(left):
            values = _strings(right)
            if values is None:
                return None
            # "x in 'postgresql'" is a substring test; "x in (...)" a membership one.
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Constant):
                selected = _containing(values[0])
            else:
                selected = _union([_exact(value) for value in values])
            if selected is None:
                return None
            return selected if isinstance(op, (ast.Eq, ast.In)) else ALL_BACKENDS - selected
        if isinstance(op, (ast.In, ast.NotIn)) and self._is_dialect(right):
            values = _strings(left)  # "sqlite" in str(url)
            if values is None or len(values) != 1:
                return None
            selected = _containing(values[0])
            if selected is None:
                return None
            return selected if isinstance(op, ast.In) else ALL_BACKENDS - selected
        if isinstance(op, (ast.Eq, ast.NotEq)) and self._is_dialect(right):
            return self._compare(right, op, left)
        return None


def decorator_backends(decorators: list[ast.expr]) -> Backends | None:
    """Backends a decorator such as ``@only_on("postgresql")`` or ``@skip_on("sqlite")`` runs on.

    A decorator called with dialect names selects them, unless its name
    says it skips them (``skip``, ``except``, ``exclude``, ``not``).
    """
    runs_on: Backends | None = None
    for decorator in decorators:
        if not isinstance(decorator, ast.Call):
            continue
        names = [value for arg in decorator.args for value in (_strings(arg) or [])]
        selected = _union([_exact(name) for name in names]) if names else None
        if selected is None:
            continue
        label = ast.unparse(decorator.func).lower()
        if any(word in label for word in ("skip", "except", "exclude", "not")):
            selected = ALL_BACKENDS - selected
        runs_on = selected if runs_on is None else runs_on & selected
    return runs_on
