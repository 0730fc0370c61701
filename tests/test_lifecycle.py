"""The everyday loop, run as a user runs it: init, migrate, upgrade, downgrade."""

from __future__ import annotations

from project import Project

USER_MODEL = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100))
"""

USER_WITH_EMAIL = USER_MODEL + """
    email = db.Column(db.String(200))
"""


def test_init_migrate_upgrade_downgrade(project: Project) -> None:
    project.write_app(USER_MODEL)
    project.db("init")
    assert (project.path / "migrations" / "env.py").is_file()

    written = project.db("migrate", "-m", "create user")
    assert "Generating" in written.stdout
    assert len(project.revision_files()) == 1
    assert "user" not in project.tables()

    project.db("upgrade")
    assert "user" in project.tables()
    head = project.db("heads").stdout.split()[0]
    assert project.version() == {head}
    assert project.db("current").stdout.strip() == f"{head} (head)"

    project.write_app(USER_WITH_EMAIL)
    project.db("migrate", "-m", "add email")
    project.db("upgrade")
    assert "email" in project.columns("user")

    project.db("downgrade", "-1")
    assert "email" not in project.columns("user")
    assert project.version() == {head}

    project.db("downgrade", "base")
    assert "user" not in project.tables()
    assert project.version() == set()


def test_migrate_with_no_changes_writes_no_file(project: Project) -> None:
    project.write_app(USER_MODEL)
    project.db("init")
    project.db("migrate")
    project.db("upgrade")
    result = project.db("migrate", "-m", "nothing")
    assert "No changes in schema detected." in result.stderr
    assert len(project.revision_files()) == 1


def test_check_reports_drift_and_passes_when_clean(project: Project) -> None:
    project.write_app(USER_MODEL)
    project.db("init")
    project.db("migrate")
    project.db("upgrade")
    assert "No new upgrade operations detected." in project.db("check").stdout

    project.write_app(USER_WITH_EMAIL)
    result = project.db("check", check=False)
    assert result.returncode == 1
    assert "add column" in result.stderr and "email" in result.stderr
    assert "Traceback" not in result.stderr
