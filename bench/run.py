"""Time real ``flask db`` processes of flask_schema and Flask-Migrate, and the floor.

Run from the repository root with the project's venv (``scripts/test`` makes it)::

    .venv/bin/python bench/run.py            # every scenario, 5 repetitions
    .venv/bin/python bench/run.py --quick    # small sizes, 3 repetitions, under a minute
    .venv/bin/python bench/run.py --backend sqlite --only history

Each scenario writes an app and a migration history into a temporary folder,
once per tool (the app differs only in its ``Migrate`` import line), gives
each tool a database of its own, and runs every command several times,
alternating between the tools so that a noisy neighbour slows both alike.
The floor is what any tool must pay: a process that imports the same app
without an extension, plus the least database work the question needs.
Times are whole-process wall-clock seconds; memory is the child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
TOOLS = ("flask_schema", "flask_migrate")
POSTGRESQL = os.environ.get("FLASK_SCHEMA_BENCH_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/postgres")

# Floors: Python run in the folder of an app without any extension.
IMPORT_APP = "import app"
# The same, leaving the collector nothing to walk at exit (as flask_schema's CLI does).
IMPORT_APP_NO_GC = "import app, gc; gc.freeze()"
READ_VERSION = """\
import app, sqlalchemy as sa
with app.app.app_context(), app.db.engine.connect() as c:
    c.execute(sa.text("SELECT version_num FROM alembic_version")).all()
"""
CREATE_ALL = """\
import app
with app.app.app_context():
    app.db.create_all()
"""
DROP_ALL = """\
import app
with app.app.app_context():
    app.db.drop_all()
"""
REFLECT = """\
import app, sqlalchemy as sa
with app.app.app_context(), app.db.engine.connect() as c:
    sa.MetaData().reflect(c)
"""


# -- measuring -------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    max_rss_mb: float
    cpu_seconds: float = float("nan")


@dataclass
class Stats:
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def low(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def high(self) -> float:
        return max(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def rss(self) -> float:
        return statistics.median(s.max_rss_mb for s in self.samples)


@dataclass
class Command:
    """One process to time: argv run in ``cwd``, after ``before`` (a reset) if any."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None


def run_once(command: Command) -> Sample:
    if command.before is not None:
        command.before()
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command.argv, cwd=command.cwd, env=command.env, stdout=output,
                                   stderr=subprocess.STDOUT)
        # wait4, not Popen.wait: it also returns this child's own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            raise SystemExit(
                f"benchmark command failed ({process.returncode}): {' '.join(command.argv)} "
                f"in {command.cwd}\n{output.read().decode(errors='replace')}"
            )
    if command.after is not None:
        command.after()
    return Sample(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def run_checked(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    """Run a set-up step; stop the benchmark with its output if it fails."""
    result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"set-up step failed: {' '.join(argv)} in {cwd}\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


# -- databases -------------------------------------------------------------------


class Database:
    """An empty database of its own, on PostgreSQL or as a SQLite file."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.name = f"fs_bench_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            self.url = f"sqlite:///{folder / 'bench.db'}"
        else:
            from sqlalchemy.engine import make_url

            self.url = make_url(POSTGRESQL).set(database=self.name).render_as_string(hide_password=False)

    def _admin(self, database: str | None = None):  # type: ignore[no-untyped-def]
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        url = make_url(POSTGRESQL)
        if database is not None:
            url = url.set(database=database)
        return sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        if self.backend == "postgresql":
            import sqlalchemy as sa

            engine = self._admin()
            with engine.connect() as connection:
                connection.execute(sa.text(f"CREATE DATABASE {self.name}"))
            engine.dispose()

    def drop(self) -> None:
        if self.backend == "postgresql":
            import sqlalchemy as sa

            engine = self._admin()
            with engine.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
            engine.dispose()

    def reset(self) -> None:
        """Make the database empty again (for runs that start from nothing).

        On PostgreSQL the database is dropped and made again: dropping a
        thousand tables in one statement runs out of lock slots.
        """
        if self.backend == "sqlite":
            (self.folder / "bench.db").unlink(missing_ok=True)
            return
        self.drop()
        self.create()


# -- projects --------------------------------------------------------------------


class Workspace:
    """The temporary folder of one benchmark run and its databases."""

    def __init__(self, root: Path, backend: str) -> None:
        self.root = root
        self.backend = backend
        self.databases: list[Database] = []
        self.templates: dict[str, Path] = {}

    def database(self, folder: Path) -> Database:
        database = Database(self.backend, folder)
        database.create()
        self.databases.append(database)
        return database

    def close(self) -> None:
        for database in self.databases:
            database.drop()

    def env(self, folder: Path, database: Database) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database.url,
            FLASK_APP="app",
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(folder)]),
        )
        for name in ("FLASK_DEBUG", "FLASK_ENV", "FLASK_DB_TRACEBACK", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        return env

    def migrations_template(self, tool: str) -> Path:
        """A folder ``flask db init`` wrote for ``tool``, made once per run and copied."""
        if tool not in self.templates:
            folder = self.root / f"init-{tool}"
            folder.mkdir()
            generate.write_app(folder, tool, 0)
            database = Database("sqlite", folder)
            run_checked([FLASK, "db", "init"], folder, self.env(folder, database))
            self.templates[tool] = folder / "migrations"
        return self.templates[tool]

    def project(
        self, scenario: str, tool: str, models: int, layout: Sequence[Sequence[int]]
    ) -> Project:
        folder = self.root / scenario / tool
        folder.mkdir(parents=True)
        generate.write_app(folder, tool, models)
        if tool != "floor":
            shutil.copytree(self.migrations_template(tool), folder / "migrations")
            generate.write_history(folder / "migrations" / "versions", layout)
        database = self.database(folder)
        return Project(folder, database, self.env(folder, database))


@dataclass
class Project:
    folder: Path
    database: Database
    env: dict[str, str]

    def db(self, *args: str, before: Callable[[], None] | None = None) -> Command:
        return Command([FLASK, "db", *args], self.folder, self.env, before=before)

    def python(self, code: str, before: Callable[[], None] | None = None) -> Command:
        return Command([sys.executable, "-c", code], self.folder, self.env, before=before)

    def setup(self, *args: str) -> str:
        return run_checked([FLASK, "db", *args], self.folder, self.env)

    def revision_count(self) -> int:
        return len(list((self.folder / "migrations" / "versions").glob("*.py")))


# -- scenarios -------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results: a command for both tools against one floor."""

    scenario: str
    command: str
    ours: Stats
    theirs: Stats
    floor_name: str
    floor: Stats | None


@dataclass
class Plan:
    """Commands to time, by label; rows say which labels to compare."""

    commands: dict[str, Command] = field(default_factory=dict)
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def measure(plan: Plan, repetitions: int, scenario: str) -> list[Row]:
    """Run every command of ``plan`` ``repetitions`` times, round-robin."""
    found = {label: Stats() for label in plan.commands}
    for _ in range(repetitions):
        for label, command in plan.commands.items():
            found[label].samples.append(run_once(command))
    return [
        Row(scenario, title, found[ours], found[theirs], floor_name, found.get(floor))
        for title, ours, theirs, floor_name, floor in plan.rows
    ]


def tools_projects(
    ws: Workspace, scenario: str, models: int, layout: Sequence[Sequence[int]]
) -> dict[str, Project]:
    return {tool: ws.project(scenario, tool, models, layout) for tool in TOOLS}


def noop_upgrade(ws: Workspace, models: int, extra_floors: bool = True) -> Plan:
    """``upgrade`` when the database is already at head, app with ``models`` models."""
    name = f"noop-upgrade-{models}-models"
    projects = tools_projects(ws, name, models, generate.one_revision(models))
    floor = ws.project(name, "floor", models, [])
    plan = Plan()
    for tool, project in projects.items():
        project.setup("upgrade")
        plan.commands[tool] = project.db("upgrade")
    ours = projects["flask_schema"]
    plan.commands["import app"] = floor.python(IMPORT_APP)
    plan.rows.append(("upgrade (at head)", "flask_schema", "flask_migrate", "import app", "import app"))
    if extra_floors:
        plan.commands["import app, no GC at exit"] = floor.python(IMPORT_APP_NO_GC)
        plan.commands["import app + read version"] = Command(
            [sys.executable, "-c", READ_VERSION], floor.folder, ours.env
        )
        plan.rows += [
            ("upgrade (at head)", "flask_schema", "flask_migrate", "import app, no GC at exit",
             "import app, no GC at exit"),
            ("upgrade (at head)", "flask_schema", "flask_migrate", "import app + read version",
             "import app + read version"),
        ]
    return plan


def chain_upgrade(ws: Workspace, revisions: int) -> Plan:
    """``upgrade`` from an empty database through ``revisions`` revisions of one table each."""
    name = f"upgrade-{revisions}-revisions"
    projects = tools_projects(ws, name, revisions, generate.table_per_revision(revisions))
    floor = ws.project(name, "floor", revisions, [])
    plan = Plan()
    for tool, project in projects.items():
        plan.commands[tool] = project.db("upgrade", before=project.database.reset)
    plan.commands["import app + create_all"] = floor.python(CREATE_ALL, before=floor.database.reset)
    plan.rows.append(
        ("upgrade (base to head)", "flask_schema", "flask_migrate", "import app + create_all",
         "import app + create_all")
    )
    return plan


def chain_downgrade(ws: Workspace, revisions: int) -> Plan:
    """``downgrade base`` from head through ``revisions`` revisions of one table each."""
    name = f"downgrade-{revisions}-revisions"
    projects = tools_projects(ws, name, revisions, generate.table_per_revision(revisions))
    floor = ws.project(name, "floor", revisions, [])
    plan = Plan()

    def at_head(project: Project) -> Callable[[], None]:
        def before() -> None:
            project.database.reset()
            project.setup("upgrade")

        return before

    def all_created() -> None:
        floor.database.reset()
        run_checked([sys.executable, "-c", CREATE_ALL], floor.folder, floor.env)

    for tool, project in projects.items():
        plan.commands[tool] = project.db("downgrade", "base", before=at_head(project))
    plan.commands["import app + drop_all"] = floor.python(DROP_ALL, before=all_created)
    plan.rows.append(
        ("downgrade (head to base)", "flask_schema", "flask_migrate", "import app + drop_all",
         "import app + drop_all")
    )
    return plan


def autogenerate(ws: Workspace, tables: int, commands: Sequence[str]) -> Plan:
    """``check`` / ``migrate`` with ``tables`` tables that match the models exactly."""
    name = f"autogenerate-{tables}-tables"
    projects = tools_projects(ws, name, tables, generate.one_revision(tables))
    floor = ws.project(name, "floor", tables, [])
    plan = Plan()
    for tool, project in projects.items():
        project.setup("upgrade")
        for command in commands:
            plan.commands[f"{tool} {command}"] = project.db(command)
            if command == "migrate":
                plan.commands[f"{tool} {command}"].after = _expect_no_new_revision(project)
    plan.commands["import app + reflect"] = Command(
        [sys.executable, "-c", REFLECT], floor.folder, projects["flask_schema"].env
    )
    for command in commands:
        plan.rows.append(
            (f"{command} (no changes)", f"flask_schema {command}", f"flask_migrate {command}",
             "import app + reflect", "import app + reflect")
        )
    return plan


def _expect_no_new_revision(project: Project) -> Callable[[], None]:
    count = project.revision_count()

    def after() -> None:
        if project.revision_count() != count:
            raise SystemExit(
                f"'flask db migrate' wrote a revision in {project.folder}: models and history differ"
            )

    return after


def history_length(ws: Workspace, revisions: int, commands: Sequence[str]) -> Plan:
    """Questions about one row, with a history of ``revisions`` revisions.

    The app has 10 models whatever the history length, so only the history
    grows. The database is stamped at head: running 1000 revisions to set up
    a question about the version row would only slow the benchmark down.
    """
    name = f"history-{revisions}-revisions"
    layout = [list(range(10))] + generate.table_per_revision(revisions - 1, first=10)
    projects = tools_projects(ws, name, 10, layout)
    floor = ws.project(name, "floor", 10, [])
    plan = Plan()
    for tool, project in projects.items():
        project.setup("stamp", "head")
        for command in commands:
            plan.commands[f"{tool} {command}"] = project.db(command)
    plan.commands["import app + read version"] = Command(
        [sys.executable, "-c", READ_VERSION], floor.folder, projects["flask_schema"].env
    )
    for command in commands:
        title = "upgrade (at head)" if command == "upgrade" else command
        plan.rows.append(
            (title, f"flask_schema {command}", f"flask_migrate {command}",
             "import app + read version", "import app + read version")
        )
    return plan


def import_cost(repetitions: int) -> list[Row]:
    """What importing the extension adds to an app that already imports Flask-SQLAlchemy.

    Read from ``python -X importtime``: the cumulative time of the package's
    own import line, in seconds.
    """
    found = {tool: Stats() for tool in TOOLS}
    for _ in range(repetitions):
        for tool in TOOLS:
            code = f"import flask, flask_sqlalchemy, sqlalchemy.orm\nimport {tool}"
            env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure a warm install, as users run it
            result = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", code],
                env=env, capture_output=True, text=True, check=True,
            )
            micros = next(
                int(line.split("|")[1])
                for line in result.stderr.splitlines()
                if line.split("|")[-1].rstrip() == f" {tool}"
            )
            found[tool].samples.append(Sample(micros / 1e6, float("nan")))
    return [Row("import", "import the extension", found["flask_schema"], found["flask_migrate"], "", None)]


# -- the run ---------------------------------------------------------------------

SIZES = {
    "quick": dict(models=50, chain=[20], tables=[50], history=[10, 200], autogen=["check"],
                  history_commands=["current"], repetitions=3),
    "full": dict(models=50, chain=[200, 1000], tables=[300, 1000], history=[10, 200, 1000],
                 autogen=["check", "migrate"], history_commands=["current", "heads", "upgrade"],
                 repetitions=5),
    "smoke": dict(models=3, chain=[3], tables=[3], history=[3], autogen=["check", "migrate"],
                  history_commands=["current", "heads", "upgrade"], repetitions=1),
}

SCENARIOS = ("import", "noop", "chain", "downgrade", "autogenerate", "history")


def run(mode: str, backend: str, only: Sequence[str], repetitions: int | None) -> list[Row]:
    sizes = SIZES[mode]
    reps = repetitions or int(sizes["repetitions"])  # type: ignore[call-overload]
    rows: list[Row] = []
    with workspace(backend) as ws:
        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            ("import", lambda: import_cost(max(reps, 3))),
            ("noop", lambda: measure(noop_upgrade(ws, sizes["models"], mode == "full"), reps, "noop upgrade, "
                                     f"{sizes['models']} models")),
        ]
        for count in sizes["chain"]:  # type: ignore[attr-defined]
            steps.append(("chain", lambda count=count: measure(
                chain_upgrade(ws, count), max(1, reps - 2) if count >= 1000 else reps,
                f"chain of {count} revisions")))
        for count in sizes["chain"]:  # type: ignore[attr-defined]
            steps.append(("downgrade", lambda count=count: measure(
                chain_downgrade(ws, count), max(1, reps - 2) if count >= 1000 else reps,
                f"downgrade of {count} revisions")))
        for count in sizes["tables"]:  # type: ignore[attr-defined]
            steps.append(("autogenerate", lambda count=count: measure(
                autogenerate(ws, count, sizes["autogen"]), reps, f"{count} unchanged tables")))  # type: ignore[arg-type]
        for count in sizes["history"]:  # type: ignore[attr-defined]
            steps.append(("history", lambda count=count: measure(
                history_length(ws, count, sizes["history_commands"]), reps,  # type: ignore[arg-type]
                f"history of {count}")))
        for kind, step in steps:
            if only and kind not in only:
                continue
            started = time.perf_counter()
            found = step()
            print(f"  {found[0].scenario}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
            rows.extend(found)
    return rows


@contextmanager
def workspace(backend: str) -> Iterator[Workspace]:
    root = Path(tempfile.mkdtemp(prefix="flask-schema-bench-"))
    ws = Workspace(root, backend)
    try:
        yield ws
    finally:
        ws.close()
        shutil.rmtree(root, ignore_errors=True)


# -- reporting -------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    names = ("flask", "flask-sqlalchemy", "sqlalchemy", "alembic", "flask-migrate", "flask-schema-migrate")
    for name in names:
        found[name] = version(name)
    return found


def machine(backend: str) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            cpu = next(line.split(":", 1)[1].strip() for line in file if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    server = "SQLite file"
    if backend == "postgresql":
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRESQL)
        with engine.connect() as connection:
            server = "PostgreSQL " + str(connection.execute(sa.text("SHOW server_version")).scalar())
        engine.dispose()
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {server} on loopback"


def _seconds(stats: Stats | None) -> str:
    if stats is None:
        return "-"
    if stats.median < 0.1:
        return f"{stats.median * 1000:.1f} ms ({stats.low * 1000:.1f}-{stats.high * 1000:.1f})"
    return f"{stats.median:.3f} s ({stats.low:.2f}-{stats.high:.2f})"


def _ratio(ours: float, theirs: float) -> str:
    if ours != ours or theirs != theirs or not theirs:  # NaN or zero: not measured
        return "-"
    return f"{ours / theirs:.2f}"


def _mb(stats: Stats | None) -> str:
    if stats is None or stats.rss != stats.rss:  # NaN: not measured
        return "-"
    return f"{stats.rss:.0f}"


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| scenario | command | flask_schema | Flask-Migrate | floor | fs / FM | fs / floor "
        "| CPU s fs / FM / floor | CPU fs / FM | CPU fs / floor | peak MB fs / FM / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        floor = row.floor
        cpu = [f"{stats.cpu:.2f}" if stats is not None and stats.cpu == stats.cpu else "-"
               for stats in (row.ours, row.theirs, floor)]
        lines.append(
            f"| {row.scenario} | {row.command} | {_seconds(row.ours)} | {_seconds(row.theirs)} | "
            f"{row.floor_name + ': ' if floor else ''}{_seconds(floor)} | "
            f"{_ratio(row.ours.median, row.theirs.median)} | "
            f"{_ratio(row.ours.median, floor.median) if floor else '-'} | "
            f"{' / '.join(cpu)} | {_ratio(row.ours.cpu, row.theirs.cpu)} | "
            f"{_ratio(row.ours.cpu, floor.cpu) if floor else '-'} | "
            f"{_mb(row.ours)} / {_mb(row.theirs)} / {_mb(floor)} |"
        )
    return "\n".join(lines)


def report(rows: Sequence[Row], mode: str, backend: str, repetitions: int | None) -> str:
    reps = repetitions or SIZES[mode]["repetitions"]
    header = [
        f"Mode: {mode}, {reps} repetitions per command (median, min-max), backend {backend}.",
        "Wall-clock seconds of the whole process; CPU is the child's user+system time, "
        "steadier than wall time on a busy machine.",
        f"Machine: {machine(backend)}.",
        "Versions: " + ", ".join(f"{name} {value}" for name, value in versions().items()) + ".",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    return "\n".join(header) + table(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick",
                      help="small sizes, 3 repetitions: a regression check in under a minute")
    mode.add_argument("--smoke", action="store_const", dest="mode", const="smoke",
                      help="tiny sizes, one repetition: checks that the benchmark itself works")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--only", action="append", choices=SCENARIOS, default=[],
                        help="run only this scenario (repeatable)")
    parser.add_argument("--repetitions", type=int, default=None)
    parser.add_argument("--chain", type=int, action="append", default=[],
                        help="history length(s) for the chain and downgrade scenarios")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the report (Markdown) to this file")
    parser.add_argument("--json", type=Path, default=None, help="also write raw samples as JSON")
    args = parser.parse_args(argv)
    mode_name = args.mode or "full"
    if args.chain:
        SIZES[mode_name] = {**SIZES[mode_name], "chain": args.chain}
    rows = run(mode_name, args.backend, args.only, args.repetitions)
    text = report(rows, mode_name, args.backend, args.repetitions)
    print(text)
    if args.output is not None:
        args.output.write_text(text)
    if args.json is not None:
        args.json.write_text(json.dumps(
            [{"scenario": r.scenario, "command": r.command, "floor_name": r.floor_name,
              "flask_schema": [s.__dict__ for s in r.ours.samples],
              "flask_migrate": [s.__dict__ for s in r.theirs.samples],
              "floor": [s.__dict__ for s in r.floor.samples] if r.floor else None} for r in rows],
            indent=1,
        ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
