from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import BACKENDS, fresh_database
from flask_migrate_projects import make_flask_migrate_folders
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


@pytest.fixture(scope="session")
def flask_migrate_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Migrations folders written by the real Flask-Migrate 4.1 (made once per run)."""
    return make_flask_migrate_folders(tmp_path_factory.mktemp("flask_migrate"))


@pytest.fixture
def bound_project(project: Project, tmp_path: Path) -> Iterator[Project]:
    """``project`` plus a second database on the same backend, bind key ``audit``."""
    other = tmp_path / "audit"
    other.mkdir()
    with fresh_database(project.backend, str(other)) as url:
        project.binds["audit"] = url
        yield project


@pytest.fixture
def postgresql_project(tmp_path: Path) -> Iterator[Project]:
    """A project on PostgreSQL only, for behaviour only PostgreSQL has."""
    with fresh_database("postgresql", str(tmp_path)) as url:
        yield Project(tmp_path, url, "postgresql")
