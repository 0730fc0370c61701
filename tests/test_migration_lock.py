"""The migration lock, exercised by real parallel ``flask db`` processes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from project import REPO_ROOT, Project
from race import mark, run_race, start_upgrade, wait_for, write_race_revisions, write_revision

TROUBLESHOOTING = REPO_ROOT / "docs" / "troubleshooting.rst"


def _init(project: Project) -> None:
    project.write_app()
    project.db("init")


def test_eight_concurrent_upgrades_apply_each_revision_once(project: Project) -> None:
    _init(project)
    write_race_revisions(project)
    result = run_race(project, processes=8)
    print(result.line())
    assert result.errors == []
    assert result.applied == {"r1": 1, "r2": 1, "r3": 1}
    assert project.version() == {"r3"}


def test_held_lock_times_out_clearly_and_no_lock_skips_it(project: Project) -> None:
    from flask_schema.backends import backend_for

    _init(project)
    write_revision(project, "r1", None, 'op.create_table("t", sa.Column("id", sa.Integer))')
    engine = project.engine()
    lock = backend_for(engine.dialect.name).lock(engine, "alembic_version", None, 5, print)
    assert lock is not None
    try:
        lock.acquire()
        started = time.monotonic()
        waiter = project.db("upgrade", "--lock-timeout", "1", check=False)
        assert time.monotonic() - started < 30
        assert waiter.returncode == 1
        assert "Traceback" not in waiter.stderr
        assert "Gave up waiting for the migration lock" in waiter.stderr
        assert '"Gave up waiting for the migration lock"' in TROUBLESHOOTING.read_text()
        assert "Waiting for the migration lock" in waiter.stderr
        holder = "connection" if project.backend == "mariadb" else f"pid {os.getpid()}"
        assert holder in waiter.stderr.split("Gave up")[1]
        assert project.version() == set()

        # Another version table in the same database has a lock of its own.
        project.write_app(migrate_args="version_table='other_version'")
        project.db("upgrade", "--lock-timeout", "1")
        assert project.version(table="other_version") == {"r1"}
        project.write_app()

        skipped = project.db("stamp", "--no-lock", "r1")
        assert "Waiting" not in skipped.stderr
        assert project.version() == {"r1"}
    finally:
        lock.close()
        engine.dispose()


def test_kill_9_of_the_holder_frees_the_lock(project: Project, tmp_path: Path) -> None:
    _init(project)
    write_revision(project, "r1", None, f"""
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
        if os.environ.get("SLOW_REVISION"):
            time.sleep(120)
    """)
    log = tmp_path / "holder.log"
    holder = start_upgrade(project, log, {"SLOW_REVISION": "1"})
    try:
        wait_for(log, "Running upgrade", holder)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()

    after = project.db("upgrade", "--lock-timeout", "60", check=False)
    assert "Traceback" not in after.stderr
    if project.backend in {"postgresql", "sqlite"}:
        # Transactional DDL (SQLite's too, as the run drives it): the killed
        # run left nothing behind, and nothing claims it did.
        assert after.returncode == 0, after.stderr
        assert "applied_once" in project.tables()
        assert "alembic_version_runlog" not in project.tables()
    else:
        # DDL committed as it went: the next run refuses to guess.
        assert after.returncode == 1
        assert "did not finish (its process died" in after.stderr
        assert "flask db resolve r1 --applied" in after.stderr
        assert project.version() == set()
        assert project.db("status", "--check", check=False).returncode == 1
        resolved = project.db("resolve", "r1", "--applied")
        assert resolved.stdout.startswith("default: recorded r1 as applied (the upgrade to r1")
        assert project.db("upgrade").returncode == 0
    assert project.version() == {"r1"}
    assert project.db("status", "--check").returncode == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_waiter_does_not_block_create_index_concurrently(project: Project, tmp_path: Path) -> None:
    _init(project)
    write_revision(project, "r1", None, """
        op.create_table("item", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(20)))
        op.execute("INSERT INTO item (name) SELECT 'n' || g FROM generate_series(1, 1000) g")
    """)
    write_revision(project, "r2", "r1", """
        with op.get_context().autocommit_block():
            go = os.environ.get("GO_FILE")
            while go and not os.path.exists(go):  # the test says when a waiter is polling
                time.sleep(0.05)
            op.create_index("ix_item_name", "item", ["name"], postgresql_concurrently=True)
    """)
    holder_log, waiter_log = tmp_path / "holder.log", tmp_path / "waiter.log"
    go = tmp_path / "go"
    holder = start_upgrade(project, holder_log, {"GO_FILE": str(go)})
    wait_for(holder_log, "r1 -> r2", holder)
    waiter = start_upgrade(project, waiter_log)
    try:
        # A waiter blocked inside pg_advisory_lock would hold a snapshot that
        # CREATE INDEX CONCURRENTLY waits for, while it waits for the holder.
        wait_for(waiter_log, "Waiting for the migration lock", waiter)
        assert "held by host" in waiter_log.read_text()
        go.touch()
        assert holder.wait(timeout=90) == 0, holder_log.read_text()
        assert waiter.wait(timeout=90) == 0, waiter_log.read_text()
    finally:
        for process in (holder, waiter):
            if process.poll() is None:
                process.kill()
    assert "Nothing to do for default" in waiter_log.read_text()
    engine = project.engine()
    try:
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("item")}
    finally:
        engine.dispose()
    assert "ix_item_name" in indexes
    assert project.version() == {"r2"}
