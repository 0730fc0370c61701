"""The safety of the run does not depend on which env.py a project has.

Each test runs against projects whose ``env.py`` is the thin one ``flask db
init`` writes, the one the real Flask-Migrate 4.1 wrote (single and
multi-database), and one in the shape Flask-Migrate 2.x wrote (an engine of
its own from ``SQLALCHEMY_DATABASE_URI``), after only the import line
changed, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate_projects import FLASK_MIGRATE_2_ENV, use_flask_migrate_folder
from project import Project
from race import applied_counts, mark, run_race, write_race_revisions, write_revision

KINDS = ["thin", "flask-migrate-4", "flask-migrate-2"]

FAILING_R2 = """
    op.create_table("b", sa.Column("id", sa.Integer))
    op.execute("SELECT * FROM no_such_table")
"""


def set_up(project: Project, kind: str, folders: dict[str, Path]) -> Path:
    """Give ``project`` an app file (flask_schema imported) and the migrations folder of ``kind``."""
    project.write_app()
    if kind == "thin":
        project.db("init")
        return project.path / "migrations"
    if kind == "flask-migrate-4-multidb":
        return use_flask_migrate_folder(project, folders["multidb"])
    env_py = FLASK_MIGRATE_2_ENV if kind == "flask-migrate-2" else None
    return use_flask_migrate_folder(project, folders["single"], env_py)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_eight_concurrent_upgrades_each_revision_once(
    project: Project, kind: str, flask_migrate_folders: dict[str, Path]
) -> None:
    set_up(project, kind, flask_migrate_folders)
    write_race_revisions(project)

    result = run_race(project, processes=8)

    assert result.errors == [], result.line()
    assert result.applied == {"r1": 1, "r2": 1, "r3": 1}
    assert project.version() == {"r3"}


MULTIDB_REVISION = '''\
"""{rev}"""
import time

from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    op.execute("INSERT INTO applied_once (rev) VALUES ('{rev}')")
    time.sleep(0.3)


def downgrade_():
    pass


def upgrade_audit():
    op.add_column("audit_log", sa.Column("c_{rev}", sa.Integer))


def downgrade_audit():
    op.drop_column("audit_log", "c_{rev}")
'''


def write_multidb_revisions(project: Project) -> None:
    """r0 makes the tables; r1..r3 each touch both databases in the multidb shape."""
    (project.path / "migrations" / "versions" / "r0_x.py").write_text(
        MULTIDB_REVISION.format(rev="r0", down=None)
        .replace(
            "    op.execute(\"INSERT INTO applied_once (rev) VALUES ('r0')\")",
            "    op.create_table('applied_once', sa.Column('rev', sa.String(10)))",
        )
        .replace(
            '    op.add_column("audit_log", sa.Column("c_r0", sa.Integer))',
            "    op.create_table('audit_log', sa.Column('id', sa.Integer))",
        )
    )
    for rev, down in (("r1", "r0"), ("r2", "r1"), ("r3", "r2")):
        path = project.path / "migrations" / "versions" / f"{rev}_x.py"
        path.write_text(MULTIDB_REVISION.format(rev=rev, down=down))


def test_eight_concurrent_upgrades_of_a_flask_migrate_multidb_project(
    bound_project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    project = bound_project
    set_up(project, "flask-migrate-4-multidb", flask_migrate_folders)
    write_multidb_revisions(project)

    result = run_race(project, processes=8)

    assert result.errors == [], result.line()
    assert result.applied == {"r1": 1, "r2": 1, "r3": 1}
    assert project.version() == {"r3"} == project.version("audit")
    assert project.columns("audit_log", "audit") == ["id", "c_r1", "c_r2", "c_r3"]
    # That env.py begins one transaction around the run: the command says what it costs.
    again = project.db("downgrade", "r2")
    assert "each revision is not committed by itself, because env.py begins a transaction" in (
        again.stderr
    )
    assert "flask db upgrade-env" in again.stderr


def test_failing_revision_is_reported_and_the_record_is_true(
    project: Project, kind: str, flask_migrate_folders: dict[str, Path]
) -> None:
    set_up(project, kind, flask_migrate_folders)
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))')
    write_revision(project, "r2", "r1", FAILING_R2, 'op.drop_table("b")')

    failed = project.db("upgrade", check=False)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    error = failed.stderr.split("Error: ", 1)[1]
    assert error.startswith("default: upgrade r1 -> r2, r2 failed:"), error
    assert "no_such_table" in error
    assert 'r2_x.py, line 16: op.execute("SELECT * FROM no_such_table")' in error
    assert "The database is at r1" in error
    assert project.version() == {"r1"}  # r1 committed by itself

    if project.backend == "mariadb":
        assert "holds part of r2" in error and "b" in project.tables()
        refused = project.db("upgrade", check=False)
        assert refused.returncode == 1 and "flask db resolve r2" in refused.stderr
        engine = project.engine()
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE b"))
        engine.dispose()
        project.db("resolve", "r2", "--rolled-back")
    else:
        assert "That revision was rolled back" in error and "b" not in project.tables()
        assert "alembic_version_runlog" not in project.tables()

    write_revision(project, "r2", "r1", 'op.create_table("b", sa.Column("id", sa.Integer))')
    project.db("upgrade")
    assert project.version() == {"r2"} and "b" in project.tables()
    assert "alembic_version_runlog" not in project.tables()


@pytest.mark.parametrize("kind", ["thin", "flask-migrate-4", "flask-migrate-2"], indirect=True)
def test_env_py_runs_once_per_command(
    project: Project, kind: str, flask_migrate_folders: dict[str, Path]
) -> None:
    folder = set_up(project, kind, flask_migrate_folders)
    env_py = folder / "env.py"
    runs = project.path / "env-runs.txt"
    source = env_py.read_text()
    future = "from __future__ import with_statement\n"
    side_effect = f"with open({str(runs)!r}, 'a') as _runs:\n    _runs.write('run\\n')\n"
    if source.startswith(future):
        env_py.write_text(future + side_effect + source[len(future):])
    else:
        env_py.write_text(side_effect + source)
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))')
    write_revision(project, "r2", "r1", 'op.create_table("b", sa.Column("id", sa.Integer))')

    for command in (["upgrade"], ["downgrade"], ["current"], ["status"], ["stamp", "r2"],
                    ["history", "-i"], ["upgrade", "--plan"], ["resolve", "r2", "--applied"]):
        runs.write_text("")
        project.db(*command, check=command[0] != "resolve")
        assert runs.read_text().count("run") == 1, command


def test_flask_migrate_env_py_gets_per_revision_commits(
    project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    set_up(project, "flask-migrate-4", flask_migrate_folders)
    write_revision(project, "r1", None, f"""
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        {mark("r1")}
    """)
    write_revision(project, "r2", "r1", 'op.execute("SELECT * FROM no_such_table")')

    failed = project.db("upgrade", check=False)

    # Flask-Migrate ran both in one transaction on PostgreSQL; here r1 stays.
    assert failed.returncode == 1
    assert project.version() == {"r1"}
    assert applied_counts(project) == {"r1": 1}
