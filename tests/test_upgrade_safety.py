"""Upgrades say what a drop discards, and SQLite rebuilds lose no rows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations.ops import DropColumnOp, DropTableOp
from project import Project

from flask_schema.backends import backend_for
from flask_schema.safety import _count_rows, _count_values

FOREIGN_KEYS_ON = """
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "connect")
def _foreign_keys_on(dbapi_connection, record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
"""

PARENT_CHILD = FOREIGN_KEYS_ON + """
class Parent(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))
    {extra}

class Child(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    parent_id = db.Column(
        db.Integer, db.ForeignKey("parent.id", ondelete="CASCADE", name="fk_child_parent")
    )
    nickname = db.Column(db.String(50))

class Pet(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    parent_id = db.Column(
        db.Integer, db.ForeignKey("parent.id", ondelete="SET NULL", name="fk_pet_parent")
    )
"""


def revision_named(project: Project, slug: str) -> Path:
    """The revision file whose name holds ``slug`` (file names start with random ids)."""
    (found,) = [path for path in project.revision_files() if slug in path.name]
    return found


def _rows(project: Project, query: str) -> list[tuple[object, ...]]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def _execute(project: Project, *statements: str) -> None:
    engine = project.engine()
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_sqlite_rebuild_keeps_rows_of_child_tables(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app(PARENT_CHILD.format(extra=""))
    project.db("init")
    project.db("migrate", "-m", "tables")
    project.db("upgrade")
    _execute(
        project,
        "INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO child (id, parent_id, nickname) VALUES (10, 1, 'x'), (11, 2, 'y')",
        "INSERT INTO pet (id, parent_id) VALUES (20, 1)",
    )
    # Changing a column's type makes batch mode rebuild the parent table.
    project.write_app(PARENT_CHILD.format(extra="").replace("db.String(50))\n    \n", "db.Text())\n"))
    project.db("migrate", "-m", "rebuild parent", "--no-input")
    assert "batch_op.alter_column" in revision_named(project, "rebuild").read_text()
    project.db("upgrade")
    assert _rows(project, "SELECT id, name FROM parent ORDER BY id") == [(1, "a"), (2, "b")]
    assert _rows(project, "SELECT id, parent_id, nickname FROM child ORDER BY id") == [
        (10, 1, "x"), (11, 2, "y")
    ]
    assert _rows(project, "SELECT id, parent_id FROM pet") == [(20, 1)]
    # The rebuilt parent is still the one the children point at, with the cascade.
    assert _rows(project, "PRAGMA foreign_key_check") == []
    (foreign_key,) = _rows(project, "PRAGMA foreign_key_list(child)")
    assert foreign_key[2] == "parent" and foreign_key[6] == "CASCADE"


BEFORE_DROP = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))
    email = db.Column(db.String(50))

class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.String(50))
"""

AFTER_DROP = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(50))
"""


def test_upgrade_says_what_a_drop_discards(project: Project) -> None:
    project.write_app(BEFORE_DROP)
    project.db("init")
    project.db("migrate", "-m", "tables")
    project.db("upgrade")
    _execute(
        project,
        "INSERT INTO person (id, name, email) VALUES (1, 'ann', 'a@x'), (2, NULL, 'b@x'),"
        " (3, 'cy', NULL)",
        "INSERT INTO note (id, body) VALUES (1, 'x'), (2, 'y'), (3, 'z'), (4, 'w')",
    )
    project.write_app(AFTER_DROP)
    project.db("migrate", "-m", "drops", "--no-input")
    upgraded = project.db("upgrade")
    assert "Dropping table note discards 4 row(s)." in upgraded.stderr
    assert "Dropping column person.name discards 2 non-null value(s)." in upgraded.stderr
    assert "email" in project.columns("person") and "name" not in project.columns("person")


def test_nothing_is_said_when_nothing_is_lost(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(sa.text("INSERT INTO note (id, body) VALUES (1, NULL)"))
        empty_column = DropColumnOp("note", "body")
        assert _count_values(connection, empty_column) is None
        assert _count_rows(connection, DropTableOp("missing")) is None
        assert _count_rows(connection, DropTableOp("note")) == "Dropping table note discards 1 row(s)."
        connection.execute(sa.text("DELETE FROM note"))
        assert _count_rows(connection, DropTableOp("note")) is None
    engine.dispose()


def test_rebuild_guard_restores_foreign_keys_and_warns_when_it_cannot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("flask_schema"), "propagate", True)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        with backend_for("sqlite").transactional_migrations(connection):
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert "could not be turned off" not in caplog.text

        # A caller's connection already inside a transaction cannot change the pragma.
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        with backend_for("sqlite").transactional_migrations(connection):
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert "can delete rows of child tables" in caplog.text
    engine.dispose()
