"""Revisions read from file headers are exactly what Alembic's import gives.

The fast loader must never change an answer: the same revisions, parents,
labels, docstrings, heads and order as Alembic's own ``ScriptDirectory``,
with files it cannot trust imported the usual way.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from databases import fresh_database
from project import Project

from flask_schema import revision_headers
from flask_schema.revision_headers import CACHE_FORMAT, CACHE_NAME, read_header, use_headers

TEMPLATE = '''\
"""{doc}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-01-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

# A history with a branch point, a branch label, a dependency, a merge and
# a file whose header is computed (so it must be imported).
HISTORY = [
    # (file, revision, down_revision, branch_labels, depends_on, docstring)
    ("a1_start.py", "a1", None, None, None, "start: create the log"),
    ("b2_second.py", "b2", "a1", None, None, "second step\n\nWith a longer text, and unicode: café."),
    ("c3_left.py", "c3", "b2", ("side",), None, "left branch"),
    ("c4_right.py", "c4", "b2", None, ("c3",), "right branch, needs left"),
    ("d5_merge.py", "d5", ("c3", "c4"), None, None, "merge"),
]
COMPUTED = '''\
"""head, with a computed parent"""
from alembic import op
import sqlalchemy as sa

revision = "e6"
down_revision = "".join(["d", "5"])
branch_labels = None
depends_on = None


def upgrade():
    log("e6", "up")


def downgrade():
    log("e6", "down")


def log(rev, way):
    op.execute(sa.text("INSERT INTO run_log (rev, way) VALUES (:rev, :way)").bindparams(rev=rev, way=way))
'''

LOG = (
    '    op.execute(sa.text("INSERT INTO run_log (rev, way) VALUES (:r, :w)")'
    ".bindparams(r={rev!r}, w={way!r}))"
)
CREATE_LOG = """\
    op.create_table('run_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rev', sa.String(length=20), nullable=False),
    sa.Column('way', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id'))
"""


def write_history(versions: Path) -> None:
    versions.mkdir(parents=True, exist_ok=True)
    for name, rev, down, labels, depends, doc in HISTORY:
        upgrade = LOG.format(rev=rev, way="up")
        downgrade = LOG.format(rev=rev, way="down")
        if rev == "a1":
            upgrade = CREATE_LOG + "\n" + upgrade
            downgrade = "    op.drop_table('run_log')"
        (versions / name).write_text(
            TEMPLATE.format(doc=doc, rev=rev, down=down, labels=labels, depends=depends,
                            upgrade=upgrade, downgrade=downgrade),
            encoding="utf-8",
        )
    (versions / "e6_head.py").write_text(COMPUTED)


@pytest.fixture
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is written where Python would write bytecode, and only then."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def describe(script_directory: object) -> list[tuple[object, ...]]:
    """Everything the commands print or decide, for every revision."""
    script = script_directory
    found: list[tuple[object, ...]] = [
        ("heads", tuple(script.get_heads())),  # type: ignore[attr-defined]
        ("bases", tuple(script.get_bases())),  # type: ignore[attr-defined]
        ("upgrade order", tuple(step.revision.revision  # type: ignore[attr-defined]
                                for step in script._upgrade_revs("heads", ()))),
    ]
    for rev in script.walk_revisions():  # type: ignore[attr-defined]
        found.append((
            rev.revision, rev.down_revision, rev.branch_labels, rev.dependencies,
            tuple(sorted(rev.nextrev)), rev.doc, rev.longdoc, rev.log_entry, str(rev),
            rev.cmd_format(False, include_branches=True, include_doc=True, include_parents=True),
            rev.is_head, rev.is_base, rev.is_branch_point, rev.is_merge_point, rev.path,
        ))
    return found


def test_headers_match_alembic_import(tmp_path: Path, writes_bytecode: None) -> None:
    from alembic.script import ScriptDirectory

    write_history(tmp_path / "versions")
    expected = describe(ScriptDirectory(str(tmp_path)))
    fast = use_headers(ScriptDirectory(str(tmp_path)))
    assert describe(fast) == expected
    lazy = use_headers(ScriptDirectory(str(tmp_path)))
    lazy.get_heads()
    modules = {rev.revision: rev.module for rev in lazy.walk_revisions()}
    # Header-read modules are not imported until a migration needs them ...
    assert isinstance(modules["b2"], revision_headers.RevisionModule)
    assert vars(modules["b2"])["_flask_schema_loaded"] is None
    assert callable(modules["b2"].upgrade)
    assert vars(modules["b2"])["_flask_schema_loaded"] is not None
    # ... and the computed header was imported the usual way.
    assert not isinstance(modules["e6"], revision_headers.RevisionModule)

    # A second run is served from the cache and gives the same answers.
    cache = tmp_path / "versions" / "__pycache__" / CACHE_NAME
    stored = json.loads(cache.read_text())
    assert set(stored["files"]) == {name for name, *_ in HISTORY} | {"e6_head.py"}
    assert stored["files"]["e6_head.py"][2] is None
    assert describe(use_headers(ScriptDirectory(str(tmp_path)))) == expected


def test_cache_follows_file_changes(tmp_path: Path, writes_bytecode: None) -> None:
    from alembic.script import ScriptDirectory

    write_history(tmp_path / "versions")
    assert use_headers(ScriptDirectory(str(tmp_path))).get_heads() == ["e6"]
    # A new head, an edited docstring and a removed file are all seen.
    (tmp_path / "versions" / "f7_new.py").write_text(
        TEMPLATE.format(doc="newer", rev="f7", down="e6", labels=None, depends=None,
                        upgrade="    pass", downgrade="    pass")
    )
    b2 = tmp_path / "versions" / "b2_second.py"
    b2.write_text(b2.read_text(encoding="utf-8").replace("second step", "2nd step, edited"), encoding="utf-8")
    fast = use_headers(ScriptDirectory(str(tmp_path)))
    assert fast.get_heads() == ["f7"]
    assert fast.get_revision("b2").doc == "2nd step, edited"
    (tmp_path / "versions" / "f7_new.py").unlink()
    assert use_headers(ScriptDirectory(str(tmp_path))).get_heads() == ["e6"]
    stored = json.loads((tmp_path / "versions" / "__pycache__" / CACHE_NAME).read_text())
    assert "f7_new.py" not in stored["files"]
    # A damaged cache is ignored and rewritten.
    (tmp_path / "versions" / "__pycache__" / CACHE_NAME).write_text("{not json")
    assert describe(use_headers(ScriptDirectory(str(tmp_path)))) == describe(ScriptDirectory(str(tmp_path)))
    stored = json.loads((tmp_path / "versions" / "__pycache__" / CACHE_NAME).read_text())
    assert stored["format"] == CACHE_FORMAT
    assert not [p for p in (tmp_path / "versions" / "__pycache__").iterdir() if p.name.startswith(".")]


def test_no_cache_without_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic.script import ScriptDirectory

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    write_history(tmp_path / "versions")
    assert describe(use_headers(ScriptDirectory(str(tmp_path)))) == describe(ScriptDirectory(str(tmp_path)))
    assert not (tmp_path / "versions" / "__pycache__" / CACHE_NAME).exists()


def test_generated_revision_files_are_read_from_headers(tmp_path: Path) -> None:
    """The files flask_schema's own template writes take the fast path."""
    from alembic.script import ScriptDirectory

    shutil.copy(
        Path(revision_headers.__file__).parent / "templates" / "flask" / "script.py.mako", tmp_path
    )
    script = ScriptDirectory(str(tmp_path))
    first = script.generate_revision("aaaa", "first", head="base", refresh=True)
    script.generate_revision("bbbb", "second one", head="aaaa", refresh=True, branch_labels=["x"])
    assert first is not None
    for path in sorted((tmp_path / "versions").glob("*.py")):
        assert read_header(path.read_bytes()) is not None, path.read_text()
    assert describe(use_headers(ScriptDirectory(str(tmp_path)))) == describe(ScriptDirectory(str(tmp_path)))


HEADER = '''"""doc"""
revision = "abc"
down_revision = None
'''


@pytest.mark.parametrize(
    "source",
    [
        HEADER + "revision = 'other'\n",                       # assigned twice
        HEADER.replace('"abc"', 'make_id()'),                  # computed
        HEADER + "\nif True:\n    down_revision = 'x'\n",      # module-level code
        HEADER + "\ndef upgrade():\n    global revision\n",    # rebinding from a function
        HEADER + "\ndef upgrade():\n    pass\nprint('imported')\n",  # code after the defs
        HEADER + "from somewhere import *\n",                  # star import
        HEADER + "\n@register\ndef upgrade():\n    pass\n",   # decorator runs at import
        HEADER + "\nclass Helper:\n    pass\n",               # class body runs at import
        HEADER + "branch_labels = {'a'}\n",                    # not a string or tuple of strings
        '# -*- coding: latin-1 -*-\n' + HEADER,                # another encoding
        '"""unterminated\ndef upgrade():\n    pass\n',        # no header to read
        HEADER.replace("revision = ", "revsion = ", 1),        # no revision at all
    ],
)
def test_untrusted_headers_are_left_to_alembic(source: str) -> None:
    assert read_header(source.encode("latin-1")) is None


def test_plain_header_values() -> None:
    found = read_header(
        (HEADER.replace("None", "('p', 'q')") + 'branch_labels = ["l"]\ndepends_on: str = "z"\n'
         "\n\ndef upgrade():\n    op.f('ix_revisions_name')\n").encode()
    )
    assert found == {"doc": "doc", "revision": "abc", "down_revision": ("p", "q"),
                     "branch_labels": ["l"], "depends_on": "z"}


def _run_log(project: Project) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    engine = project.engine()
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT rev, way FROM run_log ORDER BY id"))
            return [(row[0], row[1]) for row in rows]
    finally:
        engine.dispose()


def test_same_runs_and_answers_as_flask_migrate(project: Project, tmp_path: Path) -> None:
    """flask_schema and Flask-Migrate (plain Alembic) on one branching history.

    Each tool has its own database; the revisions log each step they run, so
    the order of the migrations is compared as well as the commands' output.
    """
    project.write_app()
    project.write_app(name="app_fm.py", import_line="from flask_migrate import Migrate")
    project.db("init")
    fm_env = {"FLASK_APP": "app_fm:create_app"}
    other_dir = tmp_path / "other-db"
    other_dir.mkdir()
    with fresh_database(project.backend, str(other_dir)) as other_url:
        fm_env["DATABASE_URL"] = other_url.render_as_string(hide_password=False)
        project.db("-d", "migrations_fm", "init", env=fm_env)
        for folder in ("migrations", "migrations_fm"):
            write_history(project.path / folder / "versions")

        def both(*args: str) -> tuple[str, str]:
            ours = project.db(*args).stdout
            theirs = project.db("-d", "migrations_fm", *args, env=fm_env).stdout
            return ours, theirs.replace("migrations_fm", "migrations")

        both("upgrade", "c3")
        ours, theirs = both("current")
        assert ours == theirs and ours.split()[0] == "c3"
        both("upgrade", "heads")
        for command in (("current",), ("heads",), ("history",)):
            ours, theirs = both(*command)
            assert ours == theirs, command
            if command == ("current",):
                assert ours.strip() == "e6 (head)"
        ran = _run_log(project)
        assert [rev for rev, _ in ran] == ["a1", "b2", "c3", "c4", "d5", "e6"]
        fm_project = Project(project.path, other_url, project.backend)
        assert _run_log(fm_project) == ran
        assert fm_project.version() == project.version() == {"e6"}

        both("downgrade", "b2")
        assert _run_log(fm_project) == _run_log(project)
        assert [rev for rev, way in _run_log(project) if way == "down"] == ["e6", "d5", "c4", "c3"]


def test_history_length_does_not_import_revisions(sqlite_project: Project) -> None:
    """current and heads read no revision module: none is compiled to bytecode."""
    sqlite_project.write_app()
    sqlite_project.db("init")
    write_history(sqlite_project.path / "migrations" / "versions")
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    sqlite_project.db("stamp", "heads", env=env)
    shutil.rmtree(sqlite_project.path / "migrations" / "versions" / "__pycache__")
    assert sqlite_project.db("current", env=env).stdout.strip() == "e6 (head)"
    assert sqlite_project.db("heads", env=env).stdout.strip() == "e6 (side) (head)"
    cached = sorted(os.listdir(sqlite_project.path / "migrations" / "versions" / "__pycache__"))
    # Only the header cache and the one file whose header must be imported.
    assert cached == sorted([f"e6_head.{sys.implementation.cache_tag}.pyc", CACHE_NAME])



def test_phase_is_read_from_the_header_without_an_import(tmp_path: Path, writes_bytecode: None) -> None:
    """``phase = "post"`` is a header name: the module is not imported to learn it."""
    from alembic.script import ScriptDirectory

    from flask_schema.phases import phase_of

    versions = tmp_path / "versions"
    versions.mkdir()
    for rev, down, extra in (("a1", None, ""), ("b2", "a1", 'phase = "post"\n')):
        source = TEMPLATE.format(doc=rev, rev=rev, down=down, labels=None, depends=None,
                                 upgrade="    pass", downgrade="    pass")
        source = source.replace("depends_on = None\n", "depends_on = None\n" + extra)
        (versions / f"{rev}_x.py").write_text(source)
    assert read_header((versions / "b2_x.py").read_bytes())["phase"] == "post"
    assert "phase" not in read_header((versions / "a1_x.py").read_bytes())
    script = use_headers(ScriptDirectory(str(tmp_path)))
    found = {rev: script.get_revision(rev) for rev in ("a1", "b2")}
    assert {rev: phase_of(item) for rev, item in found.items()} == {"a1": "pre", "b2": "post"}
    assert all(item.module.__dict__["_flask_schema_loaded"] is None for item in found.values())
    # A cache written before phases existed is not trusted: it never recorded them.
    cache = versions / "__pycache__" / CACHE_NAME
    stored = json.loads(cache.read_text())
    for entry in stored["files"].values():
        entry[2].pop("phase", None)
    cache.write_text(json.dumps({"format": 1, "files": stored["files"]}))
    assert phase_of(use_headers(ScriptDirectory(str(tmp_path))).get_revision("b2")) == "post"
    # A body that could rebind the name is imported instead, and still answers.
    c3 = TEMPLATE.format(doc="c3", rev="c3", down="b2", labels=None, depends=None,
                         upgrade="    global phase\n    phase = 'pre'", downgrade="    pass")
    assert read_header(c3.encode()) is None
