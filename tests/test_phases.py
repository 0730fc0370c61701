"""Two-phase deploys: the old release keeps serving between ``--phase pre`` and ``--phase post``.

The app file holds both releases' models; ``RELEASE=1`` or ``RELEASE=2``
picks one, so a test can run the old release's code and the new one's
against the same database between the phases, as a rolling deploy does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from project import Project

MODELS = """
if os.environ.get("RELEASE", "1") == "1":
    class Person(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80), nullable=False)
        nickname = db.Column(db.String(80))
else:
    class Person(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        full_name = db.Column(db.String(80), nullable=False)
        email = db.Column(db.String(80))
        age = db.Column(db.Integer, nullable=False, default=0)
"""

# Each release writes a row, changes a row it did not write, and reads everything.
RELEASE_CODE = '''
import json, os, sys
from app import create_app, db, Person

app = create_app()
with app.app_context():
    tag = sys.argv[1]
    if os.environ["RELEASE"] == "1":
        db.session.add(Person(name=f"old {tag}", nickname="n"))
        first = Person.query.order_by(Person.id).first()
        first.name = f"Ada renamed by old {tag}"
        db.session.commit()
        rows = [p.name for p in Person.query.order_by(Person.id)]
    else:
        db.session.add(Person(full_name=f"new {tag}", email="e@example.com", age=3))
        db.session.commit()
        rows = [p.full_name for p in Person.query.order_by(Person.id)]
    print(json.dumps(rows))
'''


def run_release(project: Project, release: int, tag: str) -> list[str]:
    """Run one release's code against the database; the names it reads come back, oldest first."""
    script = project.path / "release.py"
    script.write_text(textwrap.dedent(RELEASE_CODE))
    done = subprocess.run(
        [sys.executable, str(script), tag],
        cwd=project.path,
        env=project.env({"RELEASE": str(release)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"release {release} failed:\n{done.stderr}"
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def rows(project: Project, query: str) -> list[tuple[object, ...]]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def phase_line(path: object) -> str:
    (line,) = [line for line in open(str(path)).read().splitlines() if line.startswith("phase = ")]
    return line


def test_drop_and_rename_deploy_in_two_phases_with_the_old_release_serving(project: Project) -> None:
    project.write_app(models=MODELS)
    project.db("init")
    project.db("migrate", "-m", "people")
    project.db("upgrade")
    engine = project.engine()
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO person (name) VALUES ('Ada')"))
    engine.dispose()

    written = project.db(
        "migrate", "-m", "rename name", "--rename", "person.name:full_name", env={"RELEASE": "2"}
    )
    assert "Split into two revisions" in written.stderr
    pre = next(path for path in project.revision_files() if path.name.endswith("_rename_name.py"))
    post = next(path for path in project.revision_files() if "post_deploy" in path.name)
    assert phase_line(pre) == 'phase = "pre"' and phase_line(post) == 'phase = "post"'
    assert "[post]" in project.db("history").stdout

    applied = project.db("upgrade", "--phase", "pre")
    pre_id, post_id = pre.name.split("_")[0], post.name.split("_")[0]
    assert project.version() == {pre_id}
    assert f"Held back 1 revision of default for the post-deploy phase: {post_id}" in applied.stderr
    assert project.db("status", "--check", "--phase", "pre").returncode == 0
    assert project.db("status", "--check", check=False).returncode == 1
    assert set(project.columns("person")) >= {"name", "nickname", "full_name", "email", "age"}

    # Between the phases both releases serve, each reading and writing.
    old = run_release(project, 1, "between")
    assert old[0] == "Ada renamed by old between" and "old between" in old
    new = run_release(project, 2, "between")
    assert "new between" in new
    if project.backend == "postgresql":
        # The trigger keeps both columns in step for both releases.
        assert new[0] == "Ada renamed by old between"
        assert rows(project, "SELECT name FROM person WHERE full_name = 'new between'") == [
            ("new between",)
        ]
    assert run_release(project, 1, "again")[0] == "Ada renamed by old again"

    project.db("upgrade", "--phase", "post")
    assert project.version() == {post_id}
    assert set(project.columns("person")) == {"id", "full_name", "email", "age"}
    # What the old release wrote between the phases is under the new name.
    names = {name for (name,) in rows(project, "SELECT full_name FROM person")}
    assert {"old between", "old again", "new between"} <= names
    assert rows(project, "SELECT count(*) FROM person WHERE full_name IS NULL OR age IS NULL") == [(0,)]
    assert "new after" in run_release(project, 2, "after")

    project.db("downgrade", "-1")
    assert project.version() == {pre_id}
    assert set(project.columns("person")) >= {"name", "full_name"}


HISTORY = {
    "a1": (None, "pre", "op.create_table('one', sa.Column('id', sa.Integer, primary_key=True))"),
    "b2": ("a1", "post", "op.drop_table('one')"),
    "c3": ("b2", "pre", "op.create_table('three', sa.Column('id', sa.Integer, primary_key=True))"),
}


def write_revisions(project: Project, history: dict[str, tuple[object, str, str]]) -> None:
    for rev, (down, phase, body) in history.items():
        declared = f'phase = "{phase}"\n' if phase == "post" else ""
        (project.path / "migrations" / "versions" / f"{rev}_step.py").write_text(
            f'"""{rev} step"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n"
            f"{declared}\n\ndef upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
        )


def test_pre_phase_holds_back_a_post_revision_and_what_follows_it(project: Project) -> None:
    project.write_app()
    project.db("init")
    write_revisions(project, HISTORY)
    plan = project.db("upgrade", "--plan", "--phase", "pre").stdout
    assert "a1" in plan and "b2" not in plan
    assert "b2, b2 step [post]" in project.db("upgrade", "--plan").stdout
    linted = project.db("lint", check=False)
    assert linted.returncode == 1 and "c3_step.py:1 pre-after-post error" in linted.stdout
    ran = project.db("upgrade", "--phase", "pre")
    assert project.version() == {"a1"} and "one" in project.tables()
    assert "b2 (post: b2 step), c3 (after a post revision: c3 step)" in ran.stderr
    again = project.db("upgrade", "--phase", "pre", "--backup")
    assert project.version() == {"a1"} and "Backed up" not in again.stdout
    project.db("upgrade", "--phase", "post", "--backup")
    assert project.version() == {"c3"} and project.tables() >= {"three"} and "one" not in project.tables()


def test_each_database_stops_at_its_own_post_revision(bound_project: Project) -> None:
    project = bound_project
    project.write_app()
    project.db("init", "--multidb")
    project.db("revision", "-m", "first", "--rev-id", "m1")
    project.db("revision", "-m", "second", "--rev-id", "m2", "--post")
    project.db("revision", "-m", "third", "--rev-id", "m3")
    assert phase_line(project.revision_files()[1]) == 'phase = "post"'
    project.db("upgrade", "--phase", "pre")
    assert project.version() == {"m1"} and project.version("audit") == {"m1"}
    status = project.db("status", "--phase", "pre").stdout
    assert status.count("[held back] m2 [post]") == 2
    project.db("upgrade", "--phase", "post")
    assert project.version() == {"m3"} and project.version("audit") == {"m3"}


def test_branches_run_their_pre_revisions(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app()
    project.db("init")
    write_revisions(project, HISTORY)
    write_revisions(
        project, {"x9": (None, "pre", "op.create_table('other', sa.Column('id', sa.Integer))")}
    )
    project.db("upgrade", "heads", "--phase", "pre")
    assert project.version() == {"a1", "x9"}
    project.db("upgrade", "heads", "--phase", "post")
    assert project.version() == {"c3", "x9"}


def test_bad_phase_values_are_one_line(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_app()
    project.db("init")
    refused = project.db("upgrade", "--phase", "later", check=False)
    assert refused.returncode == 2 and "'later' is not one of 'pre', 'post'" in refused.stderr
    write_revisions(project, {"a1": (None, "pre", "pass")})
    path = project.path / "migrations" / "versions" / "a1_step.py"
    path.write_text(path.read_text().replace("depends_on = None\n", 'depends_on = None\nphase = "later"\n'))
    broken = project.db("upgrade", "--phase", "pre", check=False)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert "declares phase = 'later'" in broken.stderr


@pytest.mark.parametrize("split", [True, False])
def test_no_split_keeps_one_revision(sqlite_project: Project, split: bool) -> None:
    project = sqlite_project
    project.write_app(models=MODELS)
    project.db("init")
    project.db("migrate", "-m", "people")
    project.db("upgrade")
    args = ["migrate", "-m", "change", "--rename", "person.name:full_name"]
    project.db(*args, *([] if split else ["--no-split"]), env={"RELEASE": "2"})
    assert len(project.revision_files()) == (3 if split else 2)
