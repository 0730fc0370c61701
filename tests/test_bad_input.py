"""Bad input: one clear line on stderr, the right exit status, nothing left half-done."""

from __future__ import annotations

import subprocess

import sqlalchemy as sa
from project import Project
from race import write_revision


def _error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The single ``Error:`` line of a failed command, after checking the basics."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_bad_input_in_the_project(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app()
    assert "No migrations folder at 'migrations'" in _error(project.db("upgrade", check=False))
    assert "No migrations folder" in _error(project.db("status", check=False))

    project.db("init")
    assert "already exists and is not empty" in _error(project.db("init", check=False))

    versions = project.path / "migrations" / "versions"
    for bad in ("../../evil", "a'b; DROP TABLE x", "x" * 33, "r 1"):
        line = _error(project.db("revision", "-m", "m", "--rev-id", bad, check=False), 2)
        assert "Invalid --rev-id" in line
    assert _error(project.db("merge", "--rev-id", "../x", check=False), 2)
    assert _error(project.db("revision", "-m", "a\x01b", check=False), 2).startswith(
        "Error: Invalid -m/--message"
    )
    assert list(versions.iterdir()) == [] and not list(project.path.rglob("evil*"))

    # A message cannot become code in the generated file.
    hostile = '""" + __import__("os").system("touch pwned") + """ \\'
    project.db("revision", "-m", hostile, "--rev-id", "r1")
    shown = project.db("show", "r1").stdout
    assert hostile in shown
    assert not (project.path / "pwned").exists()

    write_revision(project, "r2a", "r1", "pass")
    write_revision(project, "r2b", "r1", "pass")
    line = _error(project.db("upgrade", check=False))
    assert "Multiple head" in line and "flask db merge" in line
    assert project.version() == set()
    (versions / "r2b_x.py").unlink()

    (versions / "broken.py").write_text("def upgrade(:\n")
    line = _error(project.db("upgrade", check=False))
    assert "Could not load migrations/versions/broken.py, line 1: SyntaxError" in line
    (versions / "broken.py").write_text("import no_such_module_here\n")
    line = _error(project.db("status", check=False))
    assert "broken.py, line 1: ModuleNotFoundError" in line
    (versions / "broken.py").unlink()

    assert "Can't locate revision identified by 'nosuch'" in _error(
        project.db("sql", "nosuch", check=False)
    )
    assert "--applied or --rolled-back" in _error(project.db("resolve", "r1", check=False), 2)
    assert "Invalid value for '--lock-timeout'" in project.db(
        "upgrade", "--lock-timeout", "-1", check=False
    ).stderr
    assert project.version() == set()

    # Binds only, but a single-database migrations folder.
    project.write_app(config="""
        app.config.pop("SQLALCHEMY_DATABASE_URI")
        app.config["SQLALCHEMY_BINDS"] = {"other": os.environ["DATABASE_URL"]}
    """)
    line = _error(project.db("upgrade", check=False))
    assert "No database is configured for default" in line


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
