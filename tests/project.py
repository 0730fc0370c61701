"""A user's project on disk: an app file, a migrations folder, a database.

Tests drive it the way a person does, by running ``flask db ...`` in a
subprocess in the project's folder, then look at the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

REPO_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))

APP_TEMPLATE = '''\
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
{import_line}

db = SQLAlchemy()
migrate = Migrate({migrate_args})


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
{config}
    db.init_app(app)
    migrate.init_app(app, db{init_args})
    return app


{models}
'''


class Project:
    """A throw-away Flask project in ``path`` that uses ``database_url``."""

    def __init__(self, path: Path, database_url: URL, backend: str) -> None:
        self.path = path
        self.url = database_url
        self.backend = backend
        self.binds: dict[str, URL] = {}

    # -- writing the app ---------------------------------------------------------

    def write_app(
        self,
        models: str = "",
        config: str = "",
        import_line: str = "from flask_schema import Migrate",
        migrate_args: str = "",
        init_args: str = "",
        name: str = "app.py",
    ) -> Path:
        """Write an app-factory app file; ``models`` is code at module level."""
        config_lines = [f"    {line}" for line in textwrap.dedent(config).splitlines()]
        if self.binds:
            config_lines.append(
                "    app.config['SQLALCHEMY_BINDS'] = {"
                + ", ".join(f"{key!r}: os.environ['BIND_{key.upper()}']" for key in self.binds)
                + "}"
            )
        source = APP_TEMPLATE.format(
            import_line=import_line,
            migrate_args=migrate_args,
            config="\n".join(config_lines),
            init_args=init_args,
            models=textwrap.dedent(models),
        )
        target = self.path / name
        target.write_text(source)
        return target

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["DATABASE_URL"] = self.url.render_as_string(hide_password=False)
        for key, url in self.binds.items():
            env[f"BIND_{key.upper()}"] = url.render_as_string(hide_password=False)
        env["FLASK_APP"] = "app:create_app"
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(self.path)])
        env.pop("FLASK_DB_TRACEBACK", None)
        env.update(extra or {})
        return env

    # -- running commands --------------------------------------------------------

    def flask(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``flask <args>`` in the project folder, as a user would."""
        result = subprocess.run(
            [FLASK, *args],
            cwd=self.path,
            env=self.env(env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"flask {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def db(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run ``flask db <args>``."""
        return self.flask("db", *args, **kwargs)  # type: ignore[arg-type]

    # -- looking at the database -------------------------------------------------

    def engine(self, bind: str | None = None) -> sa.Engine:
        return sa.create_engine(self.binds[bind] if bind else self.url)

    def tables(self, bind: str | None = None) -> set[str]:
        engine = self.engine(bind)
        try:
            return set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def columns(self, table: str, bind: str | None = None) -> list[str]:
        engine = self.engine(bind)
        try:
            return [column["name"] for column in sa.inspect(engine).get_columns(table)]
        finally:
            engine.dispose()

    def version(self, bind: str | None = None, table: str = "alembic_version") -> set[str]:
        engine = self.engine(bind)
        try:
            with engine.connect() as connection:
                if table not in sa.inspect(connection).get_table_names():
                    return set()
                rows = connection.execute(sa.text(f"SELECT version_num FROM {table}"))
                return {row[0] for row in rows}
        finally:
            engine.dispose()

    def revision_files(self, directory: str = "migrations") -> list[Path]:
        return sorted((self.path / directory / "versions").glob("*.py"))
