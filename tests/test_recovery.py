"""After a failure the recorded state is the truth, and there is always a way out.

A revision that made part of its work permanent (``autocommit_block`` on
PostgreSQL, DDL on MariaDB, an ``env.py`` in autocommit mode) is recorded as
partly applied; one that changed nothing is not. A half-applied revision
whose file was deleted or written anew can still be settled. SQLite runs each
revision in a real transaction, also for apps that set that up themselves.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate_projects import use_flask_migrate_folder
from project import Project
from race import write_revision

PARTLY_COMMITTED = """
    with op.get_context().autocommit_block():
        op.execute("CREATE TABLE part_one (id INTEGER)")
    op.create_table("part_two", sa.Column("id", sa.Integer))
    op.execute("SELECT * FROM no_such_table")
"""


def error_of(result: object) -> str:
    stderr = getattr(result, "stderr")  # noqa: B009 - CompletedProcess
    assert getattr(result, "returncode") == 1, stderr  # noqa: B009
    assert "Traceback" not in stderr
    return str(stderr.split("Error: ", 1)[1])


def drop(project: Project, *tables: str) -> None:
    engine = project.engine()
    with engine.begin() as connection:
        for table in tables:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_autocommit_block_failure_is_recorded_as_partly_applied(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, PARTLY_COMMITTED)

    error = error_of(project.db("upgrade", check=False))

    assert error.startswith("default: upgrade  -> r1, r1 failed:")
    assert "holds part of r1, because a commit inside it (autocommit_block)" in error
    assert "part_one" in project.tables() and "part_two" not in project.tables()
    refused = error_of(project.db("upgrade", check=False))
    assert "so the database may hold part of it" in refused
    assert "'flask db resolve r1 --rolled-back'" in refused
    status = project.db("status", "--check", check=False)
    assert status.returncode == 1 and "[unfinished]" in status.stdout

    drop(project, "part_one")
    project.db("resolve", "r1", "--rolled-back")
    write_revision(project, "r1", None, 'op.create_table("part_one", sa.Column("id", sa.Integer))')
    project.db("upgrade")
    assert project.version() == {"r1"}
    assert "alembic_version_runlog" not in project.tables()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_half_applied_revision_whose_file_is_gone(project: Project) -> None:
    project.write_app()
    project.db("init")
    body = PARTLY_COMMITTED if project.backend == "postgresql" else """
        op.execute("CREATE TABLE part_one (id INTEGER)")
        op.execute("SELECT * FROM no_such_table")
    """
    path = write_revision(project, "aaa111", None, body)
    error_of(project.db("upgrade", check=False))
    assert "part_one" in project.tables()

    # The everyday habit: delete the revision and write it anew with another id.
    import os

    os.remove(path)
    write_revision(project, "bbb222", None, 'op.create_table("part_one", sa.Column("id", sa.Integer))')
    refused = error_of(project.db("upgrade", check=False))
    assert "aaa111 is no longer in the migrations folder" in refused
    assert "'flask db resolve aaa111 --rolled-back'" in refused
    assert "stamp" not in refused

    cannot = error_of(project.db("resolve", "aaa111", "--applied", check=False))
    assert "aaa111 is not in the migrations folder, so it cannot be recorded as applied" in cannot
    drop(project, "part_one")
    settled = project.db("resolve", "aaa111", "--rolled-back")
    assert "aaa111" in settled.stdout
    project.db("upgrade")
    assert project.version() == {"bbb222"} and "part_one" in project.tables()
    assert "alembic_version_runlog" not in project.tables()


@pytest.mark.parametrize("backend", ["mariadb", "postgresql"], indirect=True)
def test_failure_on_the_first_statement_claims_nothing(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, 'op.drop_table("no_such_table")')

    error = error_of(project.db("upgrade", check=False))

    expected = (
        "None of that revision's statements took effect"
        if project.backend == "mariadb" else "That revision was rolled back"
    )
    assert expected in error and "part" not in error
    assert "alembic_version_runlog" not in project.tables()
    again = error_of(project.db("upgrade", check=False))
    assert "half" not in again and "resolve" not in again  # the same error, no refusal


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_env_py_in_autocommit_mode_records_partial_work(
    project: Project, flask_migrate_folders: dict[str, object]
) -> None:
    project.write_app()
    folder = use_flask_migrate_folder(project, flask_migrate_folders["single"])  # type: ignore[arg-type]
    env_py = folder / "env.py"
    env_py.write_text(env_py.read_text().replace(
        "with connectable.connect() as connection:",
        'with connectable.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:',
    ))
    write_revision(project, "r1", None, """
        op.create_table("made", sa.Column("id", sa.Integer))
        op.execute("SELECT * FROM no_such_table")
    """)

    error = error_of(project.db("upgrade", check=False))

    assert "holds part of r1" in error and "made" in project.tables()
    assert "so the database may hold part of it" in error_of(project.db("upgrade", check=False))


SQLITE_RECIPE = """
from sqlalchemy import event
from sqlalchemy.engine import Engine

# SQLAlchemy's documented recipe for transactional DDL with pysqlite.
@event.listens_for(Engine, "connect")
def _no_driver_transactions(dbapi_connection, record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None

@event.listens_for(Engine, "begin")
def _begin_for_real(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("recipe", [False, True], ids=["plain", "app-uses-the-recipe"])
def test_sqlite_revisions_roll_back_whole(project: Project, recipe: bool) -> None:
    project.write_app(SQLITE_RECIPE if recipe else "")
    project.db("init")
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))',
                   'op.drop_table("a")')
    write_revision(project, "r2", "r1", """
        op.create_table("b", sa.Column("id", sa.Integer))
        op.add_column("a", sa.Column("note", sa.String(20)))
        op.execute("SELECT * FROM no_such_table")
    """)

    error = error_of(project.db("upgrade", check=False))

    assert "That revision was rolled back" in error and "The database is at r1" in error
    assert project.tables() == {"alembic_version", "a"}
    assert project.columns("a") == ["id"]
    write_revision(project, "r2", "r1", 'op.create_table("b", sa.Column("id", sa.Integer))',
                   'op.drop_table("b")')
    project.db("upgrade")
    assert project.version() == {"r2"}
    project.db("downgrade", "base")
    assert project.tables() == {"alembic_version"}
