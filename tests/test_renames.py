"""Renamed columns and tables keep their data: asked, answered in advance, or refused."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest
import sqlalchemy as sa
from project import FLASK, Project

from flask_schema.cli import _rename_prompt

V1 = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100))
    age = db.Column(db.Integer)
"""

# name -> full_name (answered yes), age -> years (answered no)
V2 = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    full_name = db.Column(db.String(100))
    years = db.Column(db.Integer)
"""

# table person -> people (answered in advance), years -> birth_year (no input: drop + add)
V3 = """
class Person(db.Model):
    __tablename__ = "people"
    id = db.Column(db.Integer, primary_key=True)
    full_name = db.Column(db.String(100))
    birth_year = db.Column(db.Integer)
"""


def run_on_terminal(project: Project, args: list[str], answers: dict[str, str]) -> str:
    """Run ``flask`` on a pseudo-terminal, answering each [y/N] prompt by its question."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [FLASK, *args], cwd=project.path, env=project.env(), stdin=follower, stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if output.rstrip().endswith(b"[y/N]:"):
                question = output.decode().rstrip().splitlines()[-1]
                (answer,) = [value for key, value in answers.items() if key in question]
                os.write(leader, answer.encode() + b"\n")
                output += b"\n"
    finally:
        os.close(leader)
        process.wait(timeout=60)
    assert process.returncode == 0, output.decode()
    return output.decode()


def rows(project: Project, query: str) -> list[tuple[object, ...]]:
    engine = project.engine()
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(query))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def newest(project: Project, slug: str) -> str:
    """The text of the revision named ``slug``, quotes made single (ruff may format it)."""
    (found,) = [path for path in project.revision_files() if slug in path.name]
    return found.read_text().replace('"', "'")


def test_renames_keep_data(project: Project) -> None:
    project.write_app(V1)
    project.db("init")
    project.db("migrate", "-m", "people")
    project.db("upgrade")
    rows(project, "INSERT INTO person (id, name, age) VALUES (1, 'Ada', 36), (2, 'Alan', 41)")

    # On a terminal: yes for name -> full_name, no for age -> years.
    project.write_app(V2)
    shown = run_on_terminal(
        # One revision (--no-split): the two-phase split of a rename is tests/test_phases.py's.
        project,
        ["db", "migrate", "-m", "rename", "--no-split"],
        {"person.name to": "y", "person.age to": "n"},
    )
    assert "Did you rename person.name to person.full_name? [y/N]" in shown
    assert "Did you rename person.age to person.years? [y/N]" in shown
    assert "rename-column (fails 'flask db lint')" in shown  # the new file was linted, as advice
    text = newest(project, "rename")
    assert "new_column_name='full_name'" in text and "new_column_name='name'" in text
    assert "drop_column('age')" in text
    project.db("upgrade")
    assert rows(project, "SELECT id, full_name, years FROM person ORDER BY id") == [
        (1, "Ada", None), (2, "Alan", None)
    ]
    rows(project, "UPDATE person SET years = id + 1900")

    # In advance for the table; no answer for the column: drop + add, a warning and a comment.
    project.write_app(V3)
    # (The subprocess has no terminal, which acts as --no-input does.)
    result = project.db("migrate", "-m", "table", "--rename", "person:people", "--no-split")
    assert ("Possible rename of people.years to people.birth_year written as a drop and an add"
            in result.stderr)
    assert "--rename people.years:birth_year" in result.stderr
    text = newest(project, "table")
    assert "op.rename_table('person', 'people')" in text
    assert "op.rename_table('people', 'person')" in text
    comment = text.index("# flask-schema: possible rename of people.years to people.birth_year")
    assert comment < text.index("add_column(") < text.index("drop_column('years')")
    project.db("upgrade")
    assert rows(project, "SELECT id, full_name, birth_year FROM people ORDER BY id") == [
        (1, "Ada", None), (2, "Alan", None)
    ]

    # Both directions: the downgrade renames back and keeps the names.
    project.db("downgrade", "-1")
    assert rows(project, "SELECT id, full_name FROM person ORDER BY id") == [(1, "Ada"), (2, "Alan")]


def test_prompt_only_on_a_terminal_without_no_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert _rename_prompt(no_input=True) is None
    assert callable(_rename_prompt(no_input=False))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert _rename_prompt(no_input=False) is None
