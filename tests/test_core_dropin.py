"""A Flask-Migrate project switches to flask_schema by changing one import line.

The migrations folders here are written by the real Flask-Migrate 4.1 (and,
for 2.x, by hand from what that release generated) and are never edited after
the switch: the test compares every file but the revisions before and after.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask_migrate_projects import (
    AUDIT_MODEL,
    AUDIT_WITH_NOTE,
    FLASK_MIGRATE_2_ENV,
    USER_MODEL,
    USER_WITH_EMAIL,
)
from project import Project


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a migrations folder except the revisions, by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "versions" not in path.parts and "__pycache__" not in path.parts
    }


def new_revision(project: Project, old: set[Path]) -> str:
    """The id of the one revision file not in ``old``."""
    (added,) = set(project.revision_files()) - old
    return added.name.split("_")[0]


def test_flask_migrate_4_project(project: Project, flask_migrate_folders: dict[str, Path]) -> None:
    shutil.copytree(flask_migrate_folders["single"], project.path / "migrations")
    before = snapshot(project.path / "migrations")
    env_py = before["env.py"].decode()
    assert "current_app.extensions['migrate']" in env_py and "flask_schema" not in env_py
    project.write_app(USER_MODEL)
    project.db("upgrade")
    old = set(project.revision_files())

    project.write_app(USER_WITH_EMAIL)
    assert "Generating" in project.db("migrate", "-m", "add email").stdout
    head = new_revision(project, old)
    project.db("upgrade")
    assert "email" in project.columns("user")
    assert project.version() == {head}
    assert project.db("current").stdout.strip() == f"{head} (head)"
    assert "No new upgrade operations detected." in project.db("check").stdout

    project.db("downgrade")
    assert "email" not in project.columns("user")
    assert project.version() == {old.pop().name.split("_")[0]}
    assert snapshot(project.path / "migrations") == before


def test_flask_migrate_4_multidb_project(
    bound_project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    project = bound_project
    shutil.copytree(flask_migrate_folders["multidb"], project.path / "migrations")
    before = snapshot(project.path / "migrations")
    project.write_app(USER_MODEL + AUDIT_MODEL)
    project.db("upgrade")
    old = set(project.revision_files())
    first = next(iter(old)).name.split("_")[0]

    project.write_app(USER_WITH_EMAIL + AUDIT_WITH_NOTE)
    project.db("migrate", "-m", "add columns")
    head = new_revision(project, old)
    project.db("upgrade")
    assert "email" in project.columns("user") and "note" in project.columns("audit", "audit")
    assert "audit" not in project.tables() and "user" not in project.tables("audit")
    assert project.version() == {head} == project.version("audit")
    lines = project.db("current").stdout.strip().splitlines()
    assert sorted(lines) == [f"audit: {head} (head)", f"default: {head} (head)"]
    assert "No new upgrade operations detected." in project.db("check").stdout

    project.db("downgrade")
    assert "email" not in project.columns("user")
    assert "note" not in project.columns("audit", "audit")
    assert project.version() == project.version("audit") == {first}
    assert snapshot(project.path / "migrations") == before


def test_flask_migrate_2_env_py(project: Project, flask_migrate_folders: dict[str, Path]) -> None:
    shutil.copytree(flask_migrate_folders["single"], project.path / "migrations")
    (project.path / "migrations" / "env.py").write_text(FLASK_MIGRATE_2_ENV)
    project.write_app(USER_WITH_EMAIL)

    project.db("upgrade")
    assert "email" not in project.columns("user")
    project.db("migrate", "-m", "add email")
    project.db("upgrade")
    assert "email" in project.columns("user")
    assert "No changes in schema detected." in project.db("migrate").stderr
    assert len(project.revision_files()) == 2
    assert "No new upgrade operations detected." in project.db("check").stdout

    sql = project.db("upgrade", "--sql", "base:head").stdout
    assert "email" in sql and "alembic_version" in sql
    project.db("downgrade", "base")
    assert "user" not in project.tables()
