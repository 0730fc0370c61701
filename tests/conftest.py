from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import BACKENDS, fresh_database
from project import Project


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that asks for it runs once per database backend."""
    return str(request.param)


@pytest.fixture
def project(backend: str, tmp_path: Path) -> Iterator[Project]:
    """A project folder with its own fresh database on ``backend``."""
    with fresh_database(backend, str(tmp_path)) as url:
        yield Project(tmp_path, url, backend)


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Iterator[Project]:
    """A project on SQLite only, for behaviour that does not touch the database."""
    with fresh_database("sqlite", str(tmp_path)) as url:
        yield Project(tmp_path, url, "sqlite")


@pytest.fixture
def postgresql_project(tmp_path: Path) -> Iterator[Project]:
    """A project on PostgreSQL only, for behaviour only PostgreSQL has."""
    with fresh_database("postgresql", str(tmp_path)) as url:
        yield Project(tmp_path, url, "postgresql")
