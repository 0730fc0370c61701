"""``flask db`` command-line details, run as users run them (real subprocesses).

The revisions are written in-process with the API first (they are empty and
need no database), then every command that reads or writes the database runs
as ``flask db ...`` on each backend.
"""

from __future__ import annotations

import json

from core_support import make_app, quiet_loggers
from project import Project

import flask_schema

# Records what each run of env.py saw, then hands over to flask_schema.
RECORDING_ENV = """\
import json

from alembic import context

from flask_schema.runtime import run_env

with open("seen.jsonl", "a") as seen:
    seen.write(json.dumps({"x": context.get_x_argument(), "tag": context.get_tag_argument()}))
    seen.write("\\n")

run_env()
"""


def last_seen(project: Project) -> dict[str, object]:
    lines = (project.path / "seen.jsonl").read_text().splitlines()
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def test_cli_steps_stamps_and_options(project: Project) -> None:
    migrations = project.path / "migrations"
    project.write_app()
    with quiet_loggers():
        app, db, _ = make_app(project.url, migrations)
        with app.app_context():
            flask_schema.init()
            for rev_id, parent in (("a1", "base"), ("a2", "a1"), ("a3", "a2")):
                flask_schema.revision(message=rev_id, rev_id=rev_id, head=parent)
    (migrations / "env.py").write_text(RECORDING_ENV)

    project.db("ensure-version")
    assert "alembic_version" in project.tables() and project.version() == set()

    project.db("-x", "from-group", "upgrade", "-x", "from-command", "--tag", "t1", "+1")
    assert project.version() == {"a1"}
    assert last_seen(project) == {"x": ["from-group", "from-command"], "tag": "t1"}

    behind = project.db("current", "--check-heads", check=False)
    assert behind.returncode == 1
    (error,) = [line for line in behind.stderr.splitlines() if not line.startswith("INFO ")]
    assert error.startswith("Error: ") and "flask db upgrade" in error

    project.db("upgrade")
    assert project.version() == {"a3"}
    project.db("downgrade", "-2")
    assert project.version() == {"a1"}

    with quiet_loggers(), app.app_context():
        flask_schema.revision(message="b1", rev_id="b1", head="a1", splice=True)
        db.engine.dispose()
    project.db("stamp", "a3", "b1")
    assert project.version() == {"a3", "b1"}
    project.db("stamp", "--purge", "a1")
    assert project.version() == {"a1"}

    history = project.db("history", "-i").stdout.splitlines()
    assert [line for line in history if "(current)" in line] == [
        "<base> -> a1 (current) (branchpoint), a1"
    ]
    # The command's own -d wins over the group's.
    moved = project.path / "elsewhere"
    migrations.rename(moved)
    current = project.db("-d", "nowhere", "current", "-d", "elsewhere").stdout
    assert current.strip() == "a1 (branchpoint)"
