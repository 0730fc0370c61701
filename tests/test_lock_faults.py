"""The migration lock under the faults servers really produce.

Idle timeouts shorter than a revision, connections terminated from outside,
a holder killed with ``kill -9``, and the generic lock-table lock forced on
every backend. In each case no revision runs twice, no process reports a
completed revision as failed, and what the database records is the truth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate_projects import use_flask_migrate_folder
from project import Project
from race import (
    applied_counts,
    mark,
    run_race,
    start_upgrade,
    wait_for,
    write_race_revisions,
    write_revision,
)

# Sleeps in the server, so the lock's connection sits idle meanwhile.
SERVER_SLEEP = (
    'op.execute("SELECT pg_sleep({0})" if op.get_bind().dialect.name == "postgresql"'
    ' else "SELECT SLEEP({0})")'
)

# MariaDB has no per-database idle timeout; the app sets the session's on
# every connection it opens, as a server-wide wait_timeout would.
MARIADB_SHORT_WAIT = """
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "connect")
def _short_wait_timeout(dbapi_connection, record):
    if type(dbapi_connection).__module__.startswith("pymysql"):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION wait_timeout = 2")
        cursor.close()
"""


def set_up(project: Project, kind: str, folders: dict[str, Path], models: str = "") -> None:
    project.write_app(models)
    if kind == "thin":
        project.db("init")
    else:
        use_flask_migrate_folder(project, folders["single"])


def short_idle_timeout(project: Project) -> str:
    """Make the server close connections idle for about two seconds; return the app's models."""
    if project.backend == "postgresql":
        engine = project.engine()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                f"ALTER DATABASE {project.url.database} SET idle_session_timeout = '1500ms'"
            )
        engine.dispose()
        return ""
    return MARIADB_SHORT_WAIT


def start(project: Project, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return start_upgrade(project, log, env)


def finish(process: subprocess.Popen[str], log: Path) -> str:
    process.wait(timeout=120)
    return log.read_text()


def wait_for_table(project: Project, table: str, seconds: float = 60) -> None:
    """Wait until another process's revision has created ``table``."""
    deadline = time.monotonic() + seconds
    while table not in project.tables():
        assert time.monotonic() < deadline, f"{table} never appeared"
        time.sleep(0.1)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
@pytest.mark.parametrize("kind", ["thin", "flask-migrate-4"])
def test_idle_timeout_shorter_than_a_revision(
    project: Project, kind: str, flask_migrate_folders: dict[str, Path]
) -> None:
    set_up(project, kind, flask_migrate_folders, short_idle_timeout(project))
    write_revision(project, "r1", None, f"""
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
        {SERVER_SLEEP.format(5)}
    """)
    env = {"FLASK_DB_KEEPALIVE_INTERVAL": "0.5"}
    logs = [project.path / "holder.log", project.path / "waiter.log"]

    holder = start(project, logs[0], env)
    wait_for(logs[0], "Running upgrade", holder)
    waiter = start(project, logs[1], env)
    outputs = [finish(process, log) for process, log in zip((holder, waiter), logs)]

    for process, stderr in zip((holder, waiter), outputs):
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert applied_counts(project) == {"r1": 1}
    assert project.version() == {"r1"}
    assert "alembic_version_runlog" not in project.tables()
    assert "Nothing to do for default" in outputs[1]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_without_keep_alive_a_lost_lock_stops_before_the_commit(project: Project) -> None:
    # The control for the test above: the idle timeout does end the lock's
    # session, and the holder then refuses to commit what it ran.
    set_up(project, "thin", {}, short_idle_timeout(project))
    write_revision(project, "r1", None, f"""
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
        {SERVER_SLEEP.format(5)}
    """)
    logs = [project.path / "holder.log", project.path / "waiter.log"]

    holder = start(project, logs[0], {"FLASK_DB_KEEPALIVE_INTERVAL": "0"})
    wait_for(logs[0], "Running upgrade", holder)
    waiter = start(project, logs[1], {"FLASK_DB_KEEPALIVE_INTERVAL": "0.5"})
    holder_err, waiter_err = (finish(process, log) for process, log in zip((holder, waiter), logs))

    assert holder.returncode == 1, holder_err
    assert "lost the migration lock before committing" in holder_err
    assert "That revision was rolled back" in holder_err
    assert waiter.returncode == 0, waiter_err
    assert applied_counts(project) == {"r1": 1}
    assert project.version() == {"r1"}


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_lock_connection_terminated_from_outside(project: Project) -> None:
    set_up(project, "thin", {})
    # The sleep comes first, so the loss is seen before the revision changes anything.
    write_revision(project, "r1", None, f"""
        {SERVER_SLEEP.format(3)}
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
    """)
    env = {"FLASK_DB_KEEPALIVE_INTERVAL": "0.5"}
    log = project.path / "holder.log"
    holder = start(project, log, env)
    wait_for(log, "Running upgrade", holder)
    engine = project.engine()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            deadline = time.monotonic() + 30
            killed = 0
            while not killed and time.monotonic() < deadline:
                time.sleep(0.2)
                if project.backend == "postgresql":
                    killed = admin.execute(sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND application_name LIKE 'flask_schema%'"
                    )).scalar() or 0
                else:
                    holder_id = admin.execute(sa.text(
                        "SELECT IS_USED_LOCK(:name)"),
                        {"name": f"flask_schema:.alembic_version@{project.url.database}"},
                    ).scalar()
                    if holder_id:
                        admin.exec_driver_sql(f"KILL {int(holder_id)}")
                        killed = 1
            assert killed, "the lock's connection was never found"
    finally:
        engine.dispose()
    stderr = finish(holder, log)

    assert holder.returncode == 1, stderr
    assert "Traceback" not in stderr
    error = stderr.split("Error: ", 1)[1]
    assert error.startswith("default: upgrade  -> r1, r1 was stopped: this run lost the migration lock")
    assert "The database is at base" in error
    if project.backend == "postgresql":  # seen at the commit: the revision rolled back
        assert "That revision was rolled back" in error
    else:  # seen before its first DDL statement
        assert "None of that revision's statements took effect" in error
    assert project.version() == set() and "applied_once" not in project.tables()
    # Nothing of r1 happened, so nothing is recorded as half-applied.
    assert "alembic_version_runlog" not in project.tables()
    project.db("upgrade")
    assert applied_counts(project) == {"r1": 1}


def test_generic_lock_table_serialises_eight_upgrades(project: Project) -> None:
    set_up(project, "thin", {})
    write_race_revisions(project)
    os.environ["FLASK_DB_LOCK_METHOD"] = "table"
    try:
        result = run_race(project, processes=8)
    finally:
        del os.environ["FLASK_DB_LOCK_METHOD"]

    assert result.errors == [], result.line()
    assert result.applied == {"r1": 1, "r2": 1, "r3": 1}
    assert project.version() == {"r3"}
    assert "alembic_version_lock" in project.tables()
    # The lock table is ours: autogenerate leaves it alone.
    project.write_app("""
class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), index=True)

class AppliedOnce(db.Model):
    __tablename__ = "applied_once"
    rev = db.Column(db.String(10), primary_key=True)
""")
    checked = project.db("check", check=False)
    assert "alembic_version_lock" not in checked.stdout + checked.stderr


def test_generic_lock_is_taken_over_after_its_holder_is_killed(project: Project) -> None:
    set_up(project, "thin", {})
    write_revision(project, "r1", None, f"""
        if os.environ.get("SLOW_REVISION"):
            time.sleep(120)
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
    """)
    env = {"FLASK_DB_LOCK_METHOD": "table", "FLASK_DB_LOCK_LEASE": "2",
           "FLASK_DB_KEEPALIVE_INTERVAL": "0.5"}
    log = project.path / "holder.log"
    holder = start(project, log, {**env, "SLOW_REVISION": "1"})
    wait_for(log, "Running upgrade", holder)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    started = time.monotonic()
    after = project.db("upgrade", env=env)
    assert time.monotonic() - started >= 2  # waited one lease for the dead holder
    assert "Taking over the migration lock" in after.stderr
    assert applied_counts(project) == {"r1": 1}
    assert project.version() == {"r1"}
