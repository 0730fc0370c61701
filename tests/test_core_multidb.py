"""``flask db init --multidb``: one history, one version table per database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import fresh_database
from project import Project

MODELS = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Audit(db.Model):
    __bind_key__ = "audit"
    id = db.Column(db.Integer, primary_key=True)
"""


@pytest.fixture
def bound_project(project: Project, tmp_path: Path) -> Iterator[Project]:
    other = tmp_path / "audit"
    other.mkdir()
    with fresh_database(project.backend, str(other)) as url:
        project.binds["audit"] = url
        yield project


def files_in(folder: Path) -> set[Path]:
    return {
        path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    }


def test_multidb_upgrade_current_sql_downgrade(bound_project: Project) -> None:
    project = bound_project
    project.write_app(MODELS)
    project.db("init", "--multidb")
    project.db("migrate", "-m", "create tables")
    (revision_file,) = project.revision_files()
    head = revision_file.name.split("_")[0]
    source = revision_file.read_text()
    assert "def upgrade_():" in source and "def upgrade_audit():" in source

    project.db("upgrade")
    assert "user" in project.tables() and "audit" not in project.tables()
    assert "audit" in project.tables("audit") and "user" not in project.tables("audit")
    assert project.version() == {head} == project.version("audit")
    current = project.db("current").stdout.splitlines()
    assert current == [f"default: {head} (head)", f"audit: {head} (head)"]

    before = files_in(project.path)
    result = project.db("upgrade", "--sql", "base:head")
    sql = result.stdout
    default_part, _, audit_part = sql.partition("-- Database: audit")
    assert default_part.startswith("-- Database: default")
    assert "CREATE TABLE user" in default_part.replace('"', "").replace("`", "")
    assert "CREATE TABLE audit" in audit_part.replace('"', "").replace("`", "")
    assert "audit (" not in default_part.replace('"', "").replace("`", "")
    assert files_in(project.path) == before, "--sql must not write files"
    assert project.version() == {head} == project.version("audit")

    project.db("downgrade")
    assert "user" not in project.tables() and "audit" not in project.tables("audit")
    assert project.version() == set() == project.version("audit")
