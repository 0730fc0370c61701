"""The house rules of the package, checked on its source.

* no import cycles between its modules (imports inside functions count;
  imports only for type checking do not);
* private Alembic names only in ``flask_schema/alembic_private.py``, and
  other libraries' private names only where the table below says why;
* no dialect names compared outside ``backends/`` and the lint's
  per-backend rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flask_schema"
DIALECTS = {"postgresql", "mysql", "mariadb", "sqlite"}

#: Private names of other libraries the package uses, each with its reason.
ALLOWED_PRIVATE = {
    ("autogen.py", "_type_affinity"): "SQLAlchemy: whether two types store alike, for renames",
    ("backends/mysql.py", "_read_timeout"): "PyMySQL: lift the connect-time read limit",
    ("backends/mysql.py", "_write_timeout"): "PyMySQL: lift the connect-time write limit",
    ("compat.py", "_future_facade"): "SQLAlchemy 1.4: the 2.0-style view of a legacy engine",
    ("output.py", "_fmt"): "logging: keep the format of a handler alembic.ini set up",
    ("state.py", "_get_current_object"): "Werkzeug: the app behind current_app",
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return [node for node in ast.walk(tree) if id(node) not in skipped]


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in runtime_nodes(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                # "from package import module" depends on that module, not on the
                # package's __init__ (which Python runs for every submodule anyway).
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                    for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in known and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_lower_layers_never_import_the_commands() -> None:
    graph = import_graph()
    for lower in ("flask_schema.state", "flask_schema.backends", "flask_schema.run.environment",
                  "flask_schema.run.database", "flask_schema.runtime"):
        assert not graph[lower] & {"flask_schema.api", "flask_schema.cli"}, lower


def private_names(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if ast.unparse(node.value) not in {"self", "cls", "super()"}:
                found.append((node.attr, node.lineno))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("alembic", "sqlalchemy")):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("_")]
    return found


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda path: str(path.relative_to(PACKAGE))
)
def test_private_names_only_where_fenced(path: Path) -> None:
    relative = str(path.relative_to(PACKAGE))
    if relative == "alembic_private.py":
        return
    unexplained = [
        f"{relative}:{line} {name}"
        for name, line in private_names(path)
        if (relative, name) not in ALLOWED_PRIVATE
    ]
    assert unexplained == []


def test_every_fenced_alembic_name_is_listed_with_why() -> None:
    source = (PACKAGE / "alembic_private.py").read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    for name, _ in private_names(PACKAGE / "alembic_private.py"):
        assert name in docstring, name


def dialect_comparisons(path: Path) -> list[str]:
    found = []
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            names = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
            if names & DIALECTS:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_dialect_scan_sees_a_comparison(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('if engine.dialect.name == "mysql":\n    pass\n')
    assert dialect_comparisons(sample) == ["1: engine.dialect.name == 'mysql'"]


@pytest.mark.parametrize(
    "path",
    [path for path in sorted(PACKAGE.rglob("*.py"))
     if path.relative_to(PACKAGE).parts[0] not in {"backends", "lint"}],
    ids=lambda path: str(path.relative_to(PACKAGE)),
)
def test_no_dialect_names_compared_outside_backends(path: Path) -> None:
    assert dialect_comparisons(path) == []
