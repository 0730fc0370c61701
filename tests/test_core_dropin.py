"""A Flask-Migrate project switches to flask_schema by changing one import line.

The migrations folders here are written by the real Flask-Migrate 4.1 (and,
for 2.x, by hand from what that release generated) and are never edited after
the switch: the test compares every file but the revisions before and after.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import fresh_database
from project import Project

FLASK_MIGRATE = "from flask_migrate import Migrate"

USER_MODEL = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100))
"""

USER_WITH_EMAIL = USER_MODEL + """
    email = db.Column(db.String(200))
"""

AUDIT_MODEL = """
class Audit(db.Model):
    __bind_key__ = "audit"
    id = db.Column(db.Integer, primary_key=True)
"""

AUDIT_WITH_NOTE = AUDIT_MODEL + """
    note = db.Column(db.String(50))
"""

# An env.py as Flask-Migrate 2.x wrote it: the URL from the app config with
# '%' doubled, metadata from the extension, its own engine, its own hook for
# empty autogenerate, and the extension's configure_args.
FLASK_MIGRATE_2_ENV = """\
from __future__ import with_statement

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import engine_from_config, pool

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger('alembic.env')

config.set_main_option(
    'sqlalchemy.url',
    current_app.config.get('SQLALCHEMY_DATABASE_URI').replace('%', '%%'))
target_metadata = current_app.extensions['migrate'].db.metadata
assert target_metadata is current_app.extensions['migrate'].metadata


def run_migrations_offline():
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    engine = engine_from_config(config.get_section(config.config_ini_section),
                                prefix='sqlalchemy.',
                                poolclass=pool.NullPool)

    connection = engine.connect()
    context.configure(connection=connection,
                      target_metadata=target_metadata,
                      process_revision_directives=process_revision_directives,
                      **current_app.extensions['migrate'].configure_args)

    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""


@pytest.fixture(scope="module")
def flask_migrate_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Migrations folders written by the real Flask-Migrate 4.1, one revision each.

    Made once on SQLite and copied into each test: the files do not depend on
    the backend, and each ``flask`` run costs most of a second.
    """
    folders = {}
    for kind, init_args in (("single", ()), ("multidb", ("--multidb",))):
        path = tmp_path_factory.mktemp(f"flask_migrate_{kind}")
        (path / "audit").mkdir()
        with fresh_database("sqlite", str(path)) as url, fresh_database(
            "sqlite", str(path / "audit")
        ) as audit_url:
            maker = Project(path, url, "sqlite")
            models = USER_MODEL
            if init_args:
                maker.binds["audit"] = audit_url
                models += AUDIT_MODEL
            maker.write_app(models, import_line=FLASK_MIGRATE)
            maker.db("init", *init_args)
            maker.db("migrate", "-m", "create tables")
        folders[kind] = path / "migrations"
    return folders


@pytest.fixture
def bound_project(project: Project, tmp_path: Path) -> Iterator[Project]:
    """``project`` plus a second database on the same backend, bind key ``audit``."""
    other = tmp_path / "audit"
    other.mkdir()
    with fresh_database(project.backend, str(other)) as url:
        project.binds["audit"] = url
        yield project


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a migrations folder except the revisions, by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "versions" not in path.parts and "__pycache__" not in path.parts
    }


def new_revision(project: Project, old: set[Path]) -> str:
    """The id of the one revision file not in ``old``."""
    (added,) = set(project.revision_files()) - old
    return added.name.split("_")[0]


def test_flask_migrate_4_project(project: Project, flask_migrate_folders: dict[str, Path]) -> None:
    shutil.copytree(flask_migrate_folders["single"], project.path / "migrations")
    before = snapshot(project.path / "migrations")
    env_py = before["env.py"].decode()
    assert "current_app.extensions['migrate']" in env_py and "flask_schema" not in env_py
    project.write_app(USER_MODEL)
    project.db("upgrade")
    old = set(project.revision_files())

    project.write_app(USER_WITH_EMAIL)
    assert "Generating" in project.db("migrate", "-m", "add email").stdout
    head = new_revision(project, old)
    project.db("upgrade")
    assert "email" in project.columns("user")
    assert project.version() == {head}
    assert project.db("current").stdout.strip() == f"{head} (head)"
    assert "No new upgrade operations detected." in project.db("check").stdout

    project.db("downgrade")
    assert "email" not in project.columns("user")
    assert project.version() == {old.pop().name.split("_")[0]}
    assert snapshot(project.path / "migrations") == before


def test_flask_migrate_4_multidb_project(
    bound_project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    project = bound_project
    shutil.copytree(flask_migrate_folders["multidb"], project.path / "migrations")
    before = snapshot(project.path / "migrations")
    project.write_app(USER_MODEL + AUDIT_MODEL)
    project.db("upgrade")
    old = set(project.revision_files())
    first = next(iter(old)).name.split("_")[0]

    project.write_app(USER_WITH_EMAIL + AUDIT_WITH_NOTE)
    project.db("migrate", "-m", "add columns")
    head = new_revision(project, old)
    project.db("upgrade")
    assert "email" in project.columns("user") and "note" in project.columns("audit", "audit")
    assert "audit" not in project.tables() and "user" not in project.tables("audit")
    assert project.version() == {head} == project.version("audit")
    lines = project.db("current").stdout.strip().splitlines()
    assert sorted(lines) == [f"audit: {head} (head)", f"default: {head} (head)"]
    assert "No new upgrade operations detected." in project.db("check").stdout

    project.db("downgrade")
    assert "email" not in project.columns("user")
    assert "note" not in project.columns("audit", "audit")
    assert project.version() == project.version("audit") == {first}
    assert snapshot(project.path / "migrations") == before


def test_flask_migrate_2_env_py(project: Project, flask_migrate_folders: dict[str, Path]) -> None:
    shutil.copytree(flask_migrate_folders["single"], project.path / "migrations")
    (project.path / "migrations" / "env.py").write_text(FLASK_MIGRATE_2_ENV)
    project.write_app(USER_WITH_EMAIL)

    project.db("upgrade")
    assert "email" not in project.columns("user")
    project.db("migrate", "-m", "add email")
    project.db("upgrade")
    assert "email" in project.columns("user")
    assert "No changes in schema detected." in project.db("migrate").stderr
    assert len(project.revision_files()) == 2
    assert "No new upgrade operations detected." in project.db("check").stdout

    sql = project.db("upgrade", "--sql", "base:head").stdout
    assert "email" in sql and "alembic_version" in sql
    project.db("downgrade", "base")
    assert "user" not in project.tables()
