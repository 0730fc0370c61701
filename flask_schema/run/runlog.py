"""The run log: which revision a run was inside when it stopped.

On MariaDB/MySQL (and SQLite) each DDL statement commits by itself, so a
revision that fails halfway leaves some of its changes behind while the
version table still names the revision before it. The version table alone
cannot tell that apart from a clean state, and the next ``upgrade`` would
fail on the half-made changes or, worse, run over them. So before a
revision starts we note it here, and we remove the note once it committed.
A note left behind means "this revision stopped partway": the next run
refuses to guess and points at ``flask db resolve``.

The log lives in its own table beside the version table and is written on
the lock's autocommit connection, so a failing migration cannot roll it
back. A note is written only when a revision is about to do something that
outlives its transaction (any DDL on MariaDB, an ``autocommit_block`` on
PostgreSQL), so on a database whose revisions roll back whole the table
never appears. An entry whose revision the version table already shows as
done is stale and is dropped (:meth:`RunLog.settle`); the table itself is
dropped once nothing is unfinished.
"""

from __future__ import annotations

import datetime
import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..internal_tables import runlog_table

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


def table_name(version_table: str) -> str:
    return runlog_table(version_table)


@dataclass(frozen=True)
class Entry:
    """One revision a run started and did not finish."""

    revision: str
    direction: str
    status: str
    started_at: datetime.datetime | None
    host: str
    pid: int
    error: str

    def describe(self) -> str:
        verb = "upgrade to" if self.direction == "upgrade" else "downgrade from"
        state = (
            "failed"
            if self.status == "failed"
            else "did not finish (its process died, or lost the migration lock)"
        )
        when = self.started_at.replace(microsecond=0).isoformat(" ") if self.started_at else "?"
        return f"the {verb} {self.revision} started {when} on {self.host} (pid {self.pid}) {state}"


class RunLog:
    """The run log of one database, used through an autocommit connection.

    ``mutex`` serialises use of the connection with the thread that keeps
    it alive.
    """

    def __init__(
        self,
        connection: Connection,
        version_table: str,
        schema: str | None,
        mutex: threading.RLock | None = None,
    ) -> None:
        self.connection = connection
        self.table = _table(table_name(version_table), schema)
        self._exists: bool | None = None
        self._mutex: AbstractContextManager[Any] = mutex if mutex is not None else nullcontext()

    def exists(self) -> bool:
        from sqlalchemy import inspect

        if self._exists is None:
            with self._mutex:
                inspector = inspect(self.connection)
                self._exists = bool(inspector.has_table(self.table.name, schema=self.table.schema))
        return self._exists

    def entries(self) -> list[Entry]:
        """Every unfinished revision, oldest first."""
        if not self.exists():
            return []
        with self._mutex:
            rows = self.connection.execute(self.table.select().order_by(self.table.c.started_at))
            return [
                Entry(
                    row.revision,
                    row.direction,
                    row.status,
                    row.started_at,
                    row.host,
                    row.pid,
                    row.error or "",
                )
                for row in rows
            ]

    def settle(self, is_done: Callable[[Entry], bool | None]) -> list[Entry]:
        """Drop the entries the version table already records as done; return the rest.

        ``is_done`` returns ``None`` when it cannot tell (the revision's file
        is gone): such an entry stays.
        """
        left = []
        for entry in self.entries():
            if is_done(entry):
                self.finish(entry.revision)
            else:
                left.append(entry)
        return left

    def start(self, revision: str, direction: str) -> None:
        """Note that ``revision`` is about to change the database in a way that outlives a rollback."""
        with self._mutex:
            if not self.exists():
                self.table.create(self.connection, checkfirst=True)
                self._exists = True
            self.connection.execute(self.table.delete().where(self.table.c.revision == revision))
            self.connection.execute(
                self.table.insert().values(
                    revision=revision,
                    direction=direction,
                    status="running",
                    started_at=datetime.datetime.now(),
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    error="",
                )
            )

    def finish(self, revision: str) -> None:
        if not self.exists():
            return
        with self._mutex:
            self.connection.execute(self.table.delete().where(self.table.c.revision == revision))

    def fail(self, revision: str, error: str) -> None:
        with self._mutex:
            self.connection.execute(
                self.table.update()
                .where(self.table.c.revision == revision)
                .values(status="failed", error=error[:2000])
            )

    def drop_if_empty(self) -> None:
        """Remove the table once nothing is unfinished, so a clean database carries no trace."""
        if self.exists() and not self.entries():
            with self._mutex:
                self.table.drop(self.connection, checkfirst=True)
                self._exists = False


def _table(name: str, schema: str | None) -> Table:
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

    return Table(
        name,
        MetaData(),
        Column("revision", String(64), primary_key=True),
        Column("direction", String(16), nullable=False),
        Column("status", String(16), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("host", String(255), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("error", Text),
        schema=schema,
    )
