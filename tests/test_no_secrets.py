"""No password in anything ``flask db`` prints: errors, URLs, tracebacks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from project import Project
from race import write_revision
from test_backup import PASSWORD, database_for_new_user

from flask_schema.redact import scrub

RAISES_WITH_URL = """
@migrate.configure
def _leak(config):
    from flask import current_app
    url = db.engine.url
    raise RuntimeError(
        "cannot use " + url.render_as_string(hide_password=False)
        + " nor " + f"mysql://u:{url.password}@h/x"
    )
"""


def test_scrub_masks_passwords_by_their_place() -> None:
    assert scrub("default: upgrade r1 failed", ["default"]) == "default: upgrade r1 failed"
    assert scrub("postgresql://u:default@h/db", ["default"]) == "postgresql://u:***@h/db"
    encoded = quote(PASSWORD, safe="")
    assert PASSWORD not in scrub(f"mysql://u:{PASSWORD}@h/db", [PASSWORD])
    assert encoded not in scrub(f"mysql://u:{encoded}@h/db", [PASSWORD])
    assert quote_plus(PASSWORD) not in scrub(f"x://u:{quote_plus(PASSWORD)}@h", [PASSWORD])
    # A URL whose password the app does not know, and a driver connection string.
    assert scrub("see sqlite+x://a:hunter2@host/db") == "see sqlite+x://a:***@host/db"
    assert scrub("host=h password='p w' dbname=d") == "host=h password=*** dbname=d"


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_password_that_is_a_word_leaves_messages_whole(backend: str, tmp_path: Path) -> None:
    with database_for_new_user(backend, str(tmp_path), password="default") as url:
        project = Project(tmp_path, url, backend)
        project.write_app()
        project.db("init")
        write_revision(project, "r1", None, "op.execute('SELECT * FROM no_such_table')")
        result = project.db("upgrade", check=False)
        assert result.returncode == 1
        [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert line.startswith("Error: default: upgrade") and "***" not in line


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_tracebacks_and_encoded_urls_hide_the_password(backend: str, tmp_path: Path) -> None:
    with database_for_new_user(backend, str(tmp_path)) as url:
        project = Project(tmp_path, url, backend)
        project.write_app()
        project.db("init")
        project.write_app(RAISES_WITH_URL)
        for env in ({}, {"FLASK_DB_TRACEBACK": "1"}):
            result = project.db("current", check=False, env=env)
            assert result.returncode == 1
            output = result.stdout + result.stderr
            assert "RuntimeError: cannot use" in output and ":***@" in output
            for secret in (PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), "s3cr"):
                assert secret not in output, output
        assert "Traceback (most recent call last)" in result.stderr
