"""PostgreSQL enum types follow their tables, and added values are written."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from databases import fresh_database
from project import Project

MOOD = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    mood = db.Column(db.Enum({values}, name="mood"))
"""

LEVEL = MOOD.replace("{values}", "'calm', 'happy', 'sad'") + """
class Task(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    level = db.Column(db.Enum('low', 'high', name='level'))
"""


def _enums(project: Project) -> dict[str, list[str]]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            return {item["name"]: item["labels"] for item in sa.inspect(connection).get_enums()}
    finally:
        engine.dispose()


def test_enum_created_extended_and_dropped(tmp_path: Path) -> None:
    with fresh_database("postgresql", str(tmp_path)) as url:
        project = Project(tmp_path, url, "postgresql")
        project.write_app(MOOD.format(values="'calm', 'happy'"))
        project.db("init")
        project.db("migrate", "-m", "people")
        project.db("upgrade")
        assert _enums(project) == {"mood": ["calm", "happy"]}

        # An added value is detected; a new table brings its enum with it.
        project.write_app(LEVEL)
        project.db("migrate", "-m", "values")
        project.db("upgrade")
        assert _enums(project) == {"mood": ["calm", "happy", "sad"], "level": ["low", "high"]}

        # Dropping the tables drops their types, so creating them again works.
        project.write_app("")
        project.db("migrate", "-m", "drop", "--no-input")
        project.db("upgrade")
        assert _enums(project) == {}
        project.db("downgrade", "-1")
        assert _enums(project) == {"mood": ["calm", "happy", "sad"], "level": ["low", "high"]}
        # The downgrade of the table's creation takes the new type away again.
        project.db("downgrade", "-1")
        assert "level" not in _enums(project) and "task" not in project.tables()
