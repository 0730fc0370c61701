"""Projects as Flask-Migrate left them: its own migrations folders and older env.py files.

The folders are written by the real Flask-Migrate (a test dependency); the
2.x ``env.py`` is written by hand from what that release generated, since
2.x does not install beside SQLAlchemy 2. Tests copy them into a project and
then change only the import line, as a user switching would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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




def make_flask_migrate_folders(root: Path) -> dict[str, Path]:
    """Migrations folders written by the real Flask-Migrate 4.1, one revision each.

    Made on SQLite: the files do not depend on the backend. Keys: ``single``
    and ``multidb`` (bind key ``audit``).
    """
    folders = {}
    for kind, init_args in (("single", ()), ("multidb", ("--multidb",))):
        path = root / f"flask_migrate_{kind}"
        path.mkdir()
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


def use_flask_migrate_folder(project: Project, folder: Path, env_py: str | None = None) -> Path:
    """Copy a Flask-Migrate folder into ``project`` without its revisions; return it."""
    target = project.path / "migrations"
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__"))
    for revision in (target / "versions").glob("*.py"):
        revision.unlink()
    if env_py is not None:
        (target / "env.py").write_text(env_py)
    return target
