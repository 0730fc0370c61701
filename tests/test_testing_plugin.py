"""``pytest --flask-schema`` run on small example projects, as a user runs it.

Each test writes a project (app, conftest with an ``app`` fixture, a
migrations folder with hand-written revisions) and runs pytest on it in a
subprocess. The app points at a "developer" database with a table of its own
in it; the plugin must work on throw-away databases and leave that one as it
was.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from databases import BACKENDS, fresh_database, fresh_engine
from project import Project

from flask_schema.config import TEMPLATES_DIR

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest

from app import create_app


@pytest.fixture
def app():
    return create_app()
"""

HEALTHY_MODELS = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False, index=True)
    slug = db.Column(db.String(60))


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.Enum("red", "blue", name="tag_kind"))
    person_id = db.Column(db.Integer, db.ForeignKey("person.id"), index=True)
"""

CREATE_PERSON = """
def upgrade():
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )


def downgrade():
    op.drop_table("person")
"""

CREATE_TAG = """
def upgrade():
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Enum("red", "blue", name="tag_kind")),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id")),
    )
    op.create_index("ix_tag_person_id", "tag", ["person_id"])


def downgrade():
    op.drop_table("tag")
    sa.Enum(name="tag_kind").drop(op.get_bind(), checkfirst=True)
"""

# A data migration: the new column is filled from the existing rows.
ADD_SLUG = """
def upgrade():
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("slug", sa.String(60)))
    op.execute("UPDATE person SET slug = lower(name)")


def downgrade():
    with op.batch_alter_table("person") as batch:
        batch.drop_column("slug")
"""

DATA_TEST = """
def test_slug_is_filled_from_name(migrations):
    migrations.upgrade("r2tag")
    assert migrations.current() == "r2tag"
    migrations.insert("person", [{"id": 1, "name": "Ada"}])
    migrations.upgrade("r3slug")
    assert migrations.current() == "r3slug"
    assert migrations.rows("person") == [{"id": 1, "name": "Ada", "slug": "ada"}]
"""

# Forgets to drop what it created (the table and, on PostgreSQL, its enum type).
CREATE_TAG_NO_DOWNGRADE = CREATE_TAG.split("def downgrade")[0] + "def downgrade():\n    pass\n"

MERGE = """
def upgrade():
    pass


def downgrade():
    pass
"""

FAILS_TO_UPGRADE = """
def upgrade():
    op.execute("UPDATE no_such_table SET x = 1")


def downgrade():
    pass
"""

INDEX_ON_NAME = """
def upgrade():
    op.create_index("ix_person_name", "person", ["name"])


def downgrade():
    op.drop_index("ix_person_name", table_name="person")
"""


def write_revision(path: Path, rev: str, down: str | tuple[str, ...] | None, body: str) -> None:
    versions = path / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    header = (
        f'"""{rev}\n\n"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n"
    )
    (versions / f"{rev}_example.py").write_text(header + textwrap.dedent(body))


def write_project(project: Project, models: str, multidb: bool = False) -> None:
    """The app, its conftest and a migrations folder with the template's env.py."""
    project.write_app(models)
    (project.path / "conftest.py").write_text(CONFTEST)
    (project.path / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    template = "flask-multidb" if multidb else "flask"
    shutil.copy(os.path.join(TEMPLATES_DIR, template, "env.py"), project.path / "migrations")


def use_project_env(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in project.env().items():
        if name == "DATABASE_URL" or name.startswith("BIND_"):
            monkeypatch.setenv(name, value)


def add_keepsake(url: sa.URL) -> None:
    """A table with a row in the developer's database, which the plugin must not touch."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE keepsake (id INTEGER PRIMARY KEY)"))
        connection.execute(sa.text("INSERT INTO keepsake (id) VALUES (7)"))
    engine.dispose()


def assert_untouched(project: Project, bind: str | None = None) -> None:
    assert project.tables(bind) == {"keepsake"}
    engine = project.engine(bind)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM keepsake")).scalars().all() == [7]
    engine.dispose()
    if project.backend != "sqlite":
        assert throwaway_databases_left(project.url) == []


def throwaway_databases_left(url: sa.URL) -> list[str]:
    query = {
        "postgresql": "SELECT datname FROM pg_database",
        "mysql": "SHOW DATABASES",
    }[url.get_backend_name()]
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        names = connection.execute(sa.text(query)).scalars().all()
    engine.dispose()
    return [name for name in names if name.startswith(f"{url.database}_fs_")]


def test_healthy_history_passes_and_drift_is_named(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2tag", "r1person", CREATE_TAG)
    write_revision(project.path, "r3slug", "r2tag", ADD_SLUG)
    write_revision(project.path, "r2index", "r1person", INDEX_ON_NAME)
    write_revision(project.path, "r4merge", ("r3slug", "r2index"), MERGE)
    pytester.makepyfile(test_data=DATA_TEST)
    add_keepsake(project.url)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("--flask-schema", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "conftest.py::flask_schema_single_head PASSED*",
            "conftest.py::flask_schema_upgrade PASSED*",
            "conftest.py::flask_schema_stairway PASSED*",
            "conftest.py::flask_schema_downgrade_leaves_no_trace PASSED*",
            "conftest.py::flask_schema_models_match PASSED*",
            "test_data.py::test_slug_is_filled_from_name PASSED*",
        ]
    )
    assert_untouched(project)

    # The model grows a column no migration creates; only the selected check runs.
    nickname = "    nickname = db.Column(db.String(40))\n"
    project.write_app(HEALTHY_MODELS.replace("    slug =", nickname + "    slug ="))
    result = pytester.runpytest_subprocess("--flask-schema-checks=models_match")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "Expected the models to match the schema the migrations build, found 1 difference" in output
    assert "column person.nickname (VARCHAR(40)) is in the models but no migration creates it" in output
    assert "Reproduce on an empty database with: flask db upgrade && flask db check" in output
    assert "Traceback" not in output
    assert_untouched(project)


def test_broken_history_fails_each_check_with_the_cause(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2tag", "r1person", CREATE_TAG_NO_DOWNGRADE)
    write_revision(project.path, "r3bad", "r2tag", FAILS_TO_UPGRADE)
    write_revision(project.path, "r2index", "r1person", INDEX_ON_NAME)  # a second head
    add_keepsake(project.url)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("--flask-schema")
    result.assert_outcomes(failed=5)
    output = result.stdout.str()

    assert "Expected one head revision, found 2:" in output
    assert "r2index (" in output and "r3bad (" in output
    assert 'Join them with: flask db merge -m "merge heads" ' in output

    assert "Expected upgrading from r" in output
    assert "to r3bad (" in output and "migrations/versions/r3bad_example.py" in output
    assert "no_such_table" in output
    assert "Reproduce on an empty database with: flask db upgrade r3bad" in output

    assert "Stairway failed at r2tag (" in output
    assert "expected 'flask db upgrade r2tag' to succeed (step 3 of up, down, up)" in output
    # The history branches, so the downgrade steps back along r2tag's branch only.
    assert "flask db upgrade r2tag && flask db downgrade r2tag@-1 && flask db upgrade r2tag" in output

    assert "Expected downgrading r2tag (" in output
    assert "to r2tag@-1 to give back the schema from before its upgrade, found:" in output
    assert "left behind: table tag" in output
    # The table is named once, not with each of its columns.
    assert "left behind: column tag." not in output
    assert "primary key of tag" not in output
    if project.backend == "postgresql":
        assert "left behind: enum type tag_kind ('red', 'blue')" in output

    assert "Could not upgrade to the head to compare the models" in output
    assert "Traceback" not in output
    assert_untouched(project)


MULTIDB_MODELS = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class AuditLog(db.Model):
    __bind_key__ = "audit"
    id = db.Column(db.Integer, primary_key=True)
    message = db.Column(db.String(200))
"""

MULTIDB_REVISION = """
def upgrade(engine_name):
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name):
    globals()[f"downgrade_{engine_name}"]()


def upgrade_():
    op.create_table("person", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade_():
    op.drop_table("person")


def upgrade_audit():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message", sa.String(200)),
    )


def downgrade_audit():
    pass
"""


def test_multidb_checks_cover_every_database(
    project: Project,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    project.path = pytester.path
    with fresh_database(project.backend, str(tmp_path_factory.mktemp("audit"))) as audit_url:
        project.binds["audit"] = audit_url
        write_project(project, MULTIDB_MODELS, multidb=True)
        write_revision(project.path, "m1", None, MULTIDB_REVISION)
        add_keepsake(project.url)
        add_keepsake(audit_url)
        use_project_env(project, monkeypatch)

        # The checks that compare databases; fewer throw-away databases keep it quick.
        checks = "--flask-schema-checks=upgrade,downgrade_leaves_no_trace,models_match"
        result = pytester.runpytest_subprocess(checks, "-v")
        result.assert_outcomes(passed=2, failed=1)
        result.stdout.fnmatch_lines(
            [
                "conftest.py::flask_schema_upgrade PASSED*",
                "conftest.py::flask_schema_downgrade_leaves_no_trace FAILED*",
                "conftest.py::flask_schema_models_match PASSED*",
            ]
        )
        assert "left behind: table audit_log in the audit database" in result.stdout.str()
        assert_untouched(project)
        assert_untouched(project, "audit")
        if project.backend != "sqlite":
            assert throwaway_databases_left(audit_url) == []


def test_plugin_is_inert_unless_asked_and_rejects_unknown_checks(
    sqlite_project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sqlite_project
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("--collect-only", "-q")
    assert "flask_schema_" not in result.stdout.str()

    # Checks picked in the ini file; a project fixture named `migrations` does not
    # replace the runner under them.
    pytester.makeini("[pytest]\nflask_schema = true\nflask_schema_checks = single_head, upgrade\n")
    with open(project.path / "conftest.py", "a") as conftest:
        conftest.write("\n\n@pytest.fixture\ndef migrations():\n    return 'the project s own'\n")
    result = pytester.runpytest_subprocess("-v")
    result.stdout.fnmatch_lines(
        ["conftest.py::flask_schema_single_head PASSED*", "conftest.py::flask_schema_upgrade PASSED*"]
    )
    result.assert_outcomes(passed=2)

    # Asked for the checks but none could run: the run fails, so CI does not go green.
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    result = pytester.runpytest_subprocess("--flask-schema", "test_other.py")
    result.assert_outcomes(passed=1)
    assert "flask_schema: no migration checks ran: no collected conftest.py defines an 'app'" in (
        result.stdout.str()
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR

    result = pytester.runpytest_subprocess("--flask-schema-checks=single_head,stairs")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Unknown flask_schema check 'stairs'; choose from: single_head, upgrade," in result.stderr.str()


def test_unreachable_server_fails_the_check_without_the_password(
    sqlite_project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sqlite_project
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:hunter2@127.0.0.1:9/app")

    result = pytester.runpytest_subprocess("--flask-schema-checks=upgrade")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "flask_schema: Could not reach the server of postgresql://someone:***@127.0.0.1:9/app" in output
    assert "hunter2" not in output


def test_schema_comparison_names_what_was_left_behind_removed_or_changed(
    backend: str, tmp_path: Path
) -> None:
    from flask_schema.testing.schema import compare, snapshot

    with fresh_engine(backend, str(tmp_path)) as engine:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
            connection.execute(sa.text("CREATE INDEX ix_person_name ON person (name)"))
            before = snapshot(connection, exclude_tables=set())
        with engine.begin() as connection:
            on_table = " ON person" if backend == "mariadb" else ""
            connection.execute(sa.text("DROP INDEX ix_person_name" + on_table))
            connection.execute(sa.text("CREATE TABLE tag (id INTEGER PRIMARY KEY)"))
            after = snapshot(connection, exclude_tables=set())

    diff = compare(before, after)
    assert diff.lines() == [
        "left behind: table tag",
        "removed: index ix_person_name on person (name)",
    ]
    assert not compare(before, before)
    retyped = {**before, ("", "column", "person", "name"): "column person.name VARCHAR(40)"}
    assert compare(before, retyped).lines() == [
        f"changed: was {before[('', 'column', 'person', 'name')]}, is now column person.name VARCHAR(40)"
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_example_app_passes_its_migration_checks(backend: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from project import REPO_ROOT

    with fresh_database(backend, str(tmp_path)) as url:
        env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
        if backend == "sqlite":
            env.pop("DATABASE_URL")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--flask-schema", "example_app/tests", "-v",
             "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'run'}"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
    for check in ("single_head", "upgrade", "stairway", "downgrade_leaves_no_trace", "models_match"):
        assert f"conftest.py::flask_schema_{check} PASSED" in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout


# env.py as Flask-Migrate 2.x wrote it: its own engine, from the app's config.
FLASK_MIGRATE_2_ENV = """
from alembic import context
from flask import current_app
from sqlalchemy import engine_from_config, pool

config = context.config
config.set_main_option("sqlalchemy.url", current_app.config.get("SQLALCHEMY_DATABASE_URI"))
target_metadata = current_app.extensions["migrate"].db.metadata


def run_migrations_online():
    engine = engine_from_config(
        config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    connection = engine.connect()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **current_app.extensions["migrate"].configure_args,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.close()


run_migrations_online()
"""

# An env.py that reaches past the app for the developer's database.
STRAY_ENV = """
import os

import sqlalchemy as sa
from alembic import context
from flask import current_app

engine = sa.create_engine(os.environ["REAL_DATABASE_URL"], poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=current_app.extensions["migrate"].db.metadata)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_checks_never_touch_the_app_databases_whatever_env_py_does(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2tag", "r1person", CREATE_TAG)
    add_keepsake(project.url)
    use_project_env(project, monkeypatch)
    env_py = project.path / "migrations" / "env.py"

    # Its engine is built from SQLALCHEMY_DATABASE_URI, which points at the
    # throw-away database for the run: the downgrades run there.
    env_py.write_text(FLASK_MIGRATE_2_ENV)
    result = pytester.runpytest_subprocess("--flask-schema-checks=upgrade,stairway,downgrade_leaves_no_trace")
    result.assert_outcomes(passed=3)
    assert_untouched(project)

    # Built from anything else, the connection is refused before a statement runs.
    real = project.url
    if project.backend == "postgresql":
        real = real.set(password="hunter2")  # the server trusts the user; the password is only shown
    monkeypatch.setenv("REAL_DATABASE_URL", real.render_as_string(hide_password=False))
    env_py.write_text(STRAY_ENV)
    result = pytester.runpytest_subprocess("--flask-schema-checks=upgrade,stairway")
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    shown = real.render_as_string(hide_password=True)
    assert f"flask_schema: a connection opened to {shown}, which is not one of this run's" in output
    assert "hunter2" not in output
    assert "Traceback" not in output
    assert_untouched(project)


# A revision whose own code fails in ways no database driver reports.
IRREVERSIBLE = CREATE_PERSON.split("def downgrade")[0] + (
    "def downgrade():\n    raise NotImplementedError(\"person cannot be dropped\")\n"
)
UNCOMPILABLE = """
def upgrade():
    op.add_column("person", sa.Column("mood", sa.types.NullType()))


def downgrade():
    pass
"""
MISTYPED = """
def upgrade():
    op.create_index("ix_person_name", "person", "name" + 1)


def downgrade():
    pass
"""


def test_revision_code_errors_fail_the_check_naming_revision_file_and_line(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, IRREVERSIBLE)
    write_revision(project.path, "r2mood", "r1person", UNCOMPILABLE)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess(
        "--flask-schema-checks=upgrade,stairway,downgrade_leaves_no_trace,models_match"
    )
    result.assert_outcomes(failed=4)
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "Expected upgrading from r1person to r2mood (" in output
    assert "CompileError" in output
    assert "(at migrations/versions/r2mood_example.py, line 13:" in output
    assert "Stairway failed at r1person (" in output
    assert "Could not upgrade and downgrade r1person (" in output
    assert "NotImplementedError: person cannot be dropped" in output
    assert "(at migrations/versions/r1person_example.py, line 21:" in output
    assert "Could not upgrade to the head to compare the models: " in output

    write_revision(project.path, "r2mood", "r1person", MISTYPED)
    result = pytester.runpytest_subprocess("--flask-schema-checks=upgrade")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "TypeError: can only concatenate str" in output
    assert "(at migrations/versions/r2mood_example.py, line 13:" in output


# The downgrade drops an index it did not create, naming only the index.
DROPS_AN_OLD_INDEX = """
def upgrade():
    pass


def downgrade():
    op.drop_index("ix_person_name", table_name="person")
"""


def test_a_trace_named_only_by_its_index_is_found(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2index", "r1person", INDEX_ON_NAME)
    write_revision(project.path, "r3noop", "r2index", DROPS_AN_OLD_INDEX)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("--flask-schema-checks=downgrade_leaves_no_trace")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "Expected downgrading r3noop (" in output
    assert "removed: index ix_person_name on person (name)" in output


# pytest-alembic's documented fixtures: a new database for each of its tests.
PYTEST_ALEMBIC_CONFTEST = """
import os
import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture
def alembic_config():
    return {"script_location": "migrations"}


@pytest.fixture
def alembic_engine(tmp_path, monkeypatch):
    given = os.environ["DATABASE_URL"]
    url = sa.make_url(given)
    admin = None
    if url.get_backend_name() == "sqlite":
        url = url.set(database=str(tmp_path / "alembic.db"))
    else:
        url = url.set(database="pa_" + uuid.uuid4().hex[:10])
        admin = sa.create_engine(given, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {url.database}"))
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    from app import create_app

    app = create_app()
    engine = sa.create_engine(url)
    try:
        # The thin env.py reads the app's metadata and settings from its context.
        with app.app_context():
            yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE {url.database}"))
            admin.dispose()
"""

# The four tests --test-alembic collects by default, imported as pytest-alembic's
# docs show (its collector fails on pytest 9: "no attribute '_nodeid'").
PYTEST_ALEMBIC_TESTS = """
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
"""


def test_pytest_alembic_built_in_tests_pass_with_the_thin_env_py(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    (project.path / "conftest.py").write_text(PYTEST_ALEMBIC_CONFTEST)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2tag", "r1person", CREATE_TAG)
    write_revision(project.path, "r3slug", "r2tag", ADD_SLUG)
    write_revision(project.path, "r4index", "r3slug", INDEX_ON_NAME)
    pytester.makepyfile(test_migrations=PYTEST_ALEMBIC_TESTS)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("-p", "no:flask_schema")
    result.assert_outcomes(passed=4)


MOOD_TABLE = """
def upgrade():
    mood = sa.Enum("ok", name="mood")
    op.create_table("person", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("mood", mood))


def downgrade():
    op.drop_table("person")
    sa.Enum(name="mood").drop(op.get_bind())
"""

# Drops a column without naming its table; the downgrade brings back only the type.
DROP_TYPE_CASCADE = """
def upgrade():
    op.execute("DROP TYPE mood CASCADE")


def downgrade():
    op.execute("CREATE TYPE mood AS ENUM ('ok')")
"""


def test_a_change_the_sql_does_not_name_is_still_found(
    postgresql_project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = postgresql_project
    project.path = pytester.path
    write_project(project, HEALTHY_MODELS)
    write_revision(project.path, "r1mood", None, MOOD_TABLE)
    write_revision(project.path, "r2cascade", "r1mood", DROP_TYPE_CASCADE)
    use_project_env(project, monkeypatch)

    result = pytester.runpytest_subprocess("--flask-schema-checks=stairway,downgrade_leaves_no_trace")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "Expected downgrading r2cascade (" in output
    assert "removed: column person.mood " in output


# One change each, on a table ``person`` (and, on PostgreSQL, a type ``mood``):
# the quick snapshot the walk reads must see every one of them, whole and
# restricted to the names the change's SQL names. On SQLite the quick snapshot
# is the inspector's; on PostgreSQL and MariaDB it is one catalog query.
SCHEMA_BASE = {
    "any": [
        "CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(20), boss_id INTEGER)",
    ],
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('ok')",
        "CREATE TABLE feeling (id INTEGER PRIMARY KEY, m mood)",
    ],
}
ADD_BOSS_KEY = "ALTER TABLE person ADD CONSTRAINT fk_boss FOREIGN KEY (boss_id) REFERENCES person (id)"
SCHEMA_CHANGES: dict[str, dict[str, list[str]]] = {
    "column added": {"any": ["ALTER TABLE person ADD COLUMN age INTEGER"]},
    "column retyped": {
        "postgresql": ["ALTER TABLE person ALTER COLUMN name TYPE VARCHAR(40)"],
        "mariadb": ["ALTER TABLE person MODIFY name VARCHAR(40)"],
    },
    "column made NOT NULL": {
        "postgresql": ["ALTER TABLE person ALTER COLUMN name SET NOT NULL"],
        "mariadb": ["ALTER TABLE person MODIFY name VARCHAR(20) NOT NULL"],
    },
    "default given": {
        "postgresql": ["ALTER TABLE person ALTER COLUMN name SET DEFAULT 'x'"],
        "mariadb": ["ALTER TABLE person ALTER COLUMN name SET DEFAULT 'x'"],
    },
    "index": {"any": ["CREATE INDEX ix_person_name ON person (name)"]},
    "unique constraint": {
        "postgresql": ["ALTER TABLE person ADD CONSTRAINT uq_person_name UNIQUE (name)"],
        "mariadb": ["ALTER TABLE person ADD CONSTRAINT uq_person_name UNIQUE (name)"],
    },
    "foreign key": {
        "postgresql": [ADD_BOSS_KEY],
        "mariadb": [ADD_BOSS_KEY],
    },
    "check constraint": {
        "postgresql": ["ALTER TABLE person ADD CONSTRAINT ck_name CHECK (name <> '')"],
        "mariadb": ["ALTER TABLE person ADD CONSTRAINT ck_name CHECK (name <> '')"],
    },
    "view": {"any": ["CREATE VIEW person_names AS SELECT name FROM person"]},
    "table": {"any": ["CREATE TABLE tag (id INTEGER PRIMARY KEY)"]},
    "sequence": {"postgresql": ["CREATE SEQUENCE counter"]},
    "serial column": {"postgresql": ["ALTER TABLE person ADD COLUMN number SERIAL"]},
    "enum label": {"postgresql": ["ALTER TYPE mood ADD VALUE 'sad'"]},
    # The inspector's foreign keys do not say what happens on delete; the catalog does.
    "foreign key's ON DELETE": {
        "postgresql": [
            ADD_BOSS_KEY,
            "--- the snapshot before is taken here",
            "ALTER TABLE person DROP CONSTRAINT fk_boss",
            "ALTER TABLE person ADD CONSTRAINT fk_boss FOREIGN KEY (boss_id) REFERENCES person (id) "
            "ON DELETE CASCADE",
        ],
        "mariadb": [
            ADD_BOSS_KEY,
            "--- the snapshot before is taken here",
            "ALTER TABLE person DROP FOREIGN KEY fk_boss",
            "ALTER TABLE person ADD CONSTRAINT fk_boss FOREIGN KEY (boss_id) REFERENCES person (id) "
            "ON DELETE CASCADE",
        ],
    },
}


@pytest.mark.parametrize(
    ("backend", "change"),
    [
        (backend, change)
        for change, by_backend in SCHEMA_CHANGES.items()
        for backend in BACKENDS
        if backend in by_backend or "any" in by_backend
    ],
)
def test_the_walks_snapshot_sees_every_kind_of_change(backend: str, change: str, tmp_path: Path) -> None:
    from flask_schema.testing.schema import compare, names_in, restrict, snapshot

    statements = SCHEMA_CHANGES[change].get(backend) or SCHEMA_CHANGES[change]["any"]
    setup = SCHEMA_BASE["any"] + SCHEMA_BASE.get(backend, [])
    if "--- the snapshot before is taken here" in statements:
        split = statements.index("--- the snapshot before is taken here")
        setup, statements = setup + statements[:split], statements[split + 1 :]
    with fresh_engine(backend, str(tmp_path)) as engine:
        with engine.begin() as connection:
            for statement in setup:
                connection.execute(sa.text(statement))
        with engine.connect() as connection:
            before = snapshot(connection, set(), quick=True)
            assert not compare(before, snapshot(connection, set(), quick=True))
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
        named = names_in(statements)
        with engine.connect() as connection:
            whole = snapshot(connection, set(), quick=True)
            part = snapshot(connection, set(), tables=named, quick=True)

    assert compare(before, whole), f"{change} not seen"
    assert compare(restrict(before, named), part), f"{change} not seen by a read of {sorted(named)}"
    # A read restricted to some names holds nothing about the others.
    assert all(key[2] in named for key in part)


def test_the_quick_snapshot_lists_what_the_inspector_lists(backend: str, tmp_path: Path) -> None:
    from flask_schema.backends import backend_for
    from flask_schema.testing.schema import snapshot

    with fresh_engine(backend, str(tmp_path)) as engine:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE tag (id INTEGER PRIMARY KEY)"))
            connection.execute(sa.text("CREATE VIEW tag_ids AS SELECT id FROM tag"))
            connection.execute(sa.text("CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        with engine.connect() as connection:
            quick = snapshot(connection, {"person"}, quick=True)
            inspected = snapshot(connection, {"person"})
            one_query = backend_for(engine.dialect.name).describe_schema(connection, set(), None)
    # PostgreSQL and MariaDB read it in one query (SQLite's pragmas are cheap enough).
    assert (one_query is not None) == (backend != "sqlite")

    def listed(found: dict[tuple[str, ...], str]) -> set[tuple[str, ...]]:
        return {key for key in found if key[1] in {"table", "view", "column"}}

    assert listed(quick) == listed(inspected) == {
        ("", "table", "tag"),
        ("", "column", "tag", "id"),
        ("", "view", "tag_ids"),
    }


# Writes down which database each test of the run was given.
RECORDING_CONFTEST = """
import os


@pytest.fixture(autouse=True)
def record_database(request, flask_schema_databases):
    with open(os.environ["RECORD_DATABASES"], "a") as record:
        url = flask_schema_databases.get(None)
        record.write(f"{request.node.name} {url.database if url else '(none)'}\\n")
"""


def databases_given(record: Path) -> dict[str, str]:
    lines = record.read_text().splitlines() if record.exists() else []
    record.unlink(missing_ok=True)
    return dict(line.rsplit(" ", 1) for line in lines)


def test_checks_start_from_what_earlier_checks_left(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.path = pytester.path
    nickname = "    nickname = db.Column(db.String(40))\n"
    write_project(project, HEALTHY_MODELS.replace("    slug =", nickname + "    slug ="))
    (project.path / "conftest.py").write_text(CONFTEST + RECORDING_CONFTEST)
    write_revision(project.path, "r1person", None, CREATE_PERSON)
    write_revision(project.path, "r2tag", "r1person", CREATE_TAG)
    write_revision(project.path, "r3slug", "r2tag", ADD_SLUG)
    add_keepsake(project.url)
    use_project_env(project, monkeypatch)
    record = project.path / "databases.txt"
    monkeypatch.setenv("RECORD_DATABASES", str(record))

    # The upgrade passes, so its databases (at the head) are handed on; the drift is still found.
    result = pytester.runpytest_subprocess("--flask-schema")
    result.assert_outcomes(passed=4, failed=1)
    assert "column person.nickname (VARCHAR(40)) is in the models but no migration creates it" in (
        result.stdout.str()
    )
    given = databases_given(record)
    assert given["flask_schema_models_match"] == given["flask_schema_upgrade"]
    assert given["flask_schema_stairway"] != given["flask_schema_upgrade"]
    # The stairway's walk answered downgrade_leaves_no_trace too, which needed no database.
    assert given["flask_schema_downgrade_leaves_no_trace"] == "(none)"
    assert_untouched(project)

    # An upgrade that fails hands nothing on: models_match starts from empty databases of its own.
    write_revision(project.path, "r4bad", "r3slug", FAILS_TO_UPGRADE)
    result = pytester.runpytest_subprocess("--flask-schema-checks=upgrade,models_match")
    result.assert_outcomes(failed=2)
    assert "Could not upgrade to the head to compare the models" in result.stdout.str()
    given = databases_given(record)
    assert given["flask_schema_models_match"] != given["flask_schema_upgrade"]
    assert_untouched(project)


def test_the_walk_reads_only_the_tables_a_step_can_have_changed(backend: str, tmp_path: Path) -> None:
    from flask_schema.backends import backend_for
    from flask_schema.testing.schema import names_in, snapshot, touched_tables

    # On MariaDB each foreign key gets an index named after its column ("parent_id").
    child = (
        "CREATE TABLE {} (id INTEGER PRIMARY KEY, parent_id INTEGER, "
        "FOREIGN KEY (parent_id) REFERENCES t1 (id))"
    )
    with fresh_engine(backend, str(tmp_path)) as engine:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t1 (id INTEGER PRIMARY KEY)"))
            for table in ("t2", "t3"):
                connection.execute(sa.text(child.format(table)))
            connection.execute(sa.text("CREATE INDEX ix_t2_id ON t2 (id, parent_id)"))
        with engine.connect() as connection:
            known = snapshot(connection, set(), quick=True)
        stand_alone = backend_for(engine.dialect.name).index_names_stand_alone
    alone_in = {""} if stand_alone else set()

    # A new table whose column has the name of the other tables' indexes touches only what it names.
    named = names_in([child.format("t4")])
    assert touched_tables(known, named, alone_in) & {"t1", "t2", "t3", "t4"} == {"t1", "t4"}
    if stand_alone:
        # DROP INDEX names no table: the index's name says whose it is.
        assert "t2" in touched_tables(known, names_in(["DROP INDEX ix_t2_id"]), alone_in)


def test_an_app_without_migrate_fails_each_check_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\nfrom flask import Flask\n\n\n@pytest.fixture\ndef app():\n    return Flask('bare')\n"
    )
    result = pytester.runpytest_subprocess("--flask-schema-checks=stairway,downgrade_leaves_no_trace")
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert output.count("flask_schema: ") >= 2
    assert "Traceback" not in output
