"""Bad input: one clear line on stderr, the right exit status, nothing left half-done."""

from __future__ import annotations

import importlib.util
import subprocess

import pytest
import sqlalchemy as sa
from flask import Flask
from project import Project
from race import write_revision


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
