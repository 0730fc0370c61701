"""A history shaped like a real app's: it lints to exactly what runs, and migrates without drift.

``tests/histories/ledger`` is a bill-splitting app's history over five
years: tables from 2016 written with ``Float`` and ``UnicodeText``, defaults
spelled ``CURRENT_TIMESTAMP``, a trigger per database behind dialect
branches (a PL/pgSQL ``$$`` body on PostgreSQL, ``BEGIN ... END`` and a
backslash-escaped quote on MySQL), a PostgreSQL-only ``DO`` block after an
early return, a MySQL-only revision behind a decorator, and a loop over
table names. Its models are today's: ``Mapped[...]``, ``Double``,
``func.now()``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from project import Project

from flask_schema import Migrate
from flask_schema.lint import lint_files

LEDGER = Path(__file__).parent / "histories" / "ledger"
REVISIONS = sorted(str(path) for path in (LEDGER / "versions").glob("*.py"))

RUNTIME_DROP = ("6f708192a3b4", 21, "drop-column", "error")

# backend: (revision, line, rule, severity) of every finding of `lint --all`.
EXPECTED = {
    "postgresql": [
        ("2b3c4d5e6f70", 23, "index-not-concurrent", "error"),
        ("4d5e6f708192", 18, "raw-sql", "warning"),  # the DO block, once
        RUNTIME_DROP,
    ],
    "mysql": [
        ("5e6f708192a3", 30, "raw-sql", "warning"),  # only MySQL runs the decorated revision
        RUNTIME_DROP,
        ("6f708192a3b4", 27, "alter-column-type", "error"),  # inside a helper upgrade() calls
    ],
    "sqlite": [
        RUNTIME_DROP,
        ("6f708192a3b4", 27, "alter-column-type", "warning"),  # a rebuild, said as such
    ],
}


@pytest.mark.parametrize("backend", sorted(EXPECTED))
def test_history_lints_to_exactly_the_expected_findings(backend: str) -> None:
    found = lint_files(REVISIONS, backend)
    assert [(Path(f.path).name[:12], f.line, f.rule_id, f.severity) for f in found] == EXPECTED[backend]
    drop = next(f for f in found if f.rule_id == "drop-column")
    assert drop.message.startswith("Dropping column legacy_id of a table named at run time")
    assert "None" not in " ".join(f.message for f in found)


def test_history_judged_for_no_backend_sees_every_branch() -> None:
    rules = [f.rule_id for f in lint_files(REVISIONS, None)]
    assert sorted(rules) == sorted(
        ["index-not-concurrent", "raw-sql", "raw-sql", "drop-column", "alter-column-type"]
    )


APP_MODELS = (
    "import datetime\nfrom typing import Optional\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n"
)


def _ledger_project(project: Project) -> None:
    project.write_app(APP_MODELS + (LEDGER / "models.txt").read_text())
    project.db("init")
    versions = project.path / "migrations" / "versions"
    for path in REVISIONS:
        shutil.copy(path, versions)


def test_history_migrated_to_head_has_no_drift(project: Project) -> None:
    _ledger_project(project)
    project.db("upgrade")
    checked = project.db("check", check=False)
    if project.backend == "mariadb":
        # FLOAT is 4 bytes there and DOUBLE 8: a real change, named as one.
        assert checked.returncode != 0
        assert "bill.amount: FLOAT -> DOUBLE" in checked.stderr
        assert "person.weight: FLOAT -> DOUBLE" in checked.stderr
        assert checked.stderr.count(" -> ") == 2, checked.stderr
    else:
        assert checked.returncode == 0, checked.stderr
        assert "No new upgrade operations detected." in checked.stdout


def test_check_says_what_changed(project: Project) -> None:
    _ledger_project(project)
    project.db("upgrade")
    text = (LEDGER / "models.txt").read_text()
    text = text.replace(
        'what: Mapped[Optional[str]] = mapped_column(db.UnicodeText)',
        'what: Mapped[Optional[str]] = mapped_column(db.UnicodeText)\n'
        '    kind: Mapped[Optional[str]] = mapped_column(db.String(20))',
    )
    project.write_app(APP_MODELS + text)
    project.db("migrate", "-m", "kind", "--no-input")
    project.db("upgrade")
    changed = text.replace(
        "kind: Mapped[Optional[str]] = mapped_column(db.String(20))",
        'kind: Mapped[Optional[str]] = mapped_column(db.Enum("even", "shares", name="billkind"))',
    )
    changed = changed.replace("activated: Mapped[Optional[bool]]", "activated: Mapped[bool]")
    project.write_app(APP_MODELS + changed)
    checked = project.db("check", check=False)
    assert checked.returncode != 0
    assert "bill.kind: VARCHAR(20) -> billkind enum" in checked.stderr
    assert "person.activated: nullable -> NOT NULL" in checked.stderr
    assert "existing_nullable" not in checked.stderr and "{" not in checked.stderr


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    db = SQLAlchemy(app)
    Migrate(app, db, directory=str(tmp_path / "migrations"))
    assert app.test_cli_runner().invoke(args=["db", "init"]).exit_code == 0
    for path in REVISIONS:
        shutil.copy(path, tmp_path / "migrations" / "versions")
    return app


def test_baseline_judges_only_what_comes_after(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = app.test_cli_runner()
    everything = runner.invoke(args=["db", "lint", "--all", "--backend", "postgresql"])
    assert everything.exit_code == 1
    assert "6 revision(s) checked: 2 error(s), 1 warning(s)." in everything.output

    after = runner.invoke(
        args=["db", "lint", "--all", "--baseline", "4d5e6f708192", "--backend", "postgresql"]
    )
    assert "2 revision(s) checked: 1 error(s), 0 warning(s)." in after.output
    assert "2b3c4d5e6f70" not in after.output and "4d5e6f708192_" not in after.output

    clean = runner.invoke(args=["db", "lint", "--baseline", "6f708192a3b4", "--backend", "sqlite"])
    assert clean.exit_code == 0 and "0 revision(s) checked" in clean.output

    app.config["MIGRATE_LINT_BASELINE"] = "5e6f708192a3"
    recorded = runner.invoke(args=["db", "lint", "--all", "--backend", "mysql"])
    assert "1 revision(s) checked: 2 error(s), 0 warning(s)." in recorded.output

    monkeypatch.setenv("FLASK_DB_LINT_BASELINE", "nope")
    wrong = runner.invoke(args=["db", "lint", "--all"])
    assert wrong.exit_code == 1 and wrong.output.count("\n") == 1 and wrong.output.startswith("Error: ")
