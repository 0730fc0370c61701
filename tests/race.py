"""Hand-written revision files and the N-process ``flask db upgrade`` race.

Used by the concurrency tests and by ``bench/race.py``, which runs the same
race against flask_schema and Flask-Migrate and reports both.

Every revision inserts its id into ``applied_once``; a revision that ran
twice shows up there twice.
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from project import FLASK, Project

REVISION_TEMPLATE = '''\
"""{message}"""
import os
import time

from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def write_revision(
    project: Project, rev: str, down: str | None, upgrade: str, downgrade: str = "pass",
    message: str = "",
) -> str:
    """Write ``versions/<rev>_x.py`` with the given function bodies; return its path."""
    path = project.path / "migrations" / "versions" / f"{rev}_x.py"
    path.write_text(
        REVISION_TEMPLATE.format(
            message=message or rev,
            rev=rev,
            down=down,
            upgrade=textwrap.indent(textwrap.dedent(upgrade).strip(), "    "),
            downgrade=textwrap.indent(textwrap.dedent(downgrade).strip(), "    "),
        )
    )
    return str(path)


def mark(rev: str) -> str:
    """A line that records that ``rev`` ran."""
    return f"op.execute(\"INSERT INTO applied_once (rev) VALUES ('{rev}')\")"


def write_race_revisions(project: Project) -> list[str]:
    """Three revisions; the first sleeps so the replicas overlap."""
    revs = ["r1", "r2", "r3"]
    write_revision(project, "r1", None, f"""
        op.create_table("applied_once", sa.Column("rev", sa.String(10)))
        op.create_table("account", sa.Column("id", sa.Integer, primary_key=True))
        {mark("r1")}
        time.sleep(0.5)
    """)
    write_revision(project, "r2", "r1", f"""
        op.add_column("account", sa.Column("name", sa.String(50)))
        {mark("r2")}
    """)
    write_revision(project, "r3", "r2", f"""
        op.create_index("ix_account_name", "account", ["name"])
        {mark("r3")}
    """)
    return revs


@dataclass
class RaceResult:
    tool: str
    backend: str
    processes: int
    failures: int
    duplicates: int
    applied: dict[str, int]
    seconds: float
    errors: list[str]

    def line(self) -> str:
        return (
            f"{self.tool:13} {self.backend:10} processes={self.processes} "
            f"failures={self.failures} duplicates={self.duplicates} "
            f"applied={self.applied} in {self.seconds:.1f}s"
        )


def run_race(project: Project, processes: int = 8, tool: str = "flask_schema") -> RaceResult:
    """Start ``processes`` ``flask db upgrade`` at once and count what happened."""
    started = time.monotonic()
    running = [
        subprocess.Popen(
            [FLASK, "db", "upgrade"], cwd=project.path, env=project.env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(processes)
    ]
    outputs = [process.communicate(timeout=180) for process in running]
    seconds = time.monotonic() - started
    errors = []
    for process, (_, stderr) in zip(running, outputs):
        if process.returncode != 0:
            lines = [line for line in stderr.splitlines() if "Error" in line]
            errors.append(lines[-1].strip() if lines else f"exit {process.returncode}")
    applied = applied_counts(project)
    return RaceResult(
        tool=tool,
        backend=project.backend,
        processes=processes,
        failures=len(errors),
        duplicates=sum(count - 1 for count in applied.values() if count > 1),
        applied=applied,
        seconds=seconds,
        errors=errors,
    )


def applied_counts(project: Project) -> dict[str, int]:
    engine = project.engine()
    try:
        with engine.connect() as connection:
            if "applied_once" not in sa.inspect(connection).get_table_names():
                return {}
            rows = connection.execute(
                sa.text("SELECT rev, COUNT(*) FROM applied_once GROUP BY rev ORDER BY rev")
            )
            return {row[0]: row[1] for row in rows}
    finally:
        engine.dispose()


def start_upgrade(
    project: Project, log: Path, extra: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``flask db -v upgrade`` in the background, its stderr (with Alembic's
    "Running upgrade" line before each step) going to ``log``."""
    return subprocess.Popen(
        [FLASK, "db", "-v", "upgrade"], cwd=project.path, env=project.env(extra),
        stdout=subprocess.DEVNULL, stderr=log.open("w"), text=True,
    )


def wait_for(log: Path, text: str, process: subprocess.Popen[str], seconds: float = 90) -> None:
    """Wait until ``text`` is in ``log``, failing if ``process`` ends first."""
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {text!r}; log:\n{log.read_text()}")
        time.sleep(0.1)
