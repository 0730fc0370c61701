"""What env.py does at run time, seen from outside: logging, passwords, start-up cost."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote_plus

import sqlalchemy as sa
from databases import SERVER_URLS, admin_engine
from project import REPO_ROOT, Project
from sqlalchemy.engine import URL, make_url

PASSWORD = "s3cr%t@p4ss"

MODELS = """
import logging

# A logger the app sets up before any command runs.
audit_log = logging.getLogger("myapp.audit")
audit_log.addHandler(logging.StreamHandler())
audit_log.setLevel(logging.INFO)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
"""


@contextmanager
def user_with_password(backend: str, url: URL) -> Iterator[URL]:
    """A login with ``PASSWORD`` that owns the database of ``url``; dropped afterwards."""
    if backend == "sqlite":
        yield url
        return
    name = f"fs_user_{uuid.uuid4().hex[:8]}"
    quoted = PASSWORD.replace("'", "''")
    engine = admin_engine(backend)
    # PostgreSQL: the role must give back what it owns in the database itself
    # before it can be dropped, so that part runs on a connection to it.
    database_engine = sa.create_engine(
        make_url(SERVER_URLS[backend]).set(database=url.database), isolation_level="AUTOCOMMIT"
    )
    if backend == "postgresql":
        create = [
            f"CREATE ROLE {name} LOGIN PASSWORD '{quoted}'",
            # Owning the database is enough on PostgreSQL 15+, whose public
            # schema belongs to the database owner.
            f"ALTER DATABASE {url.database} OWNER TO {name}",
        ]
        release = [f"REASSIGN OWNED BY {name} TO CURRENT_USER", f"DROP OWNED BY {name}"]
        drop = f"DROP ROLE IF EXISTS {name}"
    else:
        create = [
            f"CREATE USER '{name}'@'%' IDENTIFIED BY '{quoted}'",
            f"GRANT ALL ON {url.database}.* TO '{name}'@'%'",
        ]
        release = []
        drop = f"DROP USER IF EXISTS '{name}'@'%'"
    try:
        with engine.connect() as connection:
            for statement in create:
                connection.execute(sa.text(statement))
        yield url.set(username=name, password=PASSWORD)
    finally:
        with database_engine.connect() as connection:
            for statement in release:
                connection.execute(sa.text(statement))
        with engine.connect() as connection:
            connection.execute(sa.text(drop))
        database_engine.dispose()
        engine.dispose()


def test_app_loggers_survive_and_passwords_stay_hidden(project: Project) -> None:
    """SQLite has no logins, so there only the logger and the wrong-database parts apply."""
    with user_with_password(project.backend, project.url) as url:
        project.url = url
        project.write_app(MODELS)
        outputs = [project.db("init"), project.db("migrate", "-m", "create user")]
        (revision_file,) = project.revision_files()
        revision_file.write_text(
            revision_file.read_text().replace(
                "def upgrade():\n",
                "def upgrade():\n"
                "    import logging\n"
                "    logging.getLogger('myapp.audit').info('hello from the app logger')\n",
            )
        )
        upgraded = project.db("upgrade")
        outputs.append(upgraded)
        assert "hello from the app logger" in upgraded.stderr
        assert "user" in project.tables()
        outputs.append(project.db("current"))
        assert "(head)" in outputs[-1].stdout

        if project.backend == "sqlite":
            wrong = url.set(database=str(project.path / "missing" / "app.db"))
        else:
            wrong = url.set(database="fs_no_such_database")
        lost = project.db(
            "current", check=False, env={"DATABASE_URL": wrong.render_as_string(False)}
        )
        outputs.append(lost)
        assert lost.returncode == 1
        (error,) = [line for line in lost.stderr.splitlines() if not line.startswith("INFO ")]
        assert error.startswith("Error: ") and "Traceback" not in lost.stderr

    for result in outputs:
        for secret in (PASSWORD, quote_plus(PASSWORD), PASSWORD.replace("%", "%%")):
            assert secret not in result.stdout + result.stderr


def test_import_and_migrate_do_not_load_alembic_or_mako() -> None:
    code = """
import sys
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
import flask_schema
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db = SQLAlchemy(app)
flask_schema.Migrate(app, db)
assert "db" in app.cli.commands
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {"alembic", "mako"})
print(",".join(loaded) or "none")
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert result.stdout.strip() == "none"
