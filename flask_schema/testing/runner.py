"""Drive the migrations of the app under test from a test function.

:class:`MigrationRunner` is what the ``migrations`` fixture returns. Each
method is one ``flask db`` command (through :mod:`flask_schema.api`) or one
look at the database, run inside the app's context so a test needs none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, cast

from flask import Flask

from .. import api
from ..backends import backend_for
from ..errors import MultipleHeadsError
from ..internal_tables import lock_table, runlog_table
from ..revision_headers import reuse_script_directories
from ..state import get_state
from .database import IsolationGuard, bind_label
from .schema import Snapshot, snapshot

if TYPE_CHECKING:
    from alembic.script import Script
    from sqlalchemy.engine import Connection, Engine


class MigrationRunner:
    """Upgrade, downgrade and inspect the databases of ``app``.

    In a data-migration test, upgrade to the revision before the one under
    test, :meth:`insert` rows shaped as the tables were then, upgrade, and
    read the result with :meth:`rows`::

        def test_split_name(migrations):
            migrations.upgrade("1a2b3c")
            migrations.insert("user", [{"id": 1, "name": "Ada Lovelace"}])
            migrations.upgrade("4d5e6f")
            assert migrations.rows("user") == [{"id": 1, "first": "Ada", "last": "Lovelace"}]
    """

    def __init__(
        self,
        app: Flask,
        directory: str | None = None,
        guard: IsolationGuard | None = None,
        memo: dict[Any, Any] | None = None,
        lock: bool | None = None,
    ) -> None:
        self.app = app
        self.directory = directory
        #: The isolation guard of the throw-away databases, when the plugin made them.
        self.guard = guard
        #: What one check found that another of the same session can use (see ``checks``).
        self.memo: dict[Any, Any] = memo if memo is not None else {}
        #: Whether upgrades and downgrades take the migration lock (``None``: the app's setting).
        self.lock = lock
        #: The connections :meth:`schema` reads on, by bind key, inside :meth:`reading_schema`.
        self._readers: dict[str | None, Connection] = {}

    @contextmanager
    def app_context(self) -> Iterator[None]:
        with self.app.app_context():
            yield

    @contextmanager
    def history_fixed(self) -> Iterator[None]:
        """Read the revision files once for the whole block, not once per command.

        For a block in which no revision file is written, such as a check.
        """
        with reuse_script_directories():
            yield

    def key(self) -> tuple[Any, ...]:
        """What a result found for this app's history and databases depends on."""
        with self.app_context():
            directory = self.directory or get_state().directory
            return (
                os.path.abspath(directory),
                tuple(str(engine.url.get_backend_name()) for engine in get_state().source.engines().values()),
            )

    @contextmanager
    def recorded_statements(self) -> Iterator[list[str]]:
        """Collect the SQL text every connection of the process runs in the block."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        found: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            found.append(statement)

        event.listen(Engine, "before_cursor_execute", record)
        try:
            yield found
        finally:
            event.remove(Engine, "before_cursor_execute", record)

    @contextmanager
    def reading_schema(self) -> Iterator[None]:
        """Read the schema on one connection per database for the whole block.

        For a block that reads it after every step: a connection of its own,
        in autocommit mode, costs no checkout, ``BEGIN`` or ``ROLLBACK`` per read.
        """
        with ExitStack() as stack:
            for key in self.bind_keys():
                connection = stack.enter_context(self.engine(key).connect())
                self._readers[key] = connection.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield
            finally:
                self._readers.clear()

    # -- the history -------------------------------------------------------------

    def revisions(self) -> list[Script]:
        """Every revision, oldest first, in the order an upgrade applies them."""
        with self.app_context():
            return list(reversed(api.history(self.directory)))

    def heads(self) -> list[str]:
        """The head revision ids of the history."""
        with self.app_context():
            return [script.revision for script in api.heads(self.directory)]

    # -- running migrations --------------------------------------------------------

    def upgrade(self, revision: str = "heads") -> api.Heads:
        """Run ``flask db upgrade REVISION``; return the revisions now current per bind."""
        with self.app_context():
            return cast(api.Heads, api.upgrade(self.directory, revision, backup=False, lock=self.lock))

    def walk(self, moves: Sequence[tuple[str, str]], after_move: Callable[[int], None]) -> api.Heads:
        """Run ``moves`` in one run of ``env.py``, calling ``after_move(index)`` after each."""
        with self.app_context():
            return api.walk(self.directory, moves, after_move, lock=self.lock)

    def downgrade(self, revision: str = "base") -> api.Heads:
        """Run ``flask db downgrade REVISION``; return the revisions now current per bind."""
        with self.app_context():
            return cast(api.Heads, api.downgrade(self.directory, revision, backup=False, lock=self.lock))

    def current_heads(self) -> api.Heads:
        """The revisions applied to each database, keyed by bind key."""
        with self.app_context():
            return api.current(self.directory)

    def current(self, bind: str | None = None) -> str | None:
        """The revision ``bind`` is at, or ``None`` for an empty database."""
        revisions = self.current_heads().get(bind, ())
        if len(revisions) > 1:
            raise MultipleHeadsError(
                f"The {bind_label(bind)} database is at several revisions: {', '.join(revisions)}; "
                "use current_heads()."
            )
        return revisions[0] if revisions else None

    def check(self) -> None:
        """Run ``flask db check``: raise ChangesDetected if the models drifted."""
        with self.app_context():
            api.check(self.directory)

    # -- looking at and filling the databases --------------------------------------

    def bind_keys(self) -> list[str | None]:
        """The default database (``None``) first, then each bind."""
        with self.app_context():
            return get_state().source.keys()

    def labels(self) -> dict[str | None, str]:
        """How :meth:`schema` names each database in its keys: ``""`` when there is one."""
        keys = self.bind_keys()
        return {key: bind_label(key) if len(keys) > 1 else "" for key in keys}

    def labels_where_index_names_stand_alone(self) -> set[str]:
        """The :meth:`labels` of databases where SQL can name an index without its table."""
        return {
            label
            for key, label in self.labels().items()
            if backend_for(self.engine(key).dialect.name).index_names_stand_alone
        }

    def engine(self, bind: str | None = None) -> Engine:
        """The engine the app uses for ``bind`` (a throw-away database under the plugin)."""
        with self.app_context():
            return get_state().source.engine(bind)

    def version_table(self) -> str:
        with self.app_context():
            return str(get_state().configure_args.get("version_table") or "alembic_version")

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]], bind: str | None = None) -> None:
        """Insert ``rows`` into ``table`` as the table is in the database right now.

        The table is read from the database, not from the models, so the rows
        fit the revision the database is at, whatever the models say today.
        """
        import sqlalchemy as sa

        with self.engine(bind).begin() as connection:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            connection.execute(reflected.insert(), [dict(row) for row in rows])

    def rows(self, table: str, bind: str | None = None) -> list[dict[str, Any]]:
        """Every row of ``table`` as a dict, ordered by its primary key."""
        import sqlalchemy as sa

        with self.engine(bind).connect() as connection:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            query = sa.select(reflected).order_by(*reflected.primary_key.columns)
            return [dict(row) for row in connection.execute(query).mappings()]

    def schema(self, tables: set[str] | None = None, quick: bool = False) -> Snapshot:
        """The schema of every database, without the version table and our own tables beside it.

        With ``tables``, only those are read in detail (every table is listed).
        With ``quick``, in one query where the database family can (see
        :func:`~flask_schema.testing.schema.snapshot`).
        """
        version_table = self.version_table()
        exclude = {version_table, runlog_table(version_table), lock_table(version_table)}
        found: Snapshot = {}
        for key, label in self.labels().items():
            reader = self._readers.get(key)
            with nullcontext(reader) if reader is not None else self.engine(key).connect() as connection:
                found.update(snapshot(connection, exclude, label, tables, quick))
        return found
