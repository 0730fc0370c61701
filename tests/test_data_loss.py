"""A type change never loses data in silence; a drop asks first on a terminal."""

from __future__ import annotations

import os
import subprocess

import pytest
import sqlalchemy as sa
from project import FLASK, Project
from race import write_revision


def _rows(project: Project, query: str) -> list[tuple[object, ...]]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def _error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return line


def test_sqlite_rebuild_to_a_number_is_refused(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, """
        op.create_table("person", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("age", sa.String(10)))
        op.execute("INSERT INTO person (id, age) VALUES (1, '7'), (2, 'abc'), (3, '12abc'), (4, NULL)")
    """)
    write_revision(project, "r2", "r1", """
        with op.batch_alter_table("person") as batch_op:
            batch_op.alter_column("age", existing_type=sa.String(10), type_=sa.Integer())
    """)
    line = _error(project.db("upgrade", check=False))
    assert "Refusing to alter column person.age: 2 row(s) hold values that INTEGER cannot keep" in line
    assert "--allow-data-loss" in line
    assert project.version() == {"r1"}
    assert _rows(project, "SELECT age FROM person ORDER BY id") == [("7",), ("abc",), ("12abc",), (None,)]

    project.db("upgrade", "--allow-data-loss")
    assert project.version() == {"r2"}
    assert _rows(project, "SELECT age FROM person ORDER BY id") == [(7,), (0,), (12,), (None,)]


NOT_STRICT = """
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"init_command": "SET sql_mode = ''"}}
"""


@pytest.mark.parametrize("backend", ["mariadb"])
def test_mariadb_changes_that_would_rewrite_values_are_refused(project: Project) -> None:
    project.write_app(config=NOT_STRICT)
    project.db("init")
    write_revision(project, "r1", None, """
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(20)), sa.Column("kind", sa.Enum("a", "b", "c")))
        op.execute("INSERT INTO t VALUES (1, 'short', 'a'), (2, 'much too long', 'c'), (3, NULL, 'b')")
    """)
    project.db("upgrade")
    before = _rows(project, "SELECT id, name, kind FROM t ORDER BY id")
    changes = {
        "shrink": ('op.alter_column("t", "name", existing_type=sa.String(20), type_=sa.String(5))',
                   "Refusing to alter column t.name: 1 row(s) are longer than 5 characters"),
        "not_null": ('op.alter_column("t", "name", existing_type=sa.String(20), nullable=False)',
                     "Refusing to alter column t.name: 1 row(s) are NULL"),
        "enum": ('op.alter_column("t", "kind", existing_type=sa.Enum("a", "b", "c"),'
                 ' type_=sa.Enum("a", "b"))',
                 "Refusing to alter column t.kind: 1 row(s) hold a value the new ENUM does not have"),
        # Raw SQL passes no check of ours: the strict session makes the server refuse.
        "raw": ('op.execute("ALTER TABLE t MODIFY name VARCHAR(5)")', "Data truncated for column 'name'"),
    }
    for name, (body, expected) in changes.items():
        path = write_revision(project, "r2", "r1", body)
        assert expected in _error(project.db("upgrade", check=False)), name
        assert project.version() == {"r1"}
        assert _rows(project, "SELECT id, name, kind FROM t ORDER BY id") == before, name
        if name == "raw":
            # The server refused the one statement: nothing of r2 took effect, and
            # nothing is recorded as half-applied.
            assert "None of that revision's statements took effect" in _error(
                project.db("upgrade", check=False)
            )
        os.remove(path)

    write_revision(project, "r2", "r1", changes["shrink"][0])
    project.db("upgrade", "--allow-data-loss")
    assert _rows(project, "SELECT name FROM t ORDER BY id") == [("short",), ("much ",), (None,)]


def _on_a_terminal(project: Project, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask db <args>`` with a terminal as stdin, answering its question with ``answer``."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [FLASK, "db", *args], cwd=project.path, env=project.env(), stdin=terminal,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        os.write(controller, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def test_a_drop_that_discards_data_asks_on_a_terminal(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, """
        op.create_table("note", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("body", sa.String(20)))
        op.execute("INSERT INTO note (id, body) VALUES (1, 'kept'), (2, 'also')")
    """, 'op.drop_table("note")')
    write_revision(project, "r2", "r1", 'op.drop_column("note", "body")',
                   'op.add_column("note", sa.Column("body", sa.String(20)))')
    project.db("upgrade", "r1")

    declined = _on_a_terminal(project, "n", "upgrade")
    assert "Dropping column note.body discards 2 non-null value(s). Drop it?" in declined.stderr
    assert declined.returncode == 1 and "Stopped before the drop" in declined.stderr
    assert project.version() == {"r1"} and "body" in project.columns("note")

    accepted = _on_a_terminal(project, "y", "upgrade")
    assert accepted.returncode == 0, accepted.stderr
    assert project.version() == {"r2"} and "body" not in project.columns("note")

    # The downgrade of the data migration asks too; --no-input keeps warning and going ahead.
    down = project.db("downgrade", "base", "--no-input")
    assert "Dropping table note discards 2 row(s)." in down.stderr and "Drop it?" not in down.stderr
    assert "note" not in project.tables()
