"""Bad input: one clear line on stderr, the right exit status, nothing left half-done."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from project import FLASK, REPO_ROOT, Project
from race import write_revision
from sqlalchemy.engine import make_url


def _error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The single ``Error:`` line of a failed command, after checking the basics."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


class InProcess:
    """Runs ``flask db`` through click's CliRunner: the fast path for input checks."""

    def __init__(self, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
        self.project = project
        self.count = 0
        monkeypatch.chdir(project.path)
        monkeypatch.setenv("DATABASE_URL", project.url.render_as_string(hide_password=False))
        self.app = self.load()

    def load(self, config: str = "") -> Flask:
        self.count += 1
        name = f"bad_input_app_{self.count}"
        path = self.project.write_app(config=config, name=f"{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.create_app()  # type: ignore[no-any-return]

    def db(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.app.test_cli_runner().invoke(args=["db", *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_bad_input_in_the_project(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sqlite_project
    cli = InProcess(project, monkeypatch)
    assert "No migrations folder at 'migrations'" in _error(cli.db("upgrade"))
    assert "No migrations folder" in _error(cli.db("status"))

    project.write_app()
    project.db("init")  # one real subprocess: the same checks hold there
    assert "already exists and is not empty" in _error(project.db("init", check=False))

    versions = project.path / "migrations" / "versions"
    for bad in ("../../evil", "a'b; DROP TABLE x", "x" * 33, "r 1"):
        assert "Invalid --rev-id" in _error(cli.db("revision", "-m", "m", "--rev-id", bad), 2)
    assert _error(cli.db("merge", "--rev-id", "../x"), 2)
    assert _error(cli.db("revision", "-m", "a\x01b"), 2).startswith("Error: Invalid -m/--message")
    assert list(versions.iterdir()) == [] and not list(project.path.rglob("evil*"))

    # A message cannot become code in the generated file.
    hostile = '""" + __import__("os").system("touch pwned") + """ \\'
    assert cli.db("revision", "-m", hostile, "--rev-id", "r1").returncode == 0
    assert hostile in cli.db("show", "r1").stdout
    assert not (project.path / "pwned").exists()

    write_revision(project, "r2a", "r1", "pass")
    write_revision(project, "r2b", "r1", "pass")
    line = _error(cli.db("upgrade"))
    assert "Multiple head" in line and "flask db merge" in line
    assert project.version() == set()
    (versions / "r2b_x.py").unlink()

    (versions / "broken.py").write_text("def upgrade(:\n")
    line = _error(cli.db("upgrade"))
    assert "Could not load migrations/versions/broken.py, line 1: SyntaxError" in line
    (versions / "broken.py").write_text("import no_such_module_here\n")
    assert "broken.py, line 1: ModuleNotFoundError" in _error(cli.db("status"))
    (versions / "broken.py").unlink()

    assert "Can't locate revision identified by 'nosuch'" in _error(cli.db("sql", "nosuch"))
    assert "--applied or --rolled-back" in _error(cli.db("resolve", "r1"), 2)
    assert "Invalid value for '--lock-timeout'" in cli.db("upgrade", "--lock-timeout", "-1").stderr
    assert project.version() == set()

    # Binds only, but a single-database migrations folder.
    cli.app = cli.load(config="""
        app.config.pop("SQLALCHEMY_DATABASE_URI")
        app.config["SQLALCHEMY_BINDS"] = {"other": os.environ["DATABASE_URL"]}
    """)
    assert "No database is configured for default" in _error(cli.db("upgrade"))


def test_bad_input_against_the_database(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))',
                   'op.drop_table("a")')

    unreachable = project.url.set(password="sekrit-pw", port=1)
    if project.backend == "sqlite":
        unreachable = project.url.set(database=str(project.path / "no" / "such" / "dir.db"))
    result = project.db(
        "upgrade", check=False,
        env={"DATABASE_URL": unreachable.render_as_string(hide_password=False)},
    )
    line = _error(result)
    assert "database" in line.lower() and "sekrit-pw" not in result.stderr + result.stdout

    line = _error(project.db("upgrade", "nosuch", check=False))
    assert "Can't locate revision identified by 'nosuch'" in line and "flask db history" in line

    project.db("upgrade")
    line = _error(project.db("downgrade", "-3", check=False))
    assert "Relative revision -3" in line and "does not reach that far" in line
    assert project.version() == {"r1"} and "a" in project.tables()

    engine = project.engine()
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = 'gone1'"))
    finally:
        engine.dispose()
    for command in ("upgrade", "status", "downgrade"):
        line = _error(project.db(command, check=False))
        assert "at revision gone1, which the migrations folder does not have" in line
    assert project.version() == {"gone1"}


def _revision(project: Project, name: str, rev: str | None, down: str | None) -> None:
    header = f"revision = {rev!r}\n" if rev is not None else "x = 1\n"
    (project.path / "migrations" / "versions" / f"{name}.py").write_text(
        f'"""{name}"""\n{header}down_revision = {down!r}\n\n\ndef upgrade():\n    pass\n\n\n'
        "def downgrade():\n    pass\n"
    )


def test_a_broken_versions_folder_is_named_not_blamed_on_the_database(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sqlite_project
    cli = InProcess(project, monkeypatch)
    project.write_app()
    assert cli.db("init").returncode == 0
    versions = project.path / "migrations" / "versions"
    _revision(project, "a", "aaa1", None)
    _revision(project, "b", "bbb1", "aaa1")
    assert cli.db("upgrade").returncode == 0

    cases = {
        "empty": ("versions/empty.py declares no revision id", ["empty"]),
        "norev": ("versions/norev.py declares no revision id", ["norev"]),
        "self": ("migrations/versions/self.py: revision ccc1 names itself", ["self"]),
        "cycle": ("The down_revisions of migrations/versions/c1.py, migrations/versions/c2.py "
                  "form a loop (ccc1 -> ddd1 -> ccc1)", ["c1", "c2"]),
        "duplicate": ("Revision id bbb1 is used by two files, migrations/versions/b.py and "
                      "migrations/versions/dup.py", ["dup"]),
        "unknown": ("migrations/versions/orphan.py: its down_revision 'zzz9' is not a revision",
                    ["orphan"]),
    }
    for case, (expected, files) in cases.items():
        if case == "empty":
            (versions / "empty.py").write_text("")
        elif case == "norev":
            _revision(project, "norev", None, "bbb1")
        elif case == "self":
            _revision(project, "self", "ccc1", "ccc1")
        elif case == "cycle":
            _revision(project, "c1", "ccc1", "ddd1")
            _revision(project, "c2", "ddd1", "ccc1")
        elif case == "duplicate":
            _revision(project, "dup", "bbb1", "aaa1")
        else:
            _revision(project, "orphan", "ccc1", "zzz9")
        for command in ("upgrade", "status", "history", "current"):
            line = _error(cli.db(command))
            assert expected in line, (case, command, line)
            assert "stamp --purge" not in line
        for name in files:
            (versions / f"{name}.py").unlink()

    _revision(project, "a2", "aaa2", "bbb1")
    for command in (("upgrade", "aa"), ("show", "aa"), ("downgrade", "aa")):
        line = _error(cli.db(*command))
        assert "Multiple revisions start with 'aa'" in line and "ambiguous" in line
    assert project.version() == {"bbb1"}


def test_rev_id_dry_run_message_and_settings_are_checked(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sqlite_project
    project.write_app(models="class T(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n")
    project.db("init")
    write_revision(project, "r1", None, "pass")
    versions = project.path / "migrations" / "versions"
    before = sorted(path.name for path in versions.iterdir())
    for args in (("revision", "-m", "x", "--rev-id", "r1"), ("merge", "--rev-id", "r1", "r1")):
        line = _error(project.db(*args, check=False), 2)
        assert "Invalid --rev-id 'r1': migrations/versions/r1_x.py already has that id" in line
    assert sorted(path.name for path in versions.iterdir()) == before

    bad = project.db("revision", "-m", "caf\udce9", check=False, env={"PYTHONIOENCODING": "utf-8"})
    assert "not valid UTF-8" in _error(bad, 2)

    for value in ("nan", "inf", "-1"):
        result = project.db("upgrade", "--lock-timeout", value, check=False)
        assert result.returncode == 2 and "finite number of seconds" in result.stderr
        line = _error(project.db("upgrade", check=False, env={"FLASK_DB_LOCK_TIMEOUT": value}))
        assert "FLASK_DB_LOCK_TIMEOUT has an invalid value" in line
    assert project.version() == set()

    # The dry run never writes into versions/, even for a moment.
    project.db("upgrade")
    watcher = project.path / "watch.py"
    watcher.write_text(
        "import os, sys, time\n"
        "seen = set()\n"
        "end = time.time() + float(sys.argv[2])\n"
        "while time.time() < end:\n"
        "    seen |= set(os.listdir(sys.argv[1]))\n"
        "print(sorted(seen))\n"
    )
    watching = subprocess.Popen(
        [sys.executable, str(watcher), str(versions), "8"], stdout=subprocess.PIPE, text=True
    )
    dry = project.db("migrate", "--dry-run", "-m", "add t")
    assert "op.create_table(" in dry.stdout and "Revises: r1" in dry.stdout
    seen, _ = watching.communicate(timeout=30)
    assert [name for name in eval(seen) if name.endswith(".py")] == ["r1_x.py"]


def test_the_api_and_the_app_set_up_wrongly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flask_schema

    with pytest.raises(flask_schema.FlaskSchemaError, match="app_context"):
        flask_schema.upgrade()
    monkeypatch.chdir(tmp_path)
    for setup in ("Migrate(app)", "Migrate().init_app(app)"):
        (tmp_path / "noapp.py").write_text(
            "from flask import Flask\nfrom flask_schema import Migrate\n"
            f"app = Flask(__name__)\n{setup}\n"
        )
        result = subprocess.run(
            [FLASK, "--app", "noapp", "db", "upgrade"], capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(tmp_path)])},
        )
        assert "flask_schema was set up without a db" in _error(result)
        (tmp_path / "noapp.py").unlink()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_server_that_never_answers_is_given_up_on(
    backend: str, silent_server: int, tmp_path: Path
) -> None:
    url = {"postgresql": "postgresql://u:pw@127.0.0.1", "mariadb": "mysql+pymysql://u:pw@127.0.0.1"}
    project = Project(tmp_path, make_url(f"{url[backend]}:{silent_server}/x"), backend)
    project.write_app()
    (project.path / "migrations").mkdir()
    project.db("init", env={"DATABASE_URL": "sqlite://"}, check=False)
    for command in ("upgrade", "current"):
        started = time.monotonic()
        result = project.db(command, check=False, env={"FLASK_DB_CONNECT_TIMEOUT": "2"}, timeout=60)
        assert time.monotonic() - started < 20
        assert "Could not connect to the database" in _error(result)
