"""``flask db upgrade-env``: from the env.py Flask-Migrate wrote to the thin one, safely."""

from __future__ import annotations

from pathlib import Path

from flask_migrate_projects import USER_MODEL, use_flask_migrate_folder
from project import Project
from race import write_revision


def test_an_unchanged_flask_migrate_env_py_is_replaced_and_kept(
    project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    folder = use_flask_migrate_folder(project, flask_migrate_folders["single"])
    project.write_app(USER_MODEL)
    old = (folder / "env.py").read_text()

    preview = project.db("upgrade-env", "--dry-run")
    assert "written by Flask-Migrate 4.0.5-4.1" in preview.stdout
    assert "+run_env()" in preview.stdout and "-def run_migrations_online():" in preview.stdout
    assert (folder / "env.py").read_text() == old and not (folder / "env.py.flask-migrate").exists()

    done = project.db("upgrade-env")
    assert "the old file is" in done.stdout
    assert (folder / "env.py.flask-migrate").read_text() == old
    assert "run_env()" in (folder / "env.py").read_text()
    write_revision(project, "r1", None, 'op.create_table("a", sa.Column("id", sa.Integer))')
    project.db("upgrade")
    assert project.version() == {"r1"}
    assert "nothing to do" in project.db("upgrade-env").stdout


def test_a_multidb_env_py_gets_the_multidb_template(
    sqlite_project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    folder = use_flask_migrate_folder(sqlite_project, flask_migrate_folders["multidb"])
    sqlite_project.write_app()
    sqlite_project.db("upgrade-env")
    assert "run_env(multidb=True)" in (folder / "env.py").read_text()


def test_an_edited_env_py_is_refused_unless_forced(
    sqlite_project: Project, flask_migrate_folders: dict[str, Path]
) -> None:
    folder = use_flask_migrate_folder(sqlite_project, flask_migrate_folders["single"])
    sqlite_project.write_app()
    env_py = folder / "env.py"
    edited = env_py.read_text().replace(
        "target_metadata=get_metadata(),",
        "target_metadata=get_metadata(),\n            include_object=skip_views,",
    ).replace(
        "def run_migrations_offline():",
        "def skip_views(*args):\n    return True\n\n\ndef run_migrations_offline():",
    )
    env_py.write_text(edited)

    refused = sqlite_project.db("upgrade-env", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    [line] = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert "it was edited" in line
    assert "function skip_views()" in line and "context.configure(include_object=...)" in line
    assert "--force" in line
    assert env_py.read_text() == edited and not (folder / "env.py.flask-migrate").exists()

    sqlite_project.db("upgrade-env", "--force")
    assert (folder / "env.py.flask-migrate").read_text() == edited
    assert "run_env()" in env_py.read_text()
