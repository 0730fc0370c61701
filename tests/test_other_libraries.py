"""Flask-SQLAlchemy-Lite and plain SQLAlchemy apps through every ``flask db`` command.

Each test writes an app (tests/other_apps.py), runs real ``flask db``
processes in its folder and looks at the databases, on SQLite, PostgreSQL
and MariaDB. ``--database NAME`` runs a command on some databases only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from databases import fresh_database
from other_apps import write_other_app
from project import Project
from race import run_race, write_race_revisions

pytest_plugins = ["pytester"]


@pytest.fixture(params=["lite", "plain"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return line


def test_two_databases_full_cycle_and_per_database_control(bound_project: Project, kind: str) -> None:
    project = bound_project
    write_other_app(project, kind)
    project.db("init", "--multidb")
    project.db("migrate", "-m", "tables")
    (first,) = project.revision_files()
    source = first.read_text()
    assert "def upgrade_():" in source and "def upgrade_audit():" in source
    project.db("upgrade")
    write_other_app(project, kind, nickname=True)
    project.db("migrate", "-m", "nickname")
    project.db("downgrade", "base")
    (second,) = set(project.revision_files()) - {first}
    r1, r2 = first.name.split("_")[0], second.name.split("_")[0]

    # Only the audit database moves.
    project.db("upgrade", "--database", "audit")
    assert project.version("audit") == {r2} and project.version() == set()
    assert "person" not in project.tables()
    status = project.db("status", "--check", check=False)
    assert status.returncode == 1 and "Not up to date: default." in status.stderr
    assert project.db("status", "--check", "--database", "audit").stdout.startswith("Database audit: at ")
    lines = project.db("status").stdout.splitlines()
    assert lines[0] == "Database default: at base"
    assert f"Database audit: at {r2}" in lines

    # The rest, with a backup of what has revisions to apply.
    upgrade = project.db("upgrade", "--backup")
    assert "default" in upgrade.stderr + upgrade.stdout
    assert project.version() == {r2}
    assert project.tables() == {"alembic_version", "person"}
    assert project.tables("audit") == {"alembic_version", "audit_log"}
    assert "nickname" in project.columns("person")
    backups = project.db("backups").stdout
    assert "default" in backups and "audit" not in backups  # audit had nothing to apply
    current = project.db("current").stdout.splitlines()
    assert current == [f"default: {r2} (head)", f"audit: {r2} (head)"]
    assert project.db("check").stdout.strip() == "No new upgrade operations detected."
    assert "2 revision(s) checked: 0 error(s)" in project.db("lint", "--all", "--database", "audit").stderr

    sql = project.db("upgrade", "--sql", "--database", "audit", f"{r1}:{r2}").stdout
    assert "-- Database: audit" in sql and "-- Database: default" not in sql

    project.db("downgrade", "--database", "default", r1)
    assert project.version() == {r1}
    assert "nickname" not in project.columns("person")
    assert project.version("audit") == {r2}

    assert error_line(project.db("upgrade", "--database", "nope", check=False)) == (
        "Error: No database named 'nope': the app's databases are default, audit."
    )
    project.db("downgrade", "base")
    assert project.tables() == {"alembic_version"} and project.tables("audit") == {"alembic_version"}


def test_one_database_full_cycle(project: Project, kind: str) -> None:
    write_other_app(project, kind)
    project.db("init")
    project.db("migrate", "-m", "person")
    (revision_file,) = project.revision_files()
    head = revision_file.name.split("_")[0]
    sql = project.db("upgrade", "--sql").stdout
    assert "CREATE TABLE person" in sql and "person" not in project.tables()
    project.db("upgrade")
    assert project.tables() == {"alembic_version", "person"}
    assert project.db("current").stdout.strip() == f"{head} (head)"
    assert project.db("check").returncode == 0
    write_other_app(project, kind, nickname=True)
    drift = project.db("check", check=False)
    assert drift.returncode != 0 and "nickname" in drift.stderr
    project.db("stamp", "base")
    assert project.version() == set()
    project.db("stamp", "head")
    project.db("downgrade", "base")
    assert project.tables() == {"alembic_version"}
    line = error_line(project.db("upgrade", "--database", "audit", check=False))
    assert line.startswith("Error: No database named 'audit' in this migrations folder: it migrates only")


def test_eight_concurrent_upgrades_each_revision_once(project: Project, kind: str) -> None:
    write_other_app(project, kind)
    project.db("init")
    write_race_revisions(project)

    result = run_race(project, processes=8)

    assert result.errors == [], result.line()
    assert result.applied == {"r1": 1, "r2": 1, "r3": 1}
    assert project.version() == {"r3"}


def test_database_option_refused_by_an_env_py_that_is_not_ours(
    tmp_path: Path, flask_migrate_folders: dict[str, Path]
) -> None:
    import shutil

    with fresh_database("sqlite", str(tmp_path)) as url:
        project = Project(tmp_path, url, "sqlite")
        project.write_app()
        shutil.copytree(flask_migrate_folders["single"], project.path / "migrations")
        result = project.db("upgrade", "--database", "default", check=False)
        assert error_line(result).startswith(
            "Error: --database default cannot be honoured: this env.py chooses its databases itself"
        )
        assert project.tables() == set(), "nothing ran"
        result = project.db("check", "--database", "default", check=False)
        assert "cannot be honoured" in error_line(result)


def test_pytest_plugin_runs_on_throwaway_databases(
    project: Project,
    kind: str,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from test_testing_plugin import CONFTEST, add_keepsake, throwaway_databases_left, use_project_env

    def untouched() -> None:
        # 'flask db migrate' made the version tables; the plugin must add nothing.
        for bind in (None, "audit"):
            assert project.tables(bind) == {"alembic_version", "keepsake"}
            assert project.version(bind) == set()
            if project.backend != "sqlite":
                assert throwaway_databases_left(project.binds[bind] if bind else project.url) == []

    project.path = pytester.path
    with fresh_database(project.backend, str(tmp_path_factory.mktemp("audit"))) as audit_url:
        project.binds["audit"] = audit_url
        write_other_app(project, kind)
        (project.path / "conftest.py").write_text(CONFTEST)
        use_project_env(project, monkeypatch)
        project.db("init", "--multidb")
        project.db("migrate", "-m", "tables")
        add_keepsake(project.url)
        add_keepsake(audit_url)

        result = pytester.runpytest_subprocess("--flask-schema", "-v")
        result.assert_outcomes(passed=5)
        untouched()

        # A model change no migration makes is found in the throw-away databases.
        write_other_app(project, kind, nickname=True)
        result = pytester.runpytest_subprocess("--flask-schema-checks=models_match")
        result.assert_outcomes(failed=1)
        assert "column person.nickname (VARCHAR(40)) is in the models but no migration" in result.stdout.str()
        untouched()


def test_databases_not_named_are_not_connected_to(tmp_path: Path, kind: str) -> None:
    with fresh_database("sqlite", str(tmp_path)) as url:
        project = Project(tmp_path, url, "sqlite")
        project.binds["audit"] = url.set(database=str(tmp_path / "audit.db"))
        write_other_app(project, kind)
        project.db("init", "--multidb")
        project.db("migrate", "-m", "tables")
        # The default database now names a server that refuses every connection.
        unreachable = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
        project.db("upgrade", "--database", "audit", env=unreachable)
        assert project.tables("audit") == {"alembic_version", "audit_log"}
        status = project.db("status", "--database", "audit", env=unreachable).stdout
        assert status.startswith("Database audit: at ") and "default" not in status
        failed = project.db("current", env=unreachable, check=False)
        assert error_line(failed).startswith("Error: Could not connect to the database")
