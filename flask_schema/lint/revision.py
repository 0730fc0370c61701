"""Read a revision file into operations without running it.

The file is parsed with :mod:`ast`; the ``op.*`` calls in ``upgrade()``
(and ``upgrade_<bind>()`` in multi-database projects, and the module's own
helper functions they call) become
:class:`~flask_schema.lint.model.Operation` facts. Each fact records the
backends it runs on, from dialect branches, early returns and decorators
(:mod:`.branches`). Nothing is imported or executed, so linting works
without a database and on broken revisions.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .branches import Backends, DialectTests, decorator_backends
from .model import ALL_BACKENDS, Operation
from .sql import operations_from_sql

#: ``# flask-schema: allow RULE-ID[, RULE-ID] because <reason>``
SUPPRESSION = re.compile(
    r"#\s*flask-schema:\s*allow\s+(?P<ids>[\w\-]+(?:\s*,\s*[\w\-]+)*)(?:\s+because\s+(?P<reason>\S.*))?",
    re.IGNORECASE,
)


@dataclass
class Suppression:
    line: int
    rule_ids: set[str]
    reason: str | None


@dataclass
class RevisionSource:
    """The operations and suppression comments of one revision file."""

    operations: dict[str, list[Operation]] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)
    comment_only_lines: set[int] = field(default_factory=set)
    #: ``phase = "post"`` at module level makes it a post-deploy revision.
    phase: str = "pre"

    def suppressed(self, rule_id: str, line: int, end_line: int) -> bool:
        """Whether a comment on the operation's lines, or just above it, allows ``rule_id``."""
        lines = set(range(line, end_line + 1))
        above = line - 1
        while above in self.comment_only_lines:
            lines.add(above)
            above -= 1
        return any(
            rule_id in item.rule_ids and item.reason and item.line in lines for item in self.suppressions
        )


def read_revision(source: str) -> RevisionSource:
    """Parse ``source``; raises :class:`SyntaxError` when it is not Python."""
    tree = ast.parse(source)
    found = RevisionSource()
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    tests = DialectTests()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            tests.remember(node)  # IS_POSTGRES = "postgres" in os.environ["DATABASE_URL"]
            found.phase = _phase(node, found.phase)
    for name, node in functions.items():
        if name == "upgrade" or name.startswith("upgrade_"):
            bind = name[len("upgrade_") :] if name != "upgrade" else ""
            walker = _Walker(tests, functions, decorator_backends(node.decorator_list))
            found.operations[bind] = list(walker.walk(node.body))
    _read_comments(source, found)
    return found


def _phase(node: ast.Assign, current: str) -> str:
    """``phase = "post"`` read from a module-level assignment; anything else leaves ``current``."""
    named = [target.id for target in node.targets if isinstance(target, ast.Name)]
    if "phase" in named and isinstance(node.value, ast.Constant) and node.value.value in ("pre", "post"):
        return str(node.value.value)
    return current


def _read_comments(source: str, found: RevisionSource) -> None:
    code_lines: set[int] = set()
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
        elif token.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            code_lines.update(range(token.start[0], token.end[0] + 1))
    for line, text in comments.items():
        if line not in code_lines:
            found.comment_only_lines.add(line)
        match = SUPPRESSION.search(text)
        if match:
            ids = {part.strip() for part in match.group("ids").split(",")}
            found.suppressions.append(Suppression(line, ids, match.group("reason")))


def _constant(node: ast.expr | None) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    return None


def _text(node: ast.expr | None) -> str | None:
    return ast.unparse(node) if node is not None else None


def _sql_literal(node: ast.expr | None) -> str | None:
    """The SQL of ``"..."``, ``sa.text("...")`` or ``text("...")``, else ``None``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "text":
            return _sql_literal(node.args[0])
    return None


class _Call:
    """Positional and keyword arguments of one call, looked up by either."""

    def __init__(self, node: ast.Call, batch: bool, batch_table: str | None = None) -> None:
        self.node = node
        self.batch = batch
        self.table = batch_table
        self.args = list(node.args)
        self.kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}

    def arg(self, index: int, name: str) -> ast.expr | None:
        """Argument ``name``, or positional ``index`` of the non-batch form."""
        if name in self.kwargs:
            return self.kwargs[name]
        if self.batch:
            index -= 1
        if 0 <= index < len(self.args):
            return self.args[index]
        return None

    def table_arg(self, index: int, name: str) -> str | None:
        if self.batch:
            return self.table
        value = _constant(self.arg(index, name))
        return value if isinstance(value, str) else None

    def flag(self, name: str) -> bool:
        return _constant(self.kwargs.get(name)) is True


def _terminates(body: list[ast.stmt]) -> bool:
    """Whether ``body`` always leaves the function (ends in ``return`` or ``raise``)."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


class _Walker:
    """Walk ``upgrade()`` statements, tracking batch and autocommit blocks and dialect branches."""

    def __init__(
        self,
        tests: DialectTests,
        functions: dict[str, ast.FunctionDef],
        runs_on: Backends | None = None,
    ) -> None:
        self.batch_aliases: dict[str, str | None] = {}
        self.in_transaction = True
        self.tests = tests
        self.functions = functions
        self.calling: set[str] = set()
        #: The backends the statement being read runs on; ``None``: all of them.
        self.runs_on = runs_on
        self.done = False

    def _narrowed(self, selected: Backends) -> Backends:
        return selected if self.runs_on is None else self.runs_on & selected

    def walk(self, body: list[ast.stmt]) -> Iterator[Operation]:
        for statement in body:
            if self.done or self.runs_on == frozenset():
                return
            if isinstance(statement, (ast.Return, ast.Raise)):
                self.done = True
                return
            if isinstance(statement, ast.If):
                yield from self._if(statement)
                continue
            if isinstance(statement, (ast.With, ast.AsyncWith)):
                yield from self._with(statement)
                continue
            self.tests.remember(statement)
            blocks = [
                getattr(statement, name)
                for name in ("body", "orelse", "finalbody")
                if isinstance(getattr(statement, name, None), list)
            ]
            if blocks:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                blocks.extend(handler.body for handler in getattr(statement, "handlers", []))
                for block in blocks:
                    yield from self._branch(block, self.runs_on)
                continue
            yield from self._helper(statement)
            for node in ast.walk(statement):
                if isinstance(node, ast.Call):
                    operation = self._operation(node)
                    if operation is not None:
                        yield from operation

    def _branch(self, block: list[ast.stmt], runs_on: Backends | None) -> Iterator[Operation]:
        """Walk a block that may end the function for its backends only."""
        saved = self.runs_on
        self.runs_on = runs_on
        yield from self.walk(block)
        self.runs_on, self.done = saved, False

    def _if(self, statement: ast.If) -> Iterator[Operation]:
        selected = self.tests.selects(statement.test)
        if selected is None:
            yield from self._branch(statement.body, self.runs_on)
            yield from self._branch(statement.orelse, self.runs_on)
            return
        body_on, else_on = self._narrowed(selected), self._narrowed(ALL_BACKENDS - selected)
        yield from self._branch(statement.body, body_on)
        yield from self._branch(statement.orelse, else_on)
        # An early return for some backends: the rest runs on the others only.
        if _terminates(statement.body):
            self.runs_on = else_on
        if _terminates(statement.orelse):
            self.runs_on = body_on if not _terminates(statement.body) else frozenset()

    def _helper(self, statement: ast.stmt) -> Iterator[Operation]:
        """Read a module-level function the revision calls, as if written in place."""
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            return
        func = statement.value.func
        if not isinstance(func, ast.Name) or func.id not in self.functions or func.id in self.calling:
            return
        self.calling.add(func.id)
        yield from self._branch(self.functions[func.id].body, self.runs_on)
        self.calling.discard(func.id)

    def _with(self, statement: ast.With | ast.AsyncWith) -> Iterator[Operation]:
        saved_aliases, saved_tx = dict(self.batch_aliases), self.in_transaction
        for item in statement.items:
            call = item.context_expr
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            if call.func.attr == "batch_alter_table" and isinstance(item.optional_vars, ast.Name):
                table = (
                    _constant(call.args[0])
                    if call.args
                    else _constant(next((kw.value for kw in call.keywords if kw.arg == "table_name"), None))
                )
                self.batch_aliases[item.optional_vars.id] = table if isinstance(table, str) else None
            elif call.func.attr == "autocommit_block":
                self.in_transaction = False
        yield from self.walk(statement.body)
        self.batch_aliases, self.in_transaction = saved_aliases, saved_tx

    def _operation(self, node: ast.Call) -> list[Operation] | None:
        func = node.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return None
        owner = func.value.id
        if owner == "op":
            call = _Call(node, batch=False)
        elif owner in self.batch_aliases:
            call = _Call(node, batch=True, batch_table=self.batch_aliases[owner])
        else:
            return None
        reader = getattr(self, f"_read_{func.attr}", None)
        if reader is None:
            return None
        self._node = node
        result: list[Operation] = reader(call)
        return result

    def _new(self, kind: str, table: object, **facts: Any) -> Operation:
        """An operation of ``kind`` at the call being read."""
        return Operation(
            kind,
            table if isinstance(table, str) else None,
            line=self._node.lineno,
            end_line=self._node.end_lineno or self._node.lineno,
            in_transaction=self.in_transaction,
            backends=self.runs_on,
            **facts,
        )

    # -- one reader per operation ----------------------------------------------------

    def _read_add_column(self, call: _Call) -> list[Operation]:
        column = call.arg(1, "column")
        name = nullable = type_ = None
        server_default = primary_key = False
        if isinstance(column, ast.Call):
            name = _constant(column.args[0]) if column.args else None
            type_ = (
                _text(column.args[1])
                if len(column.args) > 1
                else _text(next((kw.value for kw in column.keywords if kw.arg == "type_"), None))
            )
            kwargs = {kw.arg: kw.value for kw in column.keywords if kw.arg}
            nullable = _constant(kwargs.get("nullable"))
            primary_key = _constant(kwargs.get("primary_key")) is True
            default = kwargs.get("server_default")
            server_default = default is not None and not (
                isinstance(default, ast.Constant) and default.value is None
            )
        if primary_key and nullable is None:
            nullable = False
        return [
            self._new(
                "add_column",
                call.table_arg(0, "table_name"),
                column=str(name) if name else None,
                nullable=nullable if isinstance(nullable, bool) else None,
                server_default=server_default,
                type_=type_,
            )
        ]

    def _read_drop_column(self, call: _Call) -> list[Operation]:
        column = _constant(call.arg(1, "column_name"))
        return [
            self._new("drop_column", call.table_arg(0, "table_name"), column=str(column) if column else None)
        ]

    def _read_alter_column(self, call: _Call) -> list[Operation]:
        table = call.table_arg(0, "table_name")
        column = _constant(call.arg(1, "column_name"))
        column_name = str(column) if column else None
        found = []
        new_name = _constant(call.kwargs.get("new_column_name"))
        if isinstance(new_name, str):
            found.append(self._new("rename_column", table, column=column_name, new_name=new_name))
        if "type_" in call.kwargs:
            found.append(
                self._new(
                    "alter_type",
                    table,
                    column=column_name,
                    type_=_text(call.kwargs["type_"]),
                    existing_type=_text(call.kwargs.get("existing_type")),
                )
            )
        if _constant(call.kwargs.get("nullable")) is False:
            found.append(self._new("set_not_null", table, column=column_name))
        return found

    def _read_create_table(self, call: _Call) -> list[Operation]:
        return [self._new("create_table", call.table_arg(0, "table_name"))]

    def _read_drop_table(self, call: _Call) -> list[Operation]:
        return [self._new("drop_table", call.table_arg(0, "table_name"))]

    def _read_rename_table(self, call: _Call) -> list[Operation]:
        new_name = _constant(call.arg(1, "new_table_name"))
        return [
            self._new(
                "rename_table",
                call.table_arg(0, "old_table_name"),
                new_name=str(new_name) if new_name else None,
            )
        ]

    def _read_create_index(self, call: _Call) -> list[Operation]:
        return [
            self._new(
                "create_index",
                call.table_arg(1, "table_name"),
                concurrently=call.flag("postgresql_concurrently"),
                unique=call.flag("unique"),
            )
        ]

    def _read_drop_index(self, call: _Call) -> list[Operation]:
        table = call.table if call.batch else _constant(call.kwargs.get("table_name"))
        if not call.batch and table is None and len(call.args) > 1:
            table = _constant(call.args[1])
        return [
            self._new(
                "drop_index",
                table if isinstance(table, str) else None,
                concurrently=call.flag("postgresql_concurrently"),
            )
        ]

    def _read_create_foreign_key(self, call: _Call) -> list[Operation]:
        table = call.table if call.batch else _constant(call.arg(1, "source_table"))
        return [
            self._new(
                "add_foreign_key",
                table if isinstance(table, str) else None,
                not_valid=call.flag("postgresql_not_valid"),
            )
        ]

    def _read_create_check_constraint(self, call: _Call) -> list[Operation]:
        return [
            self._new(
                "add_check", call.table_arg(1, "table_name"), not_valid=call.flag("postgresql_not_valid")
            )
        ]

    def _read_create_unique_constraint(self, call: _Call) -> list[Operation]:
        return [self._new("add_unique", call.table_arg(1, "table_name"), unique=True)]

    def _read_execute(self, call: _Call) -> list[Operation]:
        node = call.args[0] if call.args else call.kwargs.get("sqltext")
        sql = _sql_literal(node)
        if sql is None:
            return [self._new("execute", None)]
        line = self._node.lineno
        return operations_from_sql(
            sql, line, self._node.end_lineno or line, self.in_transaction, self.runs_on
        )
