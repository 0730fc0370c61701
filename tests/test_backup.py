"""``flask db upgrade --backup``: back up, migrate, restore with the printed command."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from databases import admin_engine, fresh_database, require_backend
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from project import FLASK, Project
from race import write_revision as write_test_revision
from sqlalchemy.engine import URL

from flask_schema import Migrate

USER_TABLE = (
    "op.create_table('user', sa.Column('id', sa.Integer, primary_key=True), "
    "sa.Column('name', sa.String(50)))",
    "op.drop_table('user')",
)
POST_TABLE = (
    "op.create_table('post', sa.Column('id', sa.Integer, primary_key=True))",
    "op.drop_table('post')",
)
USERS = sa.table("user", sa.column("id"), sa.column("name"))
BROKEN = ("op.execute('SELECT * FROM no_such_table')", "pass")

#: A password with the characters that break URLs, shells and option files.
PASSWORD = "s3cr%t@:'\"$ \\#;x"


def write_revision(project: Project, revision: str, down: str | None, body: tuple[str, str]) -> None:
    upgrade, downgrade = body
    write_test_revision(project, revision, down, upgrade, downgrade)


def backup_lines(output: str) -> list[tuple[str, str]]:
    """(path, restore command) for each backup a command reported."""
    return re.findall(r"^Backed up database \S+ \(revision \S+\) to (.+)\nRestore it with: (.+)$",
                      output, re.MULTILINE)


def backup_files(project: Project) -> list[str]:
    folder = project.path / "instance" / "backups"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def error_lines(stderr: str) -> list[str]:
    """The error lines of a failed command (the rest is Alembic's progress)."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def user_names(project: Project) -> list[str]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(sa.select(USERS.c.name))]
    finally:
        engine.dispose()


def test_backup_migrate_restore(project: Project) -> None:
    project.write_app(config="app.config['MIGRATE_BACKUP_KEEP'] = 2")
    project.db("init")
    write_revision(project, "r1", None, USER_TABLE)
    write_revision(project, "r2", "r1", POST_TABLE)
    write_revision(project, "r3", "r2", BROKEN)

    first = project.db("upgrade", "r1", "--backup")
    assert [name.split("--")[:2] for name in backup_files(project)] == [["default", "base"]]
    assert len(backup_lines(first.stdout)) == 1
    engine = project.engine()
    with engine.begin() as connection:
        connection.execute(sa.insert(USERS).values(id=1, name="ada"))
    engine.dispose()

    second = project.db("upgrade", "r2", "--backup")
    [(r1_path, restore)] = backup_lines(second.stdout)
    assert os.path.isfile(r1_path) and "--r1--" in r1_path
    assert stat.S_IMODE(os.stat(r1_path).st_mode) == 0o600
    assert "post" in project.tables() and project.version() == {"r2"}

    # Nothing pending: nothing backed up.
    idle = project.db("upgrade", "r2", "--backup")
    assert backup_lines(idle.stdout) == [] and len(backup_files(project)) == 2

    # A failed migration keeps its backup; retention (2) dropped the oldest.
    failed = project.db("upgrade", "--backup", check=False)
    assert failed.returncode == 1
    [error] = error_lines(failed.stderr)
    assert "no_such_table" in error
    [(r2_path, _)] = backup_lines(failed.stdout)
    assert os.path.isfile(r2_path)
    assert [name.split("--")[1] for name in backup_files(project)] == ["r1", "r2"]
    assert project.version() == {"r2"}

    assert restore == f"flask db restore {r1_path}"
    project.db(*restore.split()[2:])
    assert project.version() == {"r1"}
    assert user_names(project) == ["ada"]
    assert "post" not in project.tables()

    # MIGRATE_BACKUP (here from the environment) makes --backup the default.
    down = project.db("downgrade", "base", env={"FLASK_DB_BACKUP": "true"})
    [(new_r1, _)] = backup_lines(down.stdout)
    assert "user" not in project.tables()
    assert sorted(backup_files(project)) == sorted([os.path.basename(r2_path),
                                                    os.path.basename(new_r1)])

    listing = project.db("backups").stdout.splitlines()
    assert listing[0].split()[:4] == ["DATABASE", "REVISION", "TIME", "SIZE"]
    assert [line.split()[:2] for line in listing[1:]] == [["default", "r1"], ["default", "r2"]]
    assert listing[1].endswith(new_r1)


@contextmanager
def database_for_new_user(backend: str, directory: str, password: str = PASSWORD) -> Iterator[URL]:
    """A fresh database owned by a new user whose password is ``password``."""
    require_backend(backend)
    user = f"fs_user_{uuid.uuid4().hex[:8]}"
    admin = admin_engine(backend)

    def run(statement: str) -> None:
        if backend == "mariadb":
            statement = statement.replace("%", "%%")  # PyMySQL formats with %
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)

    literal = password.replace("\\", "\\\\") if backend == "mariadb" else password
    literal = literal.replace("'", "''")
    account = user if backend == "postgresql" else f"'{user}'@'%'"
    try:
        if backend == "postgresql":
            run(f"CREATE ROLE {user} LOGIN PASSWORD '{literal}'")
        else:
            run(f"CREATE USER {account} IDENTIFIED BY '{literal}'")
        with fresh_database(backend, directory) as url:
            if backend == "postgresql":
                run(f"ALTER DATABASE {url.database} OWNER TO {user}")
            else:
                run(f"GRANT ALL ON {url.database}.* TO {account}")
            yield url.set(username=user, password=password)
    finally:
        run(f"DROP {'ROLE' if backend == 'postgresql' else 'USER'} IF EXISTS {account}")
        admin.dispose()


def fake_tool(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_dump_tool_problems_and_secret_password(backend: str, tmp_path: Path) -> None:
    tool = "pg_dump" if backend == "postgresql" else "mariadb-dump"
    real_tool = shutil.which(tool)
    assert real_tool is not None, f"{tool} is needed for this test"
    with database_for_new_user(backend, str(tmp_path)) as url:
        project = Project(tmp_path, url, backend)
        project.write_app()
        project.db("init")
        write_revision(project, "r1", None, USER_TABLE)

        # No dump tool on PATH: one clear line, nothing migrated, no file.
        missing = project.db("upgrade", "--backup", check=False,
                             env={"PATH": str(tmp_path / "empty")})
        assert missing.returncode == 1
        [error] = error_lines(missing.stderr)
        assert "pg_dump" in error if backend == "postgresql" else "mariadb-dump" in error
        assert "is not on PATH" in error
        assert project.tables() == set() and backup_files(project) == []

        # A dump tool older than the server: the same.
        old_version = ("pg_dump (PostgreSQL) 9.6.24" if backend == "postgresql"
                       else "mariadb-dump  Ver 10.17 Distrib 10.3.39-MariaDB, for debian-linux-gnu")
        fake_tool(tmp_path / "old", tool, f"echo '{old_version}'\nexit 1\n")
        old = project.db("upgrade", "--backup", check=False,
                         env={"PATH": f"{tmp_path / 'old'}:{os.environ['PATH']}"})
        assert old.returncode == 1
        [error] = error_lines(old.stderr)
        assert "cannot dump" in error
        assert project.tables() == set() and backup_files(project) == []

        # A dump that fails half-way: its error, no file left, nothing migrated.
        fake_tool(tmp_path / "broken", tool, f"""\
            [ "$1" = --version ] && exec {real_tool} --version
            for arg in "$@"; do
                case "$arg" in --file=*|--result-file=*) echo half > "${{arg#*=}}";; esac
            done
            echo "{tool}: disk on fire" >&2
            exit 2
            """)
        broken = project.db("upgrade", "--backup", check=False,
                            env={"PATH": f"{tmp_path / 'broken'}:{os.environ['PATH']}"})
        assert broken.returncode == 1
        [error] = error_lines(broken.stderr)
        assert error.endswith("disk on fire")
        assert project.tables() == set() and backup_files(project) == []

        # The real tool, wrapped to record what `ps` would show and what it got.
        log = tmp_path / "argv.log"
        fake_tool(tmp_path / "wrap", tool, f'''\
            for arg in "$@"; do
                printf '%s\\n' "$arg" >> {log}
                case "$arg" in --defaults-extra-file=*)
                    stat -c 'mode=%a' "${{arg#--defaults-extra-file=}}" >> {log};;
                esac
            done
            printf 'env-password=%s\\n' "$PGPASSWORD" >> {log}
            exec {real_tool} "$@"
            ''')
        done = project.db("upgrade", "--backup",
                          env={"PATH": f"{tmp_path / 'wrap'}:{os.environ['PATH']}"})
        assert project.version() == {"r1"}
        [(path, restore)] = backup_lines(done.stdout)
        assert os.path.getsize(path) > 0
        recorded = log.read_text()
        argv_lines = [line for line in recorded.splitlines() if not line.startswith("env-")]
        for secret in (PASSWORD, quote(PASSWORD), quote(PASSWORD, safe="")):
            assert secret not in done.stdout + done.stderr
            assert all(secret not in line for line in argv_lines)
        if backend == "postgresql":
            assert f"env-password={PASSWORD}\n" in recorded
        else:
            # Credentials came from a private option file that is gone now.
            assert "mode=600" in argv_lines
            option_file = next(line for line in argv_lines if "defaults-extra-file" in line)
            assert not os.path.exists(option_file.split("=", 1)[1])
            assert restore == f"flask db restore {path}"


@pytest.fixture
def cli_app(tmp_path: Path) -> Flask:
    """An app for in-process CliRunner checks that stop before any migration."""
    app = Flask("backup_cli", instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    db = SQLAlchemy(app)
    Migrate(app, db, directory=str(tmp_path / "migrations"))
    return app


def test_backup_works_with_the_env_py_flask_migrate_wrote(cli_app: Flask, tmp_path: Path) -> None:
    runner = cli_app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).exit_code == 0
    # The backup is taken by the run around env.py, so Flask-Migrate's own
    # env.py gets it too.
    import flask_migrate

    legacy = Path(flask_migrate.__file__).parent / "templates" / "flask" / "env.py"
    shutil.copy(legacy, tmp_path / "migrations" / "env.py")
    (tmp_path / "app.db").touch()  # an existing, empty database
    write_revision(Project(tmp_path, sa.make_url("sqlite://"), "sqlite"), "r1", None, USER_TABLE)

    result = runner.invoke(args=["db", "upgrade", "--backup"])
    assert result.exit_code == 0, result.output
    folder = Path(cli_app.instance_path) / "backups"
    [backup] = os.listdir(folder)
    assert backup.startswith("default--base--") and backup.endswith(".sqlite")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert "user" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_failed_sqlite_backup_stops_the_migration(cli_app: Flask, tmp_path: Path) -> None:
    runner = cli_app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).exit_code == 0
    write_revision(Project(tmp_path, sa.make_url("sqlite://"), "sqlite"), "r1", None, USER_TABLE)
    (tmp_path / "not-a-folder").write_text("")
    cli_app.config["MIGRATE_BACKUP_DIR"] = str(tmp_path / "not-a-folder")

    result = runner.invoke(args=["db", "upgrade", "--backup"])
    assert result.exit_code == 1
    [error] = error_lines(result.stderr)
    assert error.startswith("Error: Cannot back up database 'default': ")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_backups_listing_and_bad_settings(cli_app: Flask, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    runner = cli_app.test_cli_runner()
    result = runner.invoke(args=["db", "backups"])
    assert result.exit_code == 0
    assert result.output == f"No backups in {tmp_path / 'instance' / 'backups'}.\n"

    assert runner.invoke(args=["db", "init"]).exit_code == 0
    monkeypatch.setenv("FLASK_DB_BACKUP_KEEP", "-1")
    result = runner.invoke(args=["db", "upgrade", "--backup"])
    assert result.exit_code == 1 and "MIGRATE_BACKUP_KEEP must be 0" in result.stderr
    monkeypatch.setenv("FLASK_DB_BACKUP", "maybe")
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: FLASK_DB_BACKUP has an invalid value")
    # The flag wins over the setting, so the bad value is never read.
    assert runner.invoke(args=["db", "upgrade", "--no-backup"]).exit_code == 0


LEAVES_A_HOT_JOURNAL = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA cache_size=1")
connection.execute("BEGIN")
connection.execute("UPDATE user SET name = 'half-written' || id")
connection.execute("INSERT INTO user (name) SELECT name FROM user")
os._exit(9)  # a crash: the journal of an unfinished transaction stays beside the database
"""


def test_sqlite_restore_after_a_crash(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, USER_TABLE)
    write_revision(project, "r2", "r1", POST_TABLE)
    project.db("upgrade", "r1")
    engine = project.engine()
    with engine.begin() as connection:
        connection.execute(sa.insert(USERS), [{"id": n, "name": f"u{n}" * 50} for n in range(1, 400)])
    engine.dispose()
    [(path, restore)] = backup_lines(project.db("upgrade", "--backup").stdout)
    assert restore == f"flask db restore {path}"

    database = str(project.path / "app.db")
    crashed = subprocess.run([sys.executable, "-c", LEAVES_A_HOT_JOURNAL, database], timeout=60)
    assert crashed.returncode == 9 and os.path.getsize(database + "-journal") > 0

    done = project.db("restore", path)
    assert "Restored database default" in done.stdout and "revision r1" in done.stdout
    assert not os.path.exists(database + "-journal")
    assert project.version() == {"r1"} and "post" not in project.tables()
    names = user_names(project)
    assert len(names) == 399 and names[0] == "u1" * 50
    engine = project.engine()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()


def test_restore_refuses_while_a_migration_holds_the_lock(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, USER_TABLE)
    write_test_revision(project, "r2", "r1", "time.sleep(8)\n" + POST_TABLE[0])
    [(path, _)] = backup_lines(project.db("upgrade", "r1", "--backup").stdout)
    running = subprocess.Popen(  # -v: Alembic's "Running upgrade" line says r2 has begun
        [FLASK, "db", "-v", "upgrade"], cwd=project.path, env=project.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while "Running upgrade r1 -> r2" not in _read_so_far(running) and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = project.db("restore", path, check=False)
        assert refused.returncode == 1
        [line] = error_lines(refused.stderr)
        assert "Gave up waiting for the migration lock" in line
    finally:
        running.communicate(timeout=60)
    assert running.returncode == 0 and "post" in project.tables()

    missing = project.db("restore", str(project.path / "nope.sqlite"), check=False)
    assert "is not a backup made by" in error_lines(missing.stderr)[0]
    project.db("restore", path)
    assert project.version() == set() and "user" not in project.tables()


_OUTPUT: dict[int, str] = {}


def _read_so_far(process: subprocess.Popen[str]) -> str:
    """What ``process`` wrote to stderr until now, without blocking."""
    import selectors

    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    while selector.select(timeout=0):
        chunk = os.read(process.stderr.fileno(), 65536).decode()
        if not chunk:
            break
        _OUTPUT[process.pid] = _OUTPUT.get(process.pid, "") + chunk
    selector.close()
    return _OUTPUT.get(process.pid, "")
