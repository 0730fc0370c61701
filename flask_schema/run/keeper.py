"""Keep held locks alive while revisions run.

The lock's connection sits idle for as long as a revision takes. Servers,
proxies and poolers close idle connections (PostgreSQL's
``idle_session_timeout``, MariaDB's ``wait_timeout``), and a closed
connection drops a session lock with it, which would let a waiting replica
start the same revision. A daemon thread touches each lock every few
seconds (a ``SELECT 1``, or a lease renewal for the table lock) so that
does not happen, and notes a lock it finds lost; the run checks that note
and the database before each revision and before each commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..backends.lock import MigrationLock


class LockKeeper:
    """A thread that calls :meth:`MigrationLock.keep_alive` on every lock it holds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.locks: list[MigrationLock] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, lock: MigrationLock) -> None:
        self.locks.append(lock)
        if self._thread is None and self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="flask_schema lock keeper", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for lock in list(self.locks):
                lock.keep_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
            self._thread = None


@contextmanager
def keeping(interval: float) -> Iterator[LockKeeper]:
    """A :class:`LockKeeper` for the block; its thread ends with the block."""
    keeper = LockKeeper(interval)
    try:
        yield keeper
    finally:
        keeper.stop()
