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
its own autocommit connection, so a failing migration cannot roll it back.
The table exists only while a run is going or something is unfinished: a run
that ends cleanly drops it, so a healthy database carries no extra table.
"""

from __future__ import annotations

import datetime
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


def table_name(version_table: str) -> str:
    return f"{version_table}_runlog"


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
            else "did not finish (its process died, or runs on without the lock)"
        )
        when = self.started_at.replace(microsecond=0).isoformat(" ") if self.started_at else "?"
        return f"the {verb} {self.revision} started {when} on {self.host} (pid {self.pid}) {state}"


class RunLog:
    """The run log of one database, used through an autocommit connection."""

    def __init__(self, connection: Connection, version_table: str, schema: str | None) -> None:
        self.connection = connection
        self.table = _table(table_name(version_table), schema)

    def exists(self) -> bool:
        from sqlalchemy import inspect

        inspector = inspect(self.connection)
        return bool(inspector.has_table(self.table.name, schema=self.table.schema))

    def entries(self) -> list[Entry]:
        """Every unfinished revision, oldest first."""
        if not self.exists():
            return []
        rows = self.connection.execute(self.table.select().order_by(self.table.c.started_at))
        return [
            Entry(row.revision, row.direction, row.status, row.started_at, row.host, row.pid, row.error or "")
            for row in rows
        ]

    def start(self, revision: str, direction: str) -> None:
        if not self.exists():
            self.table.create(self.connection, checkfirst=True)
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

    def drop_if_empty(self) -> None:
        """Remove the table once nothing is unfinished, so a clean database carries no trace."""
        if self.exists() and not self.entries():
            self.table.drop(self.connection)

    def finish(self, revision: str) -> None:
        self.connection.execute(self.table.delete().where(self.table.c.revision == revision))

    def fail(self, revision: str, error: str) -> None:
        self.connection.execute(
            self.table.update()
            .where(self.table.c.revision == revision)
            .values(status="failed", error=error[:2000])
        )


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
