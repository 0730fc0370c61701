"""The benchmark still runs: its generated histories match its generated models.

Only the smallest sizes, once each; timings are never asserted here.
"""

from __future__ import annotations

import subprocess
import sys

from project import REPO_ROOT


def test_bench_smoke_run_reports_both_tools() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "run.py"), "--smoke", "--backend", "sqlite",
         "--only", "autogenerate"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 3 unchanged tables")]
    # 'check' and 'migrate' each ran for both tools and found the history matches the models.
    assert [row.split("|")[2].strip() for row in rows] == ["check (no changes)", "migrate (no changes)"]
    assert "flask-migrate 4." in result.stdout


def test_toolkit_bench_smoke_run_reports_both_tools() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "toolkit.py"), "--quick", "--backend", "sqlite",
         "--sizes", "3", "--no-results"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("| 3 revisions | sqlite")]
    assert "stairway" in row and "up_down_consistency" in row
    assert "flask-schema-migrate 0.1.0" in result.stdout
