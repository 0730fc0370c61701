"""Throw-away databases for migration tests, made from the app's own URLs.

Migration checks need an empty database, and they must never run against
the data of the person running the tests. For every database of the app
(the default one and each bind) :func:`throwaway_databases` makes a new
empty one next to it: a file in a temporary folder for SQLite, a freshly
created database with a random name on the same PostgreSQL or MySQL/MariaDB
server. The app's engines point at those while the test runs; afterwards
the originals are put back and the new databases dropped.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import Flask

from ..compat import require_engine_mapping
from ..errors import ConfigurationError, DatabaseError
from ..extension import get_state

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

#: The dialects for which a throw-away database can be made.
SERVER_DIALECTS = {"postgresql", "mysql", "mariadb"}

#: Databases to try for the administrative connection when the app's own
#: database does not exist yet.
MAINTENANCE_DATABASES = {"postgresql": ("postgres", "template1")}


def bind_label(key: str | None) -> str:
    return "default" if key is None else str(key)


def _engines(app: Flask) -> MutableMapping[str | None, Engine]:
    """The live mapping of bind key to engine that Flask-SQLAlchemy keeps for ``app``."""
    with app.app_context():
        return require_engine_mapping(get_state(app).db, "pytest --flask-schema")


@contextmanager
def throwaway_databases(app: Flask, directory: str) -> Iterator[dict[str | None, URL]]:
    """Point every database of ``app`` at a new empty one while the block runs.

    ``directory`` holds the SQLite files. Yields the new URL of each bind.
    """
    import sqlalchemy as sa

    engines = _engines(app)
    originals = dict(engines)
    for key, engine in originals.items():
        name = engine.dialect.name
        if name != "sqlite" and name not in SERVER_DIALECTS:
            raise ConfigurationError(
                f"The {bind_label(key)} database uses {name}; flask_schema's pytest plugin "
                "makes throw-away databases on SQLite, PostgreSQL and MySQL/MariaDB only."
            )
    created: list[tuple[URL, URL]] = []  # (admin URL, new database URL)
    urls: dict[str | None, URL] = {}
    try:
        for key, engine in originals.items():
            if engine.dialect.name == "sqlite":
                path = os.path.join(directory, f"{bind_label(key)}.db")
                if os.path.exists(path):
                    os.remove(path)
                urls[key] = engine.url.set(database=path)
            else:
                admin_url, new_url = _create_server_database(engine.url)
                created.append((admin_url, new_url))
                urls[key] = new_url
        for key, url in urls.items():
            engines[key] = sa.create_engine(url)
        yield urls
    finally:
        for key, engine in list(engines.items()):
            if engine is not originals.get(key):
                engine.dispose()
        engines.clear()
        engines.update(originals)
        for admin_url, new_url in reversed(created):
            _drop_server_database(admin_url, new_url)


def _database_name(original: str | None) -> str:
    """A new database name that shows where it came from and cannot clash."""
    base = re.sub(r"[^a-z0-9_]", "_", (original or "flask_schema").lower())[:32]
    return f"{base}_fs_{uuid.uuid4().hex[:10]}"


def _admin_urls(url: URL) -> list[URL]:
    """URLs that reach the server without needing the app's database to exist."""
    if url.get_backend_name() == "postgresql":
        return [url, *(url.set(database=name) for name in MAINTENANCE_DATABASES["postgresql"])]
    return [url.set(database=None)]


def _autocommit_engine(url: URL) -> Engine:
    import sqlalchemy as sa

    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _create_server_database(url: URL) -> tuple[URL, URL]:
    """Create an empty database on ``url``'s server; return (admin URL, its URL)."""
    import sqlalchemy as sa

    name = _database_name(url.database)
    problems = []
    for admin_url in _admin_urls(url):
        engine = _autocommit_engine(admin_url)
        try:
            with engine.connect() as connection:
                quoted = connection.dialect.identifier_preparer.quote(name)
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return admin_url, url.set(database=name)
        except sa.exc.OperationalError as error:
            problems.append(str(error.orig).strip().splitlines()[0])
        except sa.exc.DBAPIError as error:
            raise DatabaseError(
                f"Could not create a throw-away database on "
                f"{url.render_as_string(hide_password=True)}: {str(error.orig).strip()}"
            ) from None
        finally:
            engine.dispose()
    raise DatabaseError(
        f"Could not reach the server of {url.render_as_string(hide_password=True)} "
        f"to create a throw-away database: {'; '.join(problems)}"
    )


def _drop_server_database(admin_url: URL, url: URL) -> None:
    import sqlalchemy as sa

    engine = _autocommit_engine(admin_url)
    try:
        with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(str(url.database))
            drop = f"DROP DATABASE IF EXISTS {quoted}"
            version = connection.dialect.server_version_info or (0,)
            if connection.dialect.name == "postgresql" and version >= (13,):
                drop += " WITH (FORCE)"
            connection.execute(sa.text(drop))
    finally:
        engine.dispose()
