"""The code and commands the docs show, run as a reader would run them.

Each page includes its examples from docs/examples/ (``literalinclude``);
these tests copy those files into a project folder and run the shell scripts
with bash, so every ``flask db`` command on a page is a real subprocess
against a real database.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from project import FLASK, REPO_ROOT, Project

DOCS = REPO_ROOT / "docs"
EXAMPLES = DOCS / "examples"


def run_script(project: Project, script: Path, env: dict[str, str] | None = None) -> str:
    """Run a docs shell script in the project folder; return its stdout."""
    extra = {"PATH": os.pathsep.join([str(Path(FLASK).parent), os.environ.get("PATH", "")])}
    extra.update(env or {})
    full_env = project.env(extra)
    if "FLASK_APP" not in extra:
        del full_env["FLASK_APP"]  # the script must say which app, as the page does
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", str(script)],
        cwd=project.path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def head_of(project: Project, directory: str = "migrations") -> str:
    (revision,) = project.revision_files(directory)
    match = re.search(r"^revision = ['\"](\w+)['\"]", revision.read_text(), re.M)
    assert match is not None
    return match.group(1)


def test_quickstart_and_offline_sql(project: Project) -> None:
    shutil.copy(EXAMPLES / "quickstart" / "app.py", project.path)
    out = run_script(project, EXAMPLES / "quickstart" / "quickstart.sh")
    head = head_of(project)
    assert "user" in project.tables()
    assert project.version() == {head}
    assert f"{head} (head)" in out

    # The offline page continues the quickstart's shell session.
    run_script(project, EXAMPLES / "quickstart" / "offline.sh", {"FLASK_APP": "app.py"})
    upgrade_sql = (project.path / "upgrade.sql").read_text()
    downgrade_sql = (project.path / "downgrade.sql").read_text()
    assert re.search(r"CREATE TABLE [`\"]?user", upgrade_sql)
    assert f"INSERT INTO alembic_version (version_num) VALUES ('{head}')" in upgrade_sql
    assert re.search(r"DROP TABLE [`\"]?user", downgrade_sql)
    assert f"DELETE FROM alembic_version WHERE alembic_version.version_num = '{head}'" in downgrade_sql
    # --sql only writes SQL: the database is as the upgrade left it.
    assert "user" in project.tables() and project.version() == {head}


def test_app_factory(sqlite_project: Project) -> None:
    # SQLite only: the factory changes how the app is found, not what the
    # commands do to a database (test_quickstart_and_offline_sql covers that).
    project = sqlite_project
    shutil.copytree(EXAMPLES / "factory" / "myapp", project.path / "myapp")
    run_script(project, EXAMPLES / "factory" / "factory.sh")
    assert project.columns("user") == ["id", "name", "email"]
    assert project.version() == {head_of(project)}


def test_multiple_databases(project: Project, tmp_path: Path) -> None:
    from databases import fresh_database

    shutil.copy(EXAMPLES / "multidb" / "app.py", project.path)
    (tmp_path / "analytics").mkdir()
    with fresh_database(project.backend, str(tmp_path / "analytics")) as analytics:
        project.binds["analytics"] = analytics
        url = analytics.render_as_string(hide_password=False)
        out = run_script(project, EXAMPLES / "multidb" / "multidb.sh", {"ANALYTICS_DATABASE_URL": url})
        head = head_of(project)
        assert "user" in project.tables() and "event" not in project.tables()
        assert "event" in project.tables("analytics") and "user" not in project.tables("analytics")
        assert project.version() == {head} and project.version("analytics") == {head}
        assert f"default: {head} (head)" in out and f"analytics: {head} (head)" in out


def test_plain_sqlalchemy_two_databases(project: Project, tmp_path: Path) -> None:
    from databases import fresh_database

    shutil.copy(EXAMPLES / "plain" / "app.py", project.path)
    (tmp_path / "stats").mkdir()
    with fresh_database(project.backend, str(tmp_path / "stats")) as stats:
        project.binds["stats"] = stats
        url = stats.render_as_string(hide_password=False)
        out = run_script(project, EXAMPLES / "plain" / "plain.sh", {"STATS_DATABASE_URL": url})
        head = head_of(project)
        assert f"Database stats: at base\n  [pending] {head}  person and views" in out
        assert project.tables() == {"alembic_version", "person"}
        assert project.tables("stats") == {"alembic_version", "page_view"}
        assert f"default: {head} (head)\nstats: {head} (head)" in out


def apply_diff(path: Path, diff: Path) -> None:
    """Apply a one-hunk diff of replaced lines, as the reader does by hand."""
    lines = diff.read_text().splitlines()
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    source = path.read_text()
    for old, new in zip(removed, added):
        assert source.count(old + "\n") == 1, f"{old!r} is not a line of {path.name}"
        source = source.replace(old + "\n", new + "\n")
    path.write_text(source)


def test_moving_from_flask_migrate(project: Project) -> None:
    folder = EXAMPLES / "flask_migrate"
    shutil.copy(folder / "app.py", project.path)
    # The project as Flask-Migrate made it.
    env = {"FLASK_APP": "app.py"}
    project.db("init", env=env)
    project.db("migrate", "-m", "create user table", env=env)
    project.db("upgrade", env=env)
    env_py = (project.path / "migrations" / "env.py").read_text()
    assert "get_engine" in env_py  # Flask-Migrate's env.py, not ours
    head = head_of(project)

    apply_diff(project.path / "app.py", folder / "switch.diff")
    assert "from flask_schema import Migrate" in (project.path / "app.py").read_text()
    out = run_script(project, folder / "after.sh")
    assert f"{head} (head)" in out
    assert "No new upgrade operations detected." in out
    assert (project.path / "migrations" / "env.py").read_text() == env_py
    assert project.version() == {head}


def test_custom_template(sqlite_project: Project) -> None:
    # SQLite only: a template changes the files init and migrate write; its
    # env.py is the standard run_env(), exercised on every backend elsewhere.
    project = sqlite_project
    shutil.copy(EXAMPLES / "quickstart" / "app.py", project.path)
    shutil.copytree(EXAMPLES / "custom_template" / "company", project.path / "company")
    out = run_script(project, EXAMPLES / "custom_template" / "templates.sh")
    assert "flask - " in out and "flask-multidb - " in out
    (revision,) = project.revision_files()
    assert re.fullmatch(r"\d{8}_\w+_create_user_table\.py", revision.name)
    text = revision.read_text()
    assert "Reviewed-by:" in text
    assert re.search(r"op\.create_table\(\s*['\"]user['\"]", text)
    assert "user" in project.tables()
    assert project.version() == {head_of(project)}


def first_error_line(result: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("Error:"))


def test_troubleshooting_quotes_real_messages(sqlite_project: Project) -> None:
    """Each message the troubleshooting page explains, produced for real."""
    page = (DOCS / "troubleshooting.rst").read_text()
    project = sqlite_project
    shutil.copy(EXAMPLES / "quickstart" / "app.py", project.path)
    env = {"FLASK_APP": "app.py"}

    def quoted(message: str) -> None:
        assert message in page, f"troubleshooting.rst does not quote: {message}"

    missing = project.db("upgrade", env=env, check=False)
    assert missing.returncode == 1
    quoted(first_error_line(missing))

    project.db("init", env=env)
    project.db("migrate", env=env)
    behind = project.db("migrate", env=env, check=False)
    assert behind.returncode == 1
    quoted(first_error_line(behind))

    not_at_head = project.db("current", "--check-heads", env=env, check=False)
    assert not_at_head.returncode == 1
    quoted(first_error_line(not_at_head))

    project.db("upgrade", env=env)
    nothing = project.db("migrate", env=env)
    quoted(nothing.stderr.strip().splitlines()[-1])

    bad_setting = project.db("check", env={**env, "FLASK_DB_COMPARE_TYPE": "maybe"}, check=False)
    assert bad_setting.returncode == 1
    quoted(first_error_line(bad_setting))

    refused = project.db(
        "current", env={**env, "DATABASE_URL": "postgresql://u:s3cret@127.0.0.1:1/x"}, check=False
    )
    assert refused.returncode == 1 and "s3cret" not in refused.stderr
    quoted(first_error_line(refused).split(": connection failed")[0])

    project.db("revision", "-m", "other branch", "--head", "base", "--splice", env=env)
    heads = project.db("upgrade", env=env, check=False)
    assert heads.returncode == 1
    quoted(first_error_line(heads).split(";")[0])

    # The page's way out: merge the heads, then upgrade.
    out = run_script(project, EXAMPLES / "troubleshooting" / "merge-heads.sh")
    assert len([line for line in out.splitlines() if line.endswith("(head)")]) == 2
    merge = re.search(r"versions/(\w+?)_merge_heads\.py \.\.\.  done", out)
    assert merge is not None
    assert project.version() == {merge.group(1)}
    assert len(project.revision_files()) == 3


DEPLOY = EXAMPLES / "deploy"
UPGRADE = ["flask", "db", "upgrade"]


def test_deploy_recipes_run_the_tested_upgrade_command() -> None:
    """Each recipe runs exactly `flask db upgrade` for the example app.

    The entrypoint script is run for real in test_example_app.py; the other
    recipes need Kubernetes, a release-phase platform or systemd, so this
    checks the command line each one runs and the app it names.
    """
    procfile = dict(line.split(":", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line)
    assert procfile["release"].split() == UPGRADE

    job = (DEPLOY / "migrate-job.yaml").read_text()
    (command,) = re.findall(r"^\s+command: (\[.*\])$", job, re.M)
    assert json.loads(command) == UPGRADE
    assert re.search(r"name: FLASK_APP\n\s+value: blog:create_app$", job, re.M)

    deployment = (DEPLOY / "deployment.yaml").read_text()
    (init_command,) = re.findall(r"^\s+command: (\[.*upgrade.*\])$", deployment, re.M)
    assert json.loads(init_command) == UPGRADE
    (probe,) = re.findall(r"^\s+command: (\[.*status.*\])$", deployment, re.M)
    assert json.loads(probe) == ["flask", "db", "status", "--check"]
    assert re.search(r"name: FLASK_APP\n\s+value: blog:create_app$", deployment, re.M)

    unit = (DEPLOY / "blog.service").read_text()
    (pre,) = re.findall(r"^ExecStartPre=(.*)$", unit, re.M)
    assert [Path(pre.split()[0]).name, *pre.split()[1:]] == UPGRADE
    assert "Environment=FLASK_APP=blog:create_app" in unit.splitlines()

    entrypoint = (REPO_ROOT / "example_app" / "docker-entrypoint.sh").read_text()
    assert "flask db upgrade" in entrypoint.splitlines()


def test_configuration_page_covers_every_migrate_argument() -> None:
    """Options are generated from OPTIONS; the rest of Migrate's signature is prose."""
    from flask_schema import Migrate
    from flask_schema.settings import OPTIONS

    page = (DOCS / "configuration.rst").read_text()
    assert ".. flask-schema-options::" in page
    for name in inspect.signature(Migrate.__init__).parameters:
        if name in {"self", "kwargs"} or name in OPTIONS:
            continue
        assert f"``{name}``" in page, f"configuration.rst does not describe Migrate({name}=...)"


def test_configure_callback_example(tmp_path: Path) -> None:
    """The configuration page's ``@migrate.configure`` example changes the Alembic config."""
    import runpy

    module = runpy.run_path(str(EXAMPLES / "configure" / "app.py"))
    app, migrate = module["app"], module["migrate"]
    with app.app_context():
        config = migrate.get_config(str(tmp_path / "migrations"))
    # ConfigParser reads the doubled %% back as single ones.
    assert config.get_main_option("file_template") == "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"


def test_api_page_documents_every_export() -> None:
    """A name added to flask_schema.__all__ must get an entry on the API page."""
    import flask_schema

    page = (DOCS / "api.rst").read_text()
    directive = r"^\.\. (?:autoclass|autofunction|autoexception|py:data):: flask_schema\.(\w+)$"
    documented = set(re.findall(directive, page, re.M))
    assert set(flask_schema.__all__) - documented == set()


def test_backup_page(sqlite_project: Project) -> None:
    project = sqlite_project
    shutil.copy(EXAMPLES / "quickstart" / "app.py", project.path)
    run_script(project, EXAMPLES / "quickstart" / "quickstart.sh")
    project.db("downgrade", "base", env={"FLASK_APP": "app.py"})
    out = run_script(project, EXAMPLES / "backup" / "backup.sh")
    assert "Backed up database default (revision base)" in out
    assert "Restore it with: flask db restore " in out
    listing = out.split("Restore it with:")[1]
    assert "DATABASE" in listing and "default" in listing
    assert project.version() == {head_of(project)}


def test_safety_page_lint_example(sqlite_project: Project) -> None:
    project = sqlite_project
    shutil.copy(EXAMPLES / "quickstart" / "app.py", project.path)
    run_script(project, EXAMPLES / "quickstart" / "quickstart.sh")
    head = head_of(project)
    versions = project.path / "migrations" / "versions"

    def use(example: str) -> subprocess.CompletedProcess[str]:
        source = (EXAMPLES / "lint" / example).read_text().replace('"0001"', repr(head))
        (versions / "5e1f0a9b7c21_add_email.py").write_text(source)
        return subprocess.run(
            ["bash", str(EXAMPLES / "lint" / "lint.sh")],
            cwd=project.path,
            env=project.env({"PATH": os.pathsep.join([str(Path(FLASK).parent), os.environ["PATH"]])}),
            capture_output=True,
            text=True,
            timeout=120,
        )

    unsafe = use("add_email.py")
    assert unsafe.returncode == 1, unsafe.stdout + unsafe.stderr
    assert "add-not-null-column" in unsafe.stdout and "index-not-concurrent" in unsafe.stdout
    safe = use("add_email_safely.py")
    assert safe.returncode == 0, safe.stdout + safe.stderr
    assert "error" not in safe.stdout


TWO_PHASE = DEPLOY / "two-phase"


def _phased_history(project: Project) -> tuple[str, str]:
    """A project with one pre and one post revision, neither applied; their ids."""
    project.write_app()
    project.db("init")
    project.db("revision", "-m", "expand", "--rev-id", "e1")
    project.db("revision", "-m", "contract", "--rev-id", "c2", "--post")
    return "e1", "c2"


def test_two_phase_deploy_script(sqlite_project: Project) -> None:
    """The container recipe: pre, the gate, the rollout (here: look at the database), post."""
    project = sqlite_project
    pre, post = _phased_history(project)
    out = run_script(
        project, TWO_PHASE / "deploy.sh", env={"ROLL_OUT": "flask db current", "FLASK_APP": "app:create_app"}
    )
    # The rollout step ran between the phases, with only the pre revision applied.
    assert re.search(rf"^{pre}$", out, re.M), out
    assert project.version() == {post}


def _command_of(job: Path) -> list[str]:
    (command,) = re.findall(r"^\s+command: (\[.*\])$", job.read_text(), re.M)
    return list(json.loads(command))


def test_two_phase_kubernetes_jobs_and_release_phase(sqlite_project: Project) -> None:
    """Run each Job's and the Procfile's command as the platform would, in order."""
    project = sqlite_project
    pre, post = _phased_history(project)
    pre_job = TWO_PHASE / "pre-deploy-job.yaml"
    assert 'helm.sh/hook": pre-install,pre-upgrade' in pre_job.read_text()
    command = _command_of(pre_job)
    assert command[0] == "flask"
    project.flask(*command[1:])
    assert project.version() == {pre}
    project.db("status", "--check", "--phase", "pre")
    project.flask(*_command_of(TWO_PHASE / "post-deploy-job.yaml")[1:])
    assert project.version() == {post}

    project.db("downgrade", "base")
    procfile = dict(line.split(":", 1) for line in (TWO_PHASE / "Procfile").read_text().splitlines() if line)
    release = procfile["release"].split()
    assert release[0] == "flask"
    project.flask(*release[1:])
    assert project.version() == {pre}
    (remote,) = [
        line for line in (TWO_PHASE / "post-release.sh").read_text().splitlines() if "heroku run" in line
    ]
    after_dashes = remote.split(" -- ", 1)[1].split()
    assert after_dashes[0] == "flask"
    project.flask(*after_dashes[1:])
    assert project.version() == {post}
