"""Fresh, empty databases for tests on SQLite, PostgreSQL and MariaDB.

Server URLs come from environment variables, with this machine's defaults:

* ``FLASK_SCHEMA_TEST_POSTGRESQL`` (``postgresql://postgres@127.0.0.1:5432/test``)
* ``FLASK_SCHEMA_TEST_MARIADB`` (``mysql+pymysql://root@127.0.0.1:3306/test``)

Each test gets a database of its own, created before and dropped after. When
a server cannot be reached its tests skip with the reason, except under
``CI=true``, where an unreachable backend fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

BACKENDS = ("sqlite", "postgresql", "mariadb")

SERVER_URLS = {
    "postgresql": os.environ.get(
        "FLASK_SCHEMA_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": os.environ.get(
        "FLASK_SCHEMA_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test"
    ),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@cache
def server_problem(backend: str) -> str | None:
    """Why ``backend`` cannot be used, or ``None`` when it answers."""
    if backend == "sqlite":
        return None
    engine = sa.create_engine(SERVER_URLS[backend], connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure means the backend is unusable
        first = str(error).strip().splitlines()[0]
        return f"{backend} at {make_url(SERVER_URLS[backend]).render_as_string()} unreachable: {first}"
    finally:
        engine.dispose()
    return None


def require_backend(backend: str) -> None:
    """Skip (or, in CI, fail) the current test when ``backend`` is down."""
    problem = server_problem(backend)
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"CI=true and {problem}", pytrace=False)
    pytest.skip(problem)


def admin_engine(backend: str) -> sa.Engine:
    return sa.create_engine(SERVER_URLS[backend], isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_database(backend: str, directory: str) -> Iterator[URL]:
    """Create an empty database on ``backend`` and drop it afterwards."""
    require_backend(backend)
    if backend == "sqlite":
        yield make_url(f"sqlite:///{os.path.join(directory, 'app.db')}")
        return
    name = f"fs_{uuid.uuid4().hex[:12]}"
    engine = admin_engine(backend)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            yield make_url(SERVER_URLS[backend]).set(database=name)
        finally:
            drop = f"DROP DATABASE IF EXISTS {name}"
            if backend == "postgresql":
                drop += " WITH (FORCE)"
            with engine.connect() as connection:
                connection.execute(sa.text(drop))
    finally:
        engine.dispose()


@contextmanager
def fresh_engine(backend: str, directory: str) -> Iterator[sa.Engine]:
    """An engine on an empty database of ``backend``, disposed of and dropped afterwards."""
    with fresh_database(backend, directory) as url:
        engine = sa.create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
