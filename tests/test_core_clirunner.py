"""Fast paths through click's test runner: help, usage errors, options, revision files.

Nothing here connects to a database (revision files, templates, option
handling), so one in-process SQLite app is enough and no subprocess is paid.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from core_support import make_app, quiet_loggers
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import make_url

from flask_schema import Migrate
from flask_schema.extension import get_state

COMMANDS = [
    "branches", "check", "current", "downgrade", "edit", "ensure-version", "heads", "history",
    "init", "list-templates", "merge", "migrate", "revision", "show", "stamp", "upgrade",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    with quiet_loggers():
        yield


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    url = make_url(f"sqlite:///{tmp_path / 'app.db'}")
    app, _, _ = make_app(url, tmp_path / "migrations")
    return app


def run(app: Flask, *args: str, code: int = 0) -> Result:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def test_help_lists_every_command_and_option(app: Flask) -> None:
    listed = run(app, "db", "--help").output
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\b", listed, re.MULTILINE), name
    upgrade = run(app, "db", "upgrade", "--help").output
    for option in ("--sql", "--tag", "-x, --x-arg", "-d, --directory"):
        assert option in upgrade
    revision = run(app, "db", "revision", "--help").output
    for option in ("--autogenerate", "--head", "--splice", "--branch-label", "--version-path",
                   "--rev-id", "--depends-on"):  # fmt: skip
        assert option in revision
    assert "--check-heads" in run(app, "db", "current", "--help").output
    assert "--purge" in run(app, "db", "stamp", "--help").output
    assert "--resolve-dependencies" in run(app, "db", "heads", "--help").output


def test_usage_errors_exit_2(app: Flask) -> None:
    for args in (["db", "upgrade", "--bogus"], ["db", "history", "-r"], ["db", "nosuch"],
                 ["db", "init", "--multidb=3"]):  # fmt: skip
        result = run(app, *args, code=2)
        assert "Error:" in result.output


def test_list_templates(app: Flask) -> None:
    output = run(app, "db", "list-templates").output
    assert re.search(r"^flask - .+", output, re.MULTILINE)
    assert re.search(r"^flask-multidb - .+", output, re.MULTILINE)


def test_custom_template_folder(app: Flask, tmp_path: Path) -> None:
    from flask_schema.config import TEMPLATES_DIR

    template = tmp_path / "templates" / "mine"
    shutil.copytree(Path(TEMPLATES_DIR) / "flask", template)
    env = template / "env.py"
    env.write_text("# my own template\n" + env.read_text())

    target = tmp_path / "custom"
    run(app, "db", "init", "-t", str(template), "-d", str(target))
    assert (target / "env.py").read_text().startswith("# my own template")
    assert (target / "versions").is_dir()

    missing = run(app, "db", "init", "-t", str(tmp_path / "none"), "-d", str(tmp_path / "x"), code=1)
    assert missing.output.startswith("Error: No template at")
    unknown = run(app, "db", "init", "-t", "nosuch", "-d", str(tmp_path / "y"), code=1)
    assert "choose one of: flask, flask-multidb" in unknown.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_revision_options_and_script_commands(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "migrations"
    run(app, "db", "init")
    run(app, "db", "revision", "-m", "first", "--rev-id", "r1")
    run(app, "db", "revision", "-m", "second", "--rev-id", "r2")
    nothing = run(app, "db", "merge", code=1).output
    assert nothing == "Error: Nothing to merge: the history has a single head (r2).\n"
    spliced = run(app, "db", "revision", "-m", "side", "--rev-id", "r3", "--head", "r1", code=1)
    assert "--splice" in spliced.output or "not a head" in spliced.output
    run(app, "db", "revision", "-m", "side", "--rev-id", "r3", "--head", "r1", "--splice",
        "--branch-label", "feature")  # fmt: skip
    ini = migrations / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "[alembic]\n", "[alembic]\npath_separator = space\n"
            "version_locations = %(here)s/versions %(here)s/more\n",
        )
    )
    (migrations / "more").mkdir()
    run(app, "db", "revision", "-m", "more", "--rev-id", "r4", "--head", "feature@head",
        "--version-path", str(migrations / "more"), "--depends-on", "r2")  # fmt: skip
    assert [path.name for path in (migrations / "more").glob("*.py")] == ["r4_more.py"]

    heads = run(app, "db", "heads").output.splitlines()
    assert sorted(line.split()[0] for line in heads) == ["r2", "r4"]
    resolved = run(app, "db", "heads", "--resolve-dependencies").output.splitlines()
    assert [line.split()[0] for line in resolved] == ["r4"]
    assert "Path:" in run(app, "db", "heads", "-v").output

    branches = run(app, "db", "branches").output
    assert branches.startswith("r1 (branchpoint)")
    assert "-> r2" in branches and "-> r3 (feature)" in branches

    shown = run(app, "db", "show", "r3").output
    assert "Rev: r3" in shown and "Branch names: feature" in shown

    ranged = run(app, "db", "history", "-r", "r1:r2").output.splitlines()
    assert [line.split(" -> ")[1].split()[0].rstrip(",") for line in ranged] == ["r2", "r1"]
    assert "Path:" in run(app, "db", "history", "-v").output

    run(app, "db", "revision", "-m", "tip", "--rev-id", "r5", "--head", "r2")
    merged = run(app, "db", "merge", "-m", "join", "--rev-id", "m1").output
    (written,) = re.findall(r"Generating (\S+m1_join\.py)", merged)
    source = Path(written).read_text()
    parents = re.search(r"down_revision = \('(\w+)', '(\w+)'\)", source)
    assert parents is not None and set(parents.groups()) == {"r4", "r5"}

    opened = tmp_path / "opened.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    run(app, "db", "edit", "r3")
    assert opened.read_text().strip().endswith("r3_side.py")

    # The command's own -d wins over the group's; a wrong one is one clear line.
    assert run(app, "db", "-d", "nowhere", "heads", "-d", str(migrations)).output
    lost = run(app, "db", "-d", str(tmp_path / "nowhere"), "heads", code=1).output
    assert lost.startswith("Error: No migrations folder at") and lost.count("\n") == 1


def test_renamed_group(tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'app.db'}")
    app, _, _ = make_app(url, tmp_path / "migrations", command="database")
    assert "list-templates" in run(app, "database", "--help").output
    run(app, "db", "--help", code=2)

    configured = Flask(__name__)
    configured.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string()
    configured.config["MIGRATE_COMMAND"] = "schema"
    Migrate(configured, SQLAlchemy(configured))
    assert "list-templates" in run(configured, "schema", "--help").output


def test_app_factory_overrides_and_option_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate = Migrate(directory="from-constructor", command="dbx", compare_type=False,
                      version_table="v_constructor")  # fmt: skip
    db = SQLAlchemy()

    def create_app(**init_args: object) -> Flask:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
        db.init_app(app)
        migrate.init_app(app, db, **init_args)  # type: ignore[arg-type]
        return app

    plain = create_app()
    special = create_app(directory="from-init-app", command="dby", version_table="v_init_app",
                         render_as_batch=False)  # fmt: skip
    with plain.app_context():
        state = get_state()
        assert state.directory == "from-constructor"
        assert state.configure_args["version_table"] == "v_constructor"
        assert state.configure_args["compare_type"] is False
    with special.app_context():
        state = get_state()
        assert state.directory == "from-init-app"
        assert state.configure_args["version_table"] == "v_init_app"
        assert state.configure_args["render_as_batch"] is False
    assert "dbx" in plain.cli.commands and "dby" in special.cli.commands
    assert "dby" not in plain.cli.commands

    # Precedence: flag > FLASK_DB_* > MIGRATE_* > init_app/Migrate argument.
    special.config["MIGRATE_DIRECTORY"] = str(tmp_path / "from-config")
    special.config["MIGRATE_RENDER_AS_BATCH"] = True
    with special.app_context():
        assert get_state().directory == str(tmp_path / "from-config")
        assert get_state().configure_args["render_as_batch"] is True
    monkeypatch.setenv("FLASK_DB_DIRECTORY", str(tmp_path / "from-env"))
    monkeypatch.setenv("FLASK_DB_RENDER_AS_BATCH", "no")
    with special.app_context():
        assert get_state().directory == str(tmp_path / "from-env")
        assert get_state().configure_args["render_as_batch"] is False
    run(special, "dby", "init")
    assert (tmp_path / "from-env" / "env.py").is_file()
    run(special, "dby", "init", "-d", str(tmp_path / "from-flag"))
    assert (tmp_path / "from-flag" / "env.py").is_file()
    assert not (tmp_path / "from-config").exists()

    monkeypatch.setenv("FLASK_DB_COMPARE_TYPE", "maybe")
    bad = run(special, "dby", "current", code=1).output
    assert bad == "Error: FLASK_DB_COMPARE_TYPE has an invalid value: expected true or false, got 'maybe'.\n"


def test_configure_callbacks_run_in_order_and_shape_the_command(
    app: Flask, tmp_path: Path
) -> None:
    migrate = app.extensions["migrate"].migrate
    order: list[str] = []

    @migrate.configure
    def name_files(config):  # type: ignore[no-untyped-def]
        order.append("first")
        config.set_main_option("file_template", "%%(rev)s_custom_%%(slug)s")
        return config

    @migrate.configure
    def check_first(config):  # type: ignore[no-untyped-def]
        order.append("second")
        assert config.get_main_option("file_template") == "%(rev)s_custom_%(slug)s"
        return config

    run(app, "db", "init")
    order.clear()
    run(app, "db", "revision", "-m", "hello", "--rev-id", "c1")
    assert order == ["first", "second"]
    assert (tmp_path / "migrations" / "versions" / "c1_custom_hello.py").is_file()
