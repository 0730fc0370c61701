"""example_lite's history (Flask-SQLAlchemy-Lite, two databases) on each backend.

The app is copied next to two fresh databases; the test runs its migrations
with ``flask db``, uses the app, then takes one database back on its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import fresh_database
from project import REPO_ROOT, Project

EXAMPLE = REPO_ROOT / "example_lite"
HEAD = "9980683066f6"

USE_THE_APP = """
from notes import create_app
client = create_app().test_client()
print(client.post("/notes", json={"title": "milk"}).status_code)
print(client.post("/notes", json={"title": "keys", "pinned": True}).status_code)
print(client.get("/notes").get_json())
"""


@pytest.fixture
def example(backend: str, tmp_path: Path) -> Iterator[Project]:
    target = tmp_path / "example_lite"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    (tmp_path / "audit").mkdir()
    with fresh_database(backend, str(tmp_path)) as url, fresh_database(
        backend, str(tmp_path / "audit")
    ) as audit_url:
        project = Project(target, url, backend)
        project.binds["audit"] = audit_url
        yield project


def test_history_runs_matches_the_models_and_goes_back_per_database(example: Project) -> None:
    env = {
        "FLASK_APP": "notes:create_app",
        "AUDIT_DATABASE_URL": example.binds["audit"].render_as_string(hide_password=False),
    }
    example.db("upgrade", env=env)
    assert example.db("current", env=env).stdout.splitlines() == [
        f"default: {HEAD} (head)",
        f"audit: {HEAD} (head)",
    ]
    assert example.tables() == {"alembic_version", "note"}
    assert example.tables("audit") == {"alembic_version", "event"}
    assert example.db("check", env=env).returncode == 0

    used = subprocess.run(
        [sys.executable, "-c", USE_THE_APP],
        cwd=example.path,
        env=example.env(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert used == [
        "201",
        "201",
        "{'events': ['created', 'created'], 'notes': [{'pinned': True, 'title': 'keys'}, "
        "{'pinned': False, 'title': 'milk'}]}",
    ]

    example.db("downgrade", "--database", "audit", "base", env=env)
    assert example.tables("audit") == {"alembic_version"} and example.version("audit") == set()
    assert example.version() == {HEAD} and "pinned" in example.columns("note")
    example.db("downgrade", "base", env=env)
    assert example.tables() == {"alembic_version"}
