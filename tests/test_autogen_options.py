"""Autogenerate settings from config keys: ignored tables, server defaults, dry run, formatting."""

from __future__ import annotations

import sqlalchemy as sa
from project import Project

from flask_schema.autogen_options import autogenerate_options
from flask_schema.formatting import formatter_command

USER = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), server_default="{default}")
"""


def test_ignored_tables_server_defaults_dry_run_and_formatting(project: Project) -> None:
    metadata = sa.MetaData()
    sa.Table("spatial_ref_sys", metadata, sa.Column("srid", sa.Integer, primary_key=True))
    sa.Table("tmp_cache", metadata, sa.Column("key", sa.String(20), primary_key=True))
    engine = project.engine()
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    env = {"FLASK_DB_IGNORE_TABLES": "spatial_ref_sys, tmp_*"}
    project.write_app(USER.format(default="anon"))
    project.db("init")

    preview = project.db("migrate", "-m", "users", "--dry-run", env=env)
    assert "def upgrade():" in preview.stdout and "op.drop_table(\"user\")" in preview.stdout
    assert "tmp_cache" not in preview.stdout and "spatial_ref_sys" not in preview.stdout
    assert project.revision_files() == []

    project.db("migrate", "-m", "users", env=env)
    (written,) = project.revision_files()
    assert 'op.create_table(\n        "user",' in written.read_text()  # ruff formatted it
    project.db("upgrade", env=env)

    # A changed server default is found without any setting.
    project.write_app(USER.format(default="nobody"))
    project.db("migrate", "-m", "default", env={**env, "FLASK_DB_FORMAT_REVISIONS": "none"})
    (changed,) = [path for path in project.revision_files() if "default" in path.name]
    text = changed.read_text()
    assert "server_default='nobody'" in text or "server_default=sa.text(\"'nobody'\")" in text
    assert "op.batch_alter_table('user'" in text  # left as autogenerate wrote it


def test_formatter_command_settings() -> None:
    assert formatter_command("none", "r.py") is None
    assert formatter_command("black -q", "r.py") == ["black", "-q", "r.py"]
    assert formatter_command("fmt {path} --check", "r.py") == ["fmt", "r.py", "--check"]
    auto = formatter_command("auto", "r.py")
    assert auto is not None and auto[1:] == ["format", "--quiet", "r.py"]


def test_options_from_config_keys() -> None:
    user_hook_calls: list[str] = []

    def user_hook(name: object, type_: str, parents: object) -> bool:
        user_hook_calls.append(str(name))
        return name != "secret"

    options: dict[str, object] = {"include_name": user_hook}
    autogenerate_options(
        {"MIGRATE_SCHEMAS": "billing, audit", "MIGRATE_COMPARE_SERVER_DEFAULT": "false"}, options
    )
    assert options["compare_server_default"] is False and options["include_schemas"] is True
    include = options["include_name"]
    assert callable(include)
    assert include("spatial_ref_sys", "table", {}) is False  # ignored by default
    assert include("billing", "schema", {}) is True
    assert include("scratch", "schema", {}) is False
    assert include(None, "schema", {}) is True  # the default schema
    assert include("secret", "table", {}) is False and "secret" in user_hook_calls

    plain: dict[str, object] = {}
    autogenerate_options({"MIGRATE_IGNORE_TABLES": ""}, plain)
    assert plain == {"compare_server_default": True}
