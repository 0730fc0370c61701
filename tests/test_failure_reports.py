"""A revision that fails halfway: the report, the state left behind, the way back."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from project import REPO_ROOT, Project
from race import write_revision

FAILING_R2 = """
    op.create_table("b", sa.Column("id", sa.Integer))
    op.execute("SELECT * FROM no_such_table")
"""

FIXED_R2 = """
    op.create_table("b", sa.Column("id", sa.Integer))
"""


def _three_revisions(project: Project, r2_body: str) -> str:
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))',
                   'op.drop_table("a")')
    path = write_revision(project, "r2", "r1", r2_body, 'op.drop_table("b")')
    write_revision(project, "r3", "r2", 'op.create_table("c", sa.Column("id", sa.Integer))',
                   'op.drop_table("c")')
    return path


def test_failure_halfway_is_reported_and_recovered(project: Project) -> None:
    project.write_app()
    project.db("init")
    _three_revisions(project, FAILING_R2)

    failed = project.db("upgrade", check=False)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    error = failed.stderr.split("Error: ", 1)[1]
    assert error.startswith("default: upgrade r1 -> r2, r2 failed:")
    assert "no_such_table" in error
    assert "r2_x.py, line 16: op.execute(\"SELECT * FROM no_such_table\")" in error
    assert "The database is at r1" in error
    assert project.version() == {"r1"}
    assert "Applying 3 steps to default (now at base)." in failed.stderr
    assert "upgrade  -> r1, r1 (" in failed.stderr  # r1 committed on its own, with its time

    if project.backend in {"postgresql", "sqlite"}:
        # Transactional DDL (on SQLite too: the run emits BEGIN itself).
        assert "That revision was rolled back" in error
        assert "b" not in project.tables()
        # All-or-nothing: the whole run rolls back, r1 included.
        project.db("downgrade", "base")
        whole = project.db("upgrade", check=False,
                           env={"FLASK_DB_TRANSACTION_PER_REVISION": "false"})
        assert whole.returncode == 1
        assert "The database is at base (no revision). This run's revisions were rolled back" \
            in whole.stderr
        assert "a" not in project.tables()
    else:
        # DDL committed as it went: b exists although r2 is not recorded.
        assert "b" in project.tables()
        assert "holds part of r2" in error
        again = project.db("upgrade", check=False)
        assert again.returncode == 1
        assert "failed" in again.stderr and "no_such_table" in again.stderr
        assert "'flask db resolve r2 --rolled-back'" in again.stderr
        assert "so the database may hold part of it" in again.stderr
        troubleshooting = (REPO_ROOT / "docs" / "troubleshooting.rst").read_text()
        assert '"so the database may hold part of it"' in troubleshooting
        assert project.tables() >= {"a", "b"} and "c" not in project.tables()
        status = project.db("status", "--check", check=False)
        assert status.returncode == 1
        assert "[unfinished]" in status.stdout
        engine = project.engine()
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE b"))
        finally:
            engine.dispose()
        project.db("resolve", "r2", "--rolled-back")
        assert project.version() == {"r1"}
        nothing = project.db("resolve", "r2", "--applied", check=False)
        assert nothing.returncode == 1
        assert "No database records a half-applied revision r2" in nothing.stderr

    _three_revisions(project, FIXED_R2)
    fixed = project.db("upgrade")
    for step in ("r1 -> r2, r2 (", "r2 -> r3, r3 ("):
        assert step in fixed.stderr
    assert project.version() == {"r3"}
    assert project.tables() >= {"a", "b", "c"}
    assert "alembic_version_runlog" not in project.tables()  # dropped once nothing is unfinished
    # Autogenerate leaves the run log table alone (it proposes dropping a, b, c).
    project.db("migrate", "-m", "drop all")
    generated = [path for path in project.revision_files() if not path.name.startswith("r")]
    assert len(generated) == 1
    source = generated[0].read_text().replace('"', "'")  # ruff may have formatted it
    assert "drop_table('c')" in source and "runlog" not in source


def test_status_plan_and_sql_change_nothing(project: Project) -> None:
    project.write_app()
    project.db("init")
    _three_revisions(project, FIXED_R2)
    project.db("upgrade", "r1")

    status = project.db("status", "--check", check=False)
    assert status.returncode == 1
    lines = status.stdout.splitlines()
    assert lines[0] == "Database default: at r1"
    assert [line.split()[0] for line in lines[1:]] == ["[applied]", "[pending]", "[pending]"]
    assert "Not up to date: default." in status.stderr

    plan = project.db("upgrade", "--plan")
    assert plan.stdout.splitlines() == [
        "default: upgrade r1 -> r2, r2", "default: upgrade r2 -> r3, r3"
    ]
    back = project.db("downgrade", "--plan", "base")
    assert back.stdout.splitlines() == ["default: downgrade r1 -> , r1"]
    assert project.version() == {"r1"}
    sql = project.db("sql", "r2").stdout
    assert "CREATE TABLE b" in sql and "CREATE TABLE c" not in sql
    assert project.version() == {"r1"} and "b" not in project.tables()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_statement_lock_timeout_fails_fast_behind_a_long_transaction(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))')
    write_revision(project, "r2", "r1", 'op.add_column("a", sa.Column("b", sa.Integer))')
    project.db("upgrade", "r1")

    engine = project.engine()
    try:
        with engine.connect() as reader:
            reader.execute(sa.text("SELECT * FROM a"))  # an open transaction holds a on read
            started = time.monotonic()
            blocked = project.db("upgrade", check=False,
                                 env={"FLASK_DB_STATEMENT_LOCK_TIMEOUT": "1"})
            assert time.monotonic() - started < 60
            reader.rollback()
    finally:
        engine.dispose()
    assert blocked.returncode == 1
    error = blocked.stderr.split("Error: ", 1)[1]
    assert error.startswith("default: upgrade r1 -> r2, r2 failed:")
    assert "lock" in error.lower() and "The database is at r1" in error
    # The ALTER never ran, so nothing is recorded as half-applied, on any backend.
    if project.backend == "mariadb":
        assert "None of that revision's statements took effect" in error
    else:
        assert "That revision was rolled back" in error
    project.db("upgrade")
    assert project.columns("a") == ["id", "b"]
