"""``flask db lint`` and the lint after ``flask db migrate``, run as users run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from project import Project

from flask_schema import Migrate

USER = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))
"""

HAZARDS = '''"""hazards

Revision ID: b2
Revises: {parent}
"""
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "{parent}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_user_name", "user", ["name"])
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("age", sa.Integer(), nullable=False))


def downgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("age")
    op.drop_index("ix_user_name", table_name="user")
'''


def test_lint_checks_pending_revisions_per_backend(project: Project) -> None:
    project.write_app(USER)
    project.db("init")
    written = project.db("migrate", "-m", "users")
    assert "error" not in written.stderr  # a new table costs nothing
    project.db("upgrade")
    (first,) = project.revision_files()
    parent = first.name.split("_")[0]
    hazards = project.path / "migrations" / "versions" / "b2_hazards.py"
    hazards.write_text(HAZARDS.format(parent=parent))

    result = project.db("lint", check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert all(re.match(r"^migrations/versions/b2_hazards\.py:\d+ [a-z-]+ (error|warning): ", line)
               for line in lines), lines
    found = {line.split()[1] for line in lines}
    if project.backend == "postgresql":
        assert found == {"index-not-concurrent", "add-not-null-column"}
    else:
        assert found == {"add-not-null-column"}
    assert "1 revision(s) checked" in result.stderr
    assert "Traceback" not in result.stderr

    # Once applied, nothing is pending (the table is empty, so the upgrade works).
    project.db("upgrade")
    after = project.db("lint")
    assert after.stdout == "" and "0 revision(s) checked" in after.stderr


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    db = SQLAlchemy(app)
    Migrate(app, db, directory=str(tmp_path / "migrations"))
    return app


def test_lint_rules_lists_cost_and_fix(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "lint", "--rules"])
    assert result.exit_code == 0
    assert "index-not-concurrent (error)" in result.output
    assert "cost: SHARE lock" in result.output


def test_lint_bad_range_is_one_line(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).exit_code == 0
    result = runner.invoke(args=["db", "lint", "nope:head"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")


FIRST = HAZARDS.replace('"b2"', '"a1"').replace("Revises: {parent}", "Revises:").replace(
    'down_revision = "{parent}"', "down_revision = None"
)


def test_lint_all_range_one_and_allow(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).exit_code == 0
    versions = tmp_path / "migrations" / "versions"
    (versions / "a1_first.py").write_text(FIRST)
    (versions / "b2_hazards.py").write_text(HAZARDS.format(parent="a1"))

    every = runner.invoke(args=["db", "lint", "--all", "--backend", "postgresql"])
    assert every.exit_code == 1
    assert "2 revision(s) checked: 4 error(s), 0 warning(s)." in every.output
    assert every.output.index("a1_first.py:") < every.output.index("b2_hazards.py:")
    assert "1 revision(s) checked: 2 error(s)" in runner.invoke(
        args=["db", "lint", "b2", "--backend", "postgresql"]).output
    assert "2 revision(s) checked" in runner.invoke(args=["db", "lint", "a1:head"]).output
    assert "1 revision(s) checked" in runner.invoke(args=["db", "lint", "b2:b2"]).output

    text = HAZARDS.format(parent="a1").replace(
        "nullable=False))",
        "nullable=False))  # flask-schema: allow add-not-null-column because user is empty",
    ).replace(
        "    op.create_index(",
        "    # flask-schema: allow index-not-concurrent because 30 rows\n    op.create_index(",
    )
    (versions / "b2_hazards.py").write_text(text)
    clean = runner.invoke(args=["db", "lint", "b2", "--backend", "postgresql"])
    assert clean.exit_code == 0 and "0 error(s), 0 warning(s)" in clean.output


def test_bad_rename_and_backend_are_one_line(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).exit_code == 0
    result = runner.invoke(args=["db", "migrate", "--rename", "person.name", "--no-input"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --rename 'person.name' is not of the form")
    assert list((tmp_path / "migrations" / "versions").iterdir()) == []
    wrong = runner.invoke(args=["db", "lint", "--backend", "oracle"])
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output
