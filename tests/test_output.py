"""What a person reads: Alembic's lines only with -v, -q, whole level names,
our lines under a Flask-Migrate alembic.ini, colour, lint advice, namesakes."""

from __future__ import annotations

import ast
import io
import logging
import re
from pathlib import Path

import pytest
from project import Project

from flask_schema import output

PERSON = """
class Person(db.Model):
    id = db.Column(db.Integer, primary_key=True)
"""
PERSON_WITH_AGE = PERSON + "    age = db.Column(db.Integer, nullable=False)\n"

# alembic.ini as Flask-Migrate 4 writes it: no logger for flask_schema, levels cut to 5 letters.
FLASK_MIGRATE_INI = """\
[alembic]

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""


def _applied(project: Project, models: str = PERSON) -> None:
    project.write_app(models)
    project.db("init")
    project.db("migrate", "-m", "person")


def test_alembic_lines_only_with_verbose_and_quiet_shows_none(project: Project) -> None:
    _applied(project)
    plain = project.db("upgrade")
    assert "Context impl" not in plain.stderr and "Will assume" not in plain.stderr
    assert "Running upgrade" not in plain.stderr
    assert "[flask_schema]" in plain.stderr  # our own step line stays
    assert "person" in project.tables()

    quiet = project.db("-q", "downgrade")
    assert quiet.stderr == ""
    assert "person" not in project.tables()

    verbose = project.db("-v", "upgrade")
    assert "Context impl" in verbose.stderr and "Running upgrade" in verbose.stderr
    assert "setup plugin" not in verbose.stderr


def test_flask_migrate_ini_shows_our_lines_with_whole_level_names(project: Project) -> None:
    _applied(project)
    (project.path / "migrations" / "alembic.ini").write_text(FLASK_MIGRATE_INI)
    project.db("upgrade")
    with project.engine().begin() as connection:
        connection.exec_driver_sql("INSERT INTO person (id) VALUES (1)")
    result = project.db("downgrade")  # drops a table that holds a row: a warning of ours
    assert "WARNING [flask_schema]" in result.stderr, result.stderr
    assert "WARNI " not in result.stderr
    assert "INFO  [flask_schema]" in result.stderr  # INFO lines of ours show although root is WARN
    assert "\x1b[" not in result.stderr  # not a terminal: no colour


def test_alembic_lines_stay_hidden_under_a_flask_migrate_env_py(project: Project) -> None:
    import flask_migrate

    # Flask-Migrate's env.py runs fileConfig itself, which resets Alembic's logger levels.
    templates = Path(flask_migrate.__file__).parent / "templates" / "flask"
    _applied(project)
    migrations = project.path / "migrations"
    (migrations / "env.py").write_text((templates / "env.py").read_text())
    (migrations / "alembic.ini").write_text(FLASK_MIGRATE_INI)
    plain = project.db("upgrade")
    assert "Context impl" not in plain.stderr and "Running upgrade" not in plain.stderr, plain.stderr
    assert "person" in project.tables()
    verbose = project.db("-v", "downgrade")
    assert "Running downgrade" in verbose.stderr
    assert "person" not in project.tables()


def test_migrate_prints_lint_findings_as_advice(project: Project) -> None:
    _applied(project)
    project.db("upgrade")
    project.write_app(PERSON_WITH_AGE)
    # --no-split: split in two, the NOT NULL would wait for the post revision (tests/test_phases.py).
    result = project.db("migrate", "-m", "age", "--no-input", "--no-split")
    assert result.returncode == 0
    assert "add-not-null-column (fails 'flask db lint')" in result.stderr, result.stderr
    assert "run 'flask db lint'" in result.stderr
    assert not re.search(r"\berror:", result.stderr, re.IGNORECASE)
    assert project.db("lint", check=False).returncode == 1  # the gate it names does gate


def test_colour_on_a_terminal_only_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert output.use_colour(Terminal()) and not output.use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.use_colour(Terminal())

    monkeypatch.delenv("NO_COLOR")
    stream = Terminal()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s %(message)s"))
    output._adopt(handler)
    logger = logging.getLogger("flask_schema.test_output")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("careful")
        logger.error("broken")
    finally:
        logger.removeHandler(handler)
    assert "\x1b[33mWARNING careful\x1b[0m" in stream.getvalue()  # yellow, the name whole
    assert "\x1b[31mERROR broken\x1b[0m" in stream.getvalue()  # red


def test_the_unrelated_flask_schema_distribution_is_named_in_one_line(
    sqlite_project: Project, tmp_path: Path
) -> None:
    sqlite_project.write_app(PERSON)
    # What `pip install flask-schema` leaves: its metadata, listing a flask_schema.py.
    # (Only the metadata: the module itself would shadow ours from PYTHONPATH.)
    site = tmp_path / "site"
    info = site / "flask_schema-0.1a.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 1.1\nName: flask-schema\nVersion: 0.1a\n")
    (info / "RECORD").write_text("flask_schema.py,,\nflask_schema-0.1a.dist-info/METADATA,,\n")
    env = sqlite_project.env()
    result = sqlite_project.db("list-templates", env={"PYTHONPATH": f"{env['PYTHONPATH']}:{site}"})
    notices = [line for line in result.stderr.splitlines() if "flask-schema 0.1a" in line]
    assert len(notices) == 1, result.stderr
    assert "pip uninstall flask-schema" in notices[0]
    assert "Warning" not in sqlite_project.db("list-templates").stderr


# Two sentences glued without a full stop: "... for all heads Run 'flask db heads'".
_GLUED = re.compile(r"[a-z0-9'\")\]] (Run|Check|Use|Set|See|Try|Pass|Call|Remove|Give|Add|Fix|Its|It|The)\b")
_SENTENCE_START = re.compile(r"^ (Run|Check|Use|Set|See|Try|Pass|Call|Remove|Give|Add|Fix|Its|It|The)\b")


def _glued_messages(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _GLUED.search(node.value):
            found.append(node.value)
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, after in zip(parts, parts[1:]):
                unended = isinstance(before, ast.FormattedValue) and not (
                    isinstance(before.value, ast.Call)
                    and getattr(before.value.func, "id", "") == "sentence"
                )
                if (
                    unended
                    and isinstance(after, ast.Constant)
                    and _SENTENCE_START.match(str(after.value))
                ):
                    found.append(ast.unparse(node))
    return found


def test_the_scan_finds_glued_sentences() -> None:
    assert _glued_messages('x = "the table already exists Check the database"')
    assert _glued_messages('x = f"{error} Run \'flask db heads\'"')
    assert not _glued_messages('x = f"{sentence(error)} Run \'flask db heads\'"')
    assert not _glued_messages('x = "It stopped. Run \'flask db resolve\'."')


def test_no_message_glues_two_sentences_without_a_full_stop() -> None:
    package = Path(__file__).resolve().parent.parent / "flask_schema"
    glued = {
        str(path.relative_to(package)): found
        for path in sorted(package.rglob("*.py"))
        if (found := _glued_messages(path.read_text()))
    }
    assert glued == {}


def test_a_long_upgrade_prints_one_line_per_step_and_a_summary(sqlite_project: Project) -> None:
    from race import write_revision

    sqlite_project.write_app()
    sqlite_project.db("init")
    count = 40
    for number in range(1, count + 1):
        down = f"r{number - 1:03d}" if number > 1 else None
        write_revision(
            sqlite_project, f"r{number:03d}", down,
            f'op.create_table("t{number}", sa.Column("id", sa.Integer))', f'op.drop_table("t{number}")',
        )

    result = sqlite_project.db("upgrade")

    lines = result.stderr.splitlines()
    assert len(lines) <= count + 3, result.stderr
    steps = [line for line in lines if re.search(r"\[\d+/40\] default: upgrade", line)]
    assert len(steps) == count
    assert "[40/40] default: upgrade r039 -> r040, r040 (" in steps[-1]
    assert re.search(r"Applied 40 steps to default in [\d.]+s; it is now at r040\.", lines[-1])
    back = sqlite_project.db("downgrade", "base")
    assert len(back.stderr.splitlines()) <= count + 3
