"""The Python API in-process: return values, exceptions, silence, no carried state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from core_support import make_app, quiet_loggers
from databases import fresh_database

import flask_schema
from flask_schema import FlaskSchemaError, RevisionError


def test_api_round_trip(backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One history built and walked through the API, with a user hook and extra options.

    Checks on the way: what each function returns; that nothing is printed;
    that a user's process_revision_directives runs on every autogenerate
    while an empty autogenerate still writes nothing (so no state from one
    command reaches the next); that ``version_table`` reaches
    ``context.configure`` online and in ``--sql`` mode; that SQLite always
    gets batch mode even when the app turned it off.
    """
    from alembic.script import Script

    calls: list[str] = []

    def name_revisions(context: Any, revision: Any, directives: list[Any]) -> None:
        calls.append("called")
        if directives:
            directives[0].rev_id = f"rev{len(calls)}"

    migrations = tmp_path / "migrations"
    options: dict[str, Any] = {
        "process_revision_directives": name_revisions,
        "version_table": "my_versions",
        "render_as_batch": False,
    }
    with fresh_database(backend, str(tmp_path)) as url, quiet_loggers():
        app, db, _ = make_app(url, migrations, **options)
        with app.app_context():
            assert flask_schema.init() == str(migrations)
            first = flask_schema.migrate(message="create user")
            assert isinstance(first, Script)
            assert first.revision == "rev1" and first.doc == "create user"
            assert Path(first.path).is_file()

            assert flask_schema.upgrade() == {None: ("rev1",)}
            assert flask_schema.migrate(message="nothing changed") is None
            assert calls == ["called", "called"]
            assert len(list((migrations / "versions").glob("*.py"))) == 1
            stored = app.extensions["migrate"].configure_args
            assert stored["process_revision_directives"] is name_revisions
            db.engine.dispose()

        app, db, _ = make_app(url, migrations, email=True, **options)
        with app.app_context():
            second = flask_schema.migrate(message="add email")
            assert second is not None and second.revision == "rev3"
            source = Path(second.path).read_text()
            if backend == "sqlite":
                assert "batch_alter_table" in source
            else:
                assert "batch_alter_table" not in source
                assert re.search(r"op\.add_column\(\s*['\"]user['\"]", source)

            sql = flask_schema.upgrade(sql=True, revision="rev1:rev3")
            assert isinstance(sql, str) and "my_versions" in sql and "email" in sql
            assert flask_schema.current() == {None: ("rev1",)}

            with pytest.raises(RevisionError, match="not at the head"):
                flask_schema.current(check_heads=True)
            assert flask_schema.upgrade() == {None: ("rev3",)}
            assert flask_schema.current(check_heads=True) == {None: ("rev3",)}
            assert [script.revision for script in flask_schema.heads()] == ["rev3"]
            assert [script.revision for script in flask_schema.history()] == ["rev3", "rev1"]
            assert [s.revision for s in flask_schema.show(revision="current")] == ["rev3"]

            assert flask_schema.downgrade() == {None: ("rev1",)}
            assert flask_schema.stamp(revision="rev3") == {None: ("rev3",)}
            assert flask_schema.stamp(revision="rev1") == {None: ("rev1",)}
            assert flask_schema.downgrade(revision="base") == {None: ()}

            with pytest.raises(RevisionError, match="nope"):
                flask_schema.upgrade(revision="nope")
            with pytest.raises(FlaskSchemaError):
                flask_schema.downgrade(revision="-5")
            db.engine.dispose()

        engine = sa.create_engine(url)
        tables = set(sa.inspect(engine).get_table_names())
        engine.dispose()
        assert "my_versions" in tables and "alembic_version" not in tables

    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_caller_supplied_connection_is_used(backend: str, tmp_path: Path) -> None:
    """``config.attributes["connection"]`` (Alembic's cookbook recipe) is the one migrated on."""
    from alembic import command

    migrations = tmp_path / "migrations"
    with fresh_database(backend, str(tmp_path)) as url, quiet_loggers():
        app, db, migrate = make_app(url, migrations)
        with app.app_context():
            flask_schema.init()
            flask_schema.migrate(message="create user")
            engine = sa.create_engine(url)
            seen: list[str] = []
            with engine.begin() as connection:
                sa.event.listen(
                    connection,
                    "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: seen.append(statement),
                )
                config = migrate.get_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            engine.dispose()
            db.engine.dispose()
    assert any("CREATE TABLE" in statement and "user" in statement for statement in seen)
    assert any("my_versions" in s or "alembic_version" in s for s in seen)


@pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")
def test_flask_migrate_env_in_process_carries_no_state(backend: str, tmp_path: Path) -> None:
    """Flask-Migrate's own env.py stores its hook in ``configure_args``.

    With a shared dict, the hook made by one command (bound to that command's
    config) would be reused by the next one in the same process. Here an
    ``upgrade`` runs first, then an empty ``migrate`` must still write nothing.
    """
    import flask_migrate

    template = Path(flask_migrate.__file__).parent / "templates" / "flask" / "env.py"
    migrations = tmp_path / "migrations"
    with fresh_database(backend, str(tmp_path)) as url, quiet_loggers():
        app, db, _ = make_app(url, migrations)
        with app.app_context():
            flask_schema.init()
            (migrations / "env.py").write_text(template.read_text())
            assert flask_schema.upgrade() == {None: ()}
            assert "process_revision_directives" not in app.extensions["migrate"].configure_args
            first = flask_schema.migrate(message="create user")
            assert first is not None
            assert flask_schema.upgrade() == {None: (first.revision,)}
            assert flask_schema.migrate(message="nothing") is None
            assert len(list((migrations / "versions").glob("*.py"))) == 1
            db.engine.dispose()


def test_x_arg_as_a_string_is_one_value(tmp_path: Path) -> None:
    """Flask-Migrate's ``upgrade(x_arg="key=value")`` passes one -x value, not letters.

    Offline (``sql=True``), so no database is touched.
    """
    seen: list[list[str]] = []
    migrations = tmp_path / "migrations"
    with fresh_database("sqlite", str(tmp_path)) as url, quiet_loggers():
        app, _, migrate = make_app(url, migrations)

        @migrate.configure
        def record(config: Any) -> Any:
            seen.append(list(config.cmd_opts.x))
            return config

        with app.app_context():
            flask_schema.init()
            flask_schema.upgrade(sql=True, x_arg="key=value")
            flask_schema.upgrade(sql=True, x_arg=["a=1", "b=2"])
    assert seen[-2:] == [["key=value"], ["a=1", "b=2"]]
