"""Throw-away databases for migration tests, and the guard that keeps a run on them.

Migration checks need an empty database, and they must never run against the
data of the person running the tests. For every database of the app (the
default one and each bind) a run gets a new empty one beside it, made by the
database family's backend (:meth:`~flask_schema.backends.base.Backend.throwaway_databases`:
a copy of a template database made once per session on PostgreSQL, a copy of
an empty file on SQLite, ``CREATE DATABASE`` elsewhere).

While the run lasts, everything the app exposes points at those: its
engines (wherever its :mod:`~flask_schema.sources` keeps them: Flask-SQLAlchemy,
Flask-SQLAlchemy-Lite or the ``engines`` given to ``Migrate``),
``SQLALCHEMY_DATABASE_URI``, ``SQLALCHEMY_BINDS``, ``SQLALCHEMY_ENGINES`` and
any other config value that holds one of the app's database URLs, so an ``env.py``
that builds its own engine from the config (as Flask-Migrate 2.x wrote them)
lands on the throw-away database too. And an :class:`IsolationGuard` watches
every SQLAlchemy connection of the process: one that opens to any other
database is refused and fails the run, naming the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask

from ..backends import backend_for
from ..backends.base import ADMIN_OPTION
from ..errors import IsolationBreach
from ..sources import DEFAULT_NAME, key_of
from ..state import get_state

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

    from ..backends.base import ThrowawayDatabases


def bind_label(key: str | None) -> str:
    return "default" if key is None else str(key)


class ThrowawayFactory:
    """Makes throw-away databases for one test session, one server set-up at a time.

    Whatever a family makes once per session (a template database) is made
    at first use and dropped by :meth:`close`. A database that a test never
    connected to is still empty, so it is kept for the next test instead of
    being dropped and made again; the others are dropped in the background
    while the next test runs. A check that leaves its databases in a state a
    later check starts from (upgraded from empty to the head) can hand them on
    under that state's name (:attr:`ThrowawayRun.keep_as`).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.servers: dict[str, ThrowawayDatabases] = {}
        self.spare: dict[str, list[URL]] = {}
        #: Databases handed on by one test to a later one: state -> app database URL -> database.
        self.kept: dict[str, dict[str, URL]] = {}
        self.dropping: list[Future[None]] = []
        self._dropper: ThreadPoolExecutor | None = None

    def for_url(self, url: URL) -> ThrowawayDatabases:
        key = url.render_as_string(hide_password=False)
        if key not in self.servers:
            self.servers[key] = backend_for(url.get_backend_name()).throwaway_databases(url, self.folder)
        return self.servers[key]

    def take(self, url: URL, reuse: str | None = None) -> tuple[ThrowawayDatabases, URL]:
        """A database beside ``url``'s: one handed on in state ``reuse``, else an empty one."""
        server = self.for_url(url)
        key = url.render_as_string(hide_password=False)
        kept = self.kept.get(reuse, {}).pop(key, None) if reuse is not None else None
        if kept is not None:
            return server, kept
        spare = self.spare.get(key)
        return server, (spare.pop() if spare else server.create())

    def give_back(
        self, server: ThrowawayDatabases, url: URL, untouched: bool, keep_as: str | None = None
    ) -> None:
        if keep_as is not None:
            kept = self.kept.setdefault(keep_as, {})
            key = server.url.render_as_string(hide_password=False)
            older = kept.get(key)
            kept[key] = url
            if older is None:
                return
            url, untouched = older, False  # the one it replaces is dropped
        if untouched:
            self.spare.setdefault(server.url.render_as_string(hide_password=False), []).append(url)
            return
        if self._dropper is None:
            self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flask_schema-drop")
        self.dropping.append(self._dropper.submit(server.drop, url))

    def close(self) -> None:
        """Drop everything: spare databases, those still dropping, then the templates."""
        try:
            for future in self.dropping:
                future.result()
            for key, urls in self.spare.items():
                for url in urls:
                    self.servers[key].drop(url)
            for by_server in self.kept.values():
                for key, url in by_server.items():
                    self.servers[key].drop(url)
        finally:
            if self._dropper is not None:
                self._dropper.shutdown()
            self.dropping.clear()
            self.spare.clear()
            self.kept.clear()
            for server in self.servers.values():
                server.close()
            self.servers.clear()


@dataclass
class ThrowawayRun:
    """The databases of one test, by bind key, and the guard that watches it."""

    urls: dict[str | None, URL]
    guard: IsolationGuard
    #: Set by a test that passed: the state its databases are in, to hand them on to a later test.
    keep_as: str | None = None


@contextmanager
def throwaway_databases(
    app: Flask, factory: ThrowawayFactory, reuse: str | None = None
) -> Iterator[ThrowawayRun]:
    """Point every database of ``app`` at a new empty one while the block runs.

    With ``reuse``, at databases an earlier test handed on in that state, where there are any.
    """
    source = get_state(app).source
    with app.app_context():
        originals = source.engines()
    made: list[tuple[ThrowawayDatabases, URL]] = []
    urls: dict[str | None, URL] = {}
    run = ThrowawayRun(urls, IsolationGuard(()))
    try:
        for key, engine in originals.items():
            server, urls[key] = factory.take(engine.url, reuse)
            made.append((server, urls[key]))
        replacements = {key: server.engine(url) for (key, url), (server, _) in zip(urls.items(), made)}
        run.guard = IsolationGuard(urls.values())
        with ExitStack() as swapped:
            with app.app_context():  # where the source finds its engines; not the test's
                swapped.enter_context(source.engines_replaced(replacements, "pytest --flask-schema"))
            with _config_pointing_at(app, originals, urls), run.guard.installed():
                yield run
    finally:
        keep_as = run.keep_as if not run.guard.breaches else None
        for server, url in reversed(made):
            factory.give_back(server, url, database_identity(url) not in run.guard.used, keep_as)


@contextmanager
def no_databases() -> Iterator[ThrowawayRun]:
    """For a test that needs no database: none is made, and every connection is refused."""
    run = ThrowawayRun({}, IsolationGuard(()))
    with run.guard.installed():
        yield run


@contextmanager
def _config_pointing_at(
    app: Flask, originals: dict[str | None, Engine], urls: dict[str | None, URL]
) -> Iterator[None]:
    """Replace every config value that names one of the app's databases, for the block.

    ``SQLALCHEMY_BINDS`` entries may be URLs or dicts with a ``"url"``; any
    other top-level value is replaced when it is one of the app's database
    URLs, as configured or as the engine has it.
    """
    config = app.config
    configured_binds = config.get("SQLALCHEMY_BINDS") or {}
    configured_engines = config.get("SQLALCHEMY_ENGINES") or {}  # Flask-SQLAlchemy-Lite's
    named: dict[str, URL] = {}  # a database URL as text -> its throw-away URL
    for key, engine in originals.items():
        new = urls[key]
        named[engine.url.render_as_string(hide_password=False)] = new
        for configured in (
            config.get("SQLALCHEMY_DATABASE_URI") if key is None else configured_binds.get(key),
            configured_engines.get(DEFAULT_NAME if key is None else key),
        ):
            if isinstance(configured, dict):
                configured = configured.get("url")
            if configured is not None:
                named[_as_text(configured)] = new
    saved = dict(config)
    try:
        for name, value in saved.items():
            if name == "SQLALCHEMY_BINDS" and isinstance(value, dict):
                config[name] = {bind: _swap_bind(entry, bind, urls, named) for bind, entry in value.items()}
            elif name == "SQLALCHEMY_ENGINES" and isinstance(value, dict):
                config[name] = {
                    engine_name: _swap_bind(entry, key_of(engine_name), urls, named)
                    for engine_name, entry in value.items()
                }
            elif _is_url_value(value) and _as_text(value) in named:
                config[name] = named[_as_text(value)].render_as_string(hide_password=False)
        yield
    finally:
        config.clear()
        config.update(saved)


def _swap_bind(entry: Any, key: str | None, urls: dict[str | None, URL], named: dict[str, URL]) -> Any:
    new = urls.get(key)
    if isinstance(entry, dict):
        found = entry.get("url")
        if new is None and found is not None:
            new = named.get(_as_text(found))
        return {**entry, "url": new.render_as_string(hide_password=False)} if new is not None else entry
    if new is None and _is_url_value(entry):
        new = named.get(_as_text(entry))
    return new.render_as_string(hide_password=False) if new is not None else entry


def _is_url_value(value: Any) -> bool:
    from sqlalchemy.engine import URL

    return isinstance(value, URL) or (isinstance(value, str) and "://" in value)


def _as_text(value: Any) -> str:
    """A URL given as text or as ``URL``, in one comparable spelling."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(value).render_as_string(hide_password=False)
    except (ArgumentError, ValueError, TypeError):
        return str(value)


# -- the guard -------------------------------------------------------------------


def database_identity(url: URL) -> tuple[Any, ...]:
    """What tells two URLs reach the same database, whatever the driver or the options."""
    return backend_for(url.get_backend_name()).database_identity(url)


class IsolationGuard:
    """Refuse every connection that opens to a database other than the run's throw-away ones.

    Installed on SQLAlchemy's ``Engine`` class, so it sees every engine of
    the process, including those an ``env.py`` builds itself. An in-memory
    SQLite database holds nobody's data and is let through, and so are the
    backends' own administrative engines, which create and drop the
    throw-away databases.
    """

    def __init__(self, urls: Iterable[URL]) -> None:
        self.allowed = {database_identity(url) for url in urls} | {("sqlite", ":memory:")}
        #: Each refused URL, without its password, in the order seen.
        self.breaches: list[str] = []
        #: The allowed databases a connection opened to.
        self.used: set[tuple[Any, ...]] = set()
        #: Whether a test report has shown the breaches already.
        self.reported = False
        self._decided: dict[URL, bool] = {}

    @contextmanager
    def installed(self) -> Iterator[None]:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "engine_connect", self._on_connect)
        try:
            yield
        finally:
            event.remove(Engine, "engine_connect", self._on_connect)

    def _on_connect(self, connection: Connection) -> None:
        if connection.engine.get_execution_options().get(ADMIN_OPTION):
            return  # creating or dropping a throw-away database, perhaps in the background
        url = connection.engine.url
        allowed = self._decided.get(url)
        if allowed is None:
            allowed = self._decided[url] = database_identity(url) in self.allowed
        if allowed:
            self.used.add(database_identity(url))
            return
        shown = url.render_as_string(hide_password=True)
        if shown not in self.breaches:
            self.breaches.append(shown)
        connection.close()
        raise IsolationBreach(self.message(shown))

    @staticmethod
    def message(shown: str) -> str:
        return (
            f"flask_schema: a connection opened to {shown}, which is not one of this run's "
            "throw-away databases; it was refused. The migration checks must never touch the "
            "databases the app fixture names: build engines in env.py from the app's engines "
            "or from SQLALCHEMY_DATABASE_URI / SQLALCHEMY_BINDS, which point at the throw-away "
            "databases during the run."
        )

    def failure(self) -> str | None:
        """The message that fails the test, or ``None`` when every connection was allowed."""
        if not self.breaches:
            return None
        return "\n".join(self.message(shown) for shown in self.breaches)
