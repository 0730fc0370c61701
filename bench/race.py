"""Race N concurrent ``flask db upgrade`` processes: flask_schema vs Flask-Migrate.

Each tool gets a fresh database per backend, the same three hand-written
revisions (the first sleeps 0.5s so the processes overlap), and N processes
started at once. Reported per tool and backend: processes, how many exited
non-zero, how many revision bodies ran more than once, and the last error line
of each failure. Nothing is asserted; the tests assert flask_schema's side.

    .venv/bin/python bench/race.py [--processes 8] [--backend sqlite ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from databases import BACKENDS, fresh_database, server_problem  # noqa: E402
from project import Project  # noqa: E402
from race import RaceResult, run_race, write_race_revisions  # noqa: E402

TOOLS = {
    "flask_schema": "from flask_schema import Migrate",
    "Flask-Migrate": "from flask_migrate import Migrate",
}


def race(tool: str, backend: str, processes: int) -> RaceResult:
    with tempfile.TemporaryDirectory() as folder, fresh_database(backend, folder) as url:
        project = Project(Path(folder), url, backend)
        project.write_app(import_line=TOOLS[tool])
        project.db("init")
        write_race_revisions(project)
        return run_race(project, processes=processes, tool=tool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    args = parser.parse_args()
    for backend in args.backend or BACKENDS:
        problem = server_problem(backend)
        if problem:
            print(f"skipped {backend}: {problem}")
            continue
        for tool in TOOLS:
            result = race(tool, backend, args.processes)
            print(result.line(), flush=True)
            for error, count in Counter(result.errors).most_common():
                print(f"    {count}x {error[:150]}")


if __name__ == "__main__":
    main()
