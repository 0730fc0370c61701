"""Time whole ``pytest --flask-schema`` runs against pytest-alembic's built-in tests.

Run from the repository root with the project's venv (``scripts/test`` makes it,
``pip install -e .[test]`` brings pytest-alembic)::

    .venv/bin/python bench/toolkit.py              # 50 and 200 revisions, SQLite and PostgreSQL, 3 runs
    .venv/bin/python bench/toolkit.py --quick      # one run of each
    .venv/bin/python bench/toolkit.py --sizes 20 --backend sqlite
    .venv/bin/python bench/toolkit.py --backend mariadb    # MariaDB/MySQL too (not a target)

Each case writes one generated history (``generate.table_per_revision``: one
table per revision, each pointing at the one before) into two projects that
differ only in how they test it:

* ours: a ``conftest.py`` with an ``app`` fixture and the ``env.py`` that
  ``flask db init`` writes, run as ``pytest --flask-schema`` (five checks);
* pytest-alembic's: the same app and revisions, the ``env.py`` its
  documentation shows (it takes the connection pytest-alembic hands over),
  and ``alembic_config``/``alembic_engine`` fixtures that give each test a new
  database, run as ``pytest`` on a module that imports its four default tests
  (what ``--test-alembic`` collects; its collector does not work on pytest 9).

Both get a fresh database per test on the same server, so neither gains from
a shared one. The runs alternate, so a noisy neighbour slows both alike. Times
are whole-process wall-clock seconds (median of N); the per-check times are
read from each run's JUnit XML (setup, call and teardown of the test).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRESQL = os.environ.get("FLASK_SCHEMA_BENCH_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB = os.environ.get("FLASK_SCHEMA_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVERS = {"postgresql": POSTGRESQL, "mariadb": MARIADB}
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
TOOLS = ("flask_schema", "pytest_alembic")

OUR_CONFTEST = '''\
import pytest

from app import app as flask_app


@pytest.fixture
def app():
    return flask_app
'''

# pytest-alembic's documented set-up, with a database of its own per test.
THEIR_CONFTEST = '''\
import os
import uuid

import pytest
import sqlalchemy as sa

from app import app as flask_app


@pytest.fixture
def alembic_config():
    return {"script_location": "migrations"}


@pytest.fixture
def alembic_engine(tmp_path):
    url = sa.make_url(os.environ["DATABASE_URL"])
    with flask_app.app_context():
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(url.set(database=str(tmp_path / "test.db")))
            yield engine
            engine.dispose()
            return
        name = "pa_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        engine = sa.create_engine(url.set(database=name))
        try:
            yield engine
        finally:
            engine.dispose()
            force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE {name}{force}"))
            admin.dispose()
'''

THEIR_TESTS = """\
from pytest_alembic.tests import (  # noqa: F401
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
"""

# The env.py of pytest-alembic's documentation, with the app's metadata.
THEIR_ENV = '''\
from alembic import context
from sqlalchemy import engine_from_config, pool

from app import db

target_metadata = db.metadata


def run():
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            context.config.get_section(context.config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
'''


# -- measuring -------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    #: Seconds per test, by the check's short name.
    checks: dict[str, float]


@dataclass
class Case:
    backend: str
    revisions: int
    runs: dict[str, list[Run]] = field(default_factory=lambda: {tool: [] for tool in TOOLS})

    def median(self, tool: str) -> float:
        return statistics.median(run.seconds for run in self.runs[tool])

    def check_medians(self, tool: str) -> dict[str, float]:
        names = self.runs[tool][0].checks if self.runs[tool] else {}
        runs = self.runs[tool]
        return {name: statistics.median(run.checks.get(name, 0.0) for run in runs) for name in names}


def short_name(test: str) -> str:
    for prefix in ("flask_schema_", "test_"):
        if test.startswith(prefix):
            return test[len(prefix):]
    return test


def run_pytest(folder: Path, env: dict[str, str], args: Sequence[str]) -> Run:
    report = folder / f"junit-{uuid.uuid4().hex[:6]}.xml"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *args]
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"benchmark run failed ({result.returncode}) in {folder}:\n{result.stdout}{result.stderr}"
        )
    checks = {
        short_name(case.get("name", "?")): float(case.get("time", "nan"))
        for case in ElementTree.parse(report).getroot().iter("testcase")
    }
    report.unlink()
    return Run(seconds, checks)


# -- projects --------------------------------------------------------------------


class Server:
    """The "developer" database each project's app points at, made empty and dropped after."""

    def __init__(self, backend: str, folder: Path) -> None:
        import sqlalchemy as sa

        self.backend = backend
        self.name = f"fs_toolkit_{uuid.uuid4().hex[:8]}"
        if backend == "sqlite":
            self.url = f"sqlite:///{folder / 'developer.db'}"
            return
        self.admin = SERVERS[backend]
        self.url = sa.make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)
        self._execute(f"CREATE DATABASE {self.name}")

    def _execute(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(sql))
        engine.dispose()

    def drop(self) -> None:
        if self.backend != "sqlite":
            force = " WITH (FORCE)" if self.backend == "postgresql" else ""
            self._execute(f"DROP DATABASE IF EXISTS {self.name}{force}")


def write_project(folder: Path, tool: str, revisions: int, migrations_template: Path) -> None:
    folder.mkdir(parents=True)
    generate.write_app(folder, "flask_schema", revisions)
    shutil.copytree(migrations_template, folder / "migrations")
    generate.write_history(folder / "migrations" / "versions", generate.table_per_revision(revisions))
    if tool == "flask_schema":
        (folder / "conftest.py").write_text(OUR_CONFTEST)
    else:
        (folder / "conftest.py").write_text(THEIR_CONFTEST)
        (folder / "migrations" / "env.py").write_text(THEIR_ENV)
        (folder / "test_migrations.py").write_text(THEIR_TESTS)
        # Its collector (``--test-alembic``) fails on pytest 9 ("no attribute _nodeid"); the
        # same four functions, imported into a test module, run on any pytest.
        (folder / "pytest.ini").write_text("[pytest]\npytest_alembic_enabled = false\n")


def migrations_template(root: Path, env: dict[str, str]) -> Path:
    """The folder ``flask db init`` writes, made once and copied into each project."""
    folder = root / "init"
    folder.mkdir()
    generate.write_app(folder, "flask_schema", 0)
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "db", "init"], cwd=folder, env=env_for(env, folder, "sqlite:///init.db"),
                   check=True, capture_output=True)
    return folder / "migrations"


def env_for(base: dict[str, str], folder: Path, url: str) -> dict[str, str]:
    env = dict(base, DATABASE_URL=url, FLASK_APP="app",
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(folder)]))
    for name in ("FLASK_DEBUG", "FLASK_DB_TRACEBACK", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


ARGS = {"flask_schema": ["--flask-schema"], "pytest_alembic": []}


def measure(root: Path, backend: str, revisions: int, repetitions: int, template: Path) -> Case:
    case = Case(backend, revisions)
    servers: list[Server] = []
    try:
        projects = {}
        for tool in TOOLS:
            folder = root / f"{backend}-{revisions}" / tool
            write_project(folder, tool, revisions, template)
            server = Server(backend, folder)
            servers.append(server)
            projects[tool] = (folder, env_for(dict(os.environ), folder, server.url))
        for _ in range(repetitions):
            for tool, (folder, env) in projects.items():
                case.runs[tool].append(run_pytest(folder, env, ARGS[tool]))
    finally:
        for server in servers:
            server.drop()
    return case


@contextmanager
def workspace() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="flask-schema-toolkit-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- reporting -------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    for name in ("pytest", "flask", "flask-sqlalchemy", "sqlalchemy", "alembic", "pytest-alembic",
                 "flask-schema-migrate"):
        found[name] = version(name)
    return found


def machine(backends: Sequence[str]) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            cpu = next(line.split(":", 1)[1].strip() for line in file if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    servers = ["SQLite files in a temporary folder"]
    import sqlalchemy as sa

    for backend, query, name in [("postgresql", "SHOW server_version", "PostgreSQL"),
                                 ("mariadb", "SELECT VERSION()", "MariaDB")]:
        if backend not in backends:
            continue
        engine = sa.create_engine(SERVERS[backend])
        with engine.connect() as connection:
            servers.append(f"{name} {connection.execute(sa.text(query)).scalar()} on loopback")
        engine.dispose()
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}); {', '.join(servers)}"


def _checks(times: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in times.items())


def table(cases: Sequence[Case]) -> str:
    lines = [
        "| history | backend | `pytest --flask-schema` (5 checks) | pytest-alembic (4 tests) | ours / theirs "
        "| ours: per check (s) | pytest-alembic: per test (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        ours, theirs = case.median("flask_schema"), case.median("pytest_alembic")
        runs = case.runs["flask_schema"]
        low, high = min(r.seconds for r in runs), max(r.seconds for r in runs)
        spread = f" ({low:.1f}-{high:.1f})" if len(runs) > 1 else ""
        lines.append(
            f"| {case.revisions} revisions | {case.backend} | {ours:.2f} s{spread} | {theirs:.2f} s | "
            f"{ours / theirs:.2f} | {_checks(case.check_medians('flask_schema'))} | "
            f"{_checks(case.check_medians('pytest_alembic'))} |"
        )
    return "\n".join(lines)


def verdict(cases: Sequence[Case]) -> list[str]:
    """The two targets of issue 17, as met or missed, from this run's medians."""
    lines = []
    for case in cases:
        ours, theirs = case.median("flask_schema"), case.median("pytest_alembic")
        met = "met" if ours <= theirs else "missed"
        lines.append(f"- {case.revisions} revisions, {case.backend}: ours {ours:.2f} s <= pytest-alembic "
                     f"{theirs:.2f} s: {met}")
    by_backend: dict[str, list[Case]] = {}
    for case in cases:
        by_backend.setdefault(case.backend, []).append(case)
    for backend, found in by_backend.items():
        found.sort(key=lambda c: c.revisions)
        for small, large in zip(found, found[1:]):
            factor = large.revisions / small.revisions
            growth = large.median("flask_schema") / small.median("flask_schema")
            met = "met" if growth <= factor else "missed"
            lines.append(f"- {backend}: {small.revisions} to {large.revisions} revisions ({factor:g}x) took "
                         f"{growth:.2f}x as long: {met}")
    return lines


def report(cases: Sequence[Case], repetitions: int) -> str:
    backends = sorted({case.backend for case in cases})
    return "\n".join([
        f"## Migration test toolkit: `pytest --flask-schema` against pytest-alembic "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"`bench/toolkit.py`, median of {repetitions} whole pytest run(s) per cell, wall-clock seconds; "
        "per-check times are the median JUnit time of each test (set-up, call, teardown).",
        f"Machine: {machine(backends)}.",
        "Versions: " + ", ".join(f"{name} {value}" for name, value in versions().items()) + ".",
        "",
        table(cases),
        "",
        *verdict(cases),
        "",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per cell instead of three")
    parser.add_argument("--repetitions", type=int, default=None, help="runs per cell (default 3)")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql", "mariadb"), default=[],
                        help="default: sqlite and postgresql, the cases of issue 17")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="history lengths")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    repetitions = args.repetitions or (1 if args.quick else 3)
    backends = args.backend or ["sqlite", "postgresql"]
    cases = []
    with workspace() as root:
        template = migrations_template(root, dict(os.environ))
        for backend in backends:
            for size in args.sizes:
                started = time.perf_counter()
                cases.append(measure(root, backend, size, repetitions, template))
                took = time.perf_counter() - started
                print(f"  {backend}, {size} revisions: {took:.0f} s", file=sys.stderr)
    text = report(cases, repetitions)
    print(text)
    if not args.no_results:
        with RESULTS.open("a") as results:
            results.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
