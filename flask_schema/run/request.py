"""What a command asks of the run, and what the run hands back.

These two types replace the string keys that used to travel in Alembic's
``config.attributes``: the API fills a :class:`RunRequest`, the run fills a
:class:`RunResult`, and nothing else passes between them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backup import BackupRequest

#: The commands the run knows, and what each does to the version table.
COMMANDS = ("upgrade", "downgrade", "stamp", "ensure_version", "resolve", "read", "walk")


@dataclass
class RunRequest:
    """One command's wishes for the run.

    ``command`` is one of :data:`COMMANDS`; ``read`` changes nothing and only
    reports each database's heads (``current``, ``status``, ``plan``).
    """

    command: str
    #: The revision to move to (upgrade/downgrade), or the revisions to stamp.
    target: str | tuple[str, ...] = "heads"
    #: Take the migration lock. ``None``: the ``lock`` setting decides.
    lock: bool | None = None
    lock_timeout: float | None = None
    #: ``--sql``: write SQL instead of running it.
    sql: bool = False
    #: The revision an offline run starts from (``start:end``).
    starting_rev: str | None = None
    tag: str | None = None
    purge: bool = False
    backup: BackupRequest | None = None
    #: For ``resolve``: the half-applied revision and whether its changes are all there.
    resolve: tuple[str, bool] | None = None
    #: For ``read``: called with (label, migration context) of each database.
    visit: Callable[[str, Any], None] | None = None
    #: Run ``alter_column`` changes that rewrite values. ``None``: the setting decides.
    allow_data_loss: bool | None = None
    #: Asked (with the question) before a drop that discards data; ``None`` goes ahead.
    confirm_drop: Callable[[str], bool] | None = None
    #: For ``walk``: the moves, each ("upgrade" or "downgrade", target), run in one go.
    moves: tuple[tuple[str, str], ...] = ()
    #: For ``walk``: called with the index of each move once it is done (and committed).
    after_move: Callable[[int], None] | None = None
    #: For ``upgrade``: ``"pre"`` holds back post-deploy revisions (see
    #: :mod:`flask_schema.phases`); ``"post"`` or ``None`` applies everything.
    phase: str | None = None

    @property
    def changes_database(self) -> bool:
        """Whether the command writes to the database, and so takes the lock."""
        return self.command != "read" and not self.sql


_ACTIVE: ContextVar[RunRequest | None] = ContextVar("flask_schema_run_request", default=None)


def active_request() -> RunRequest | None:
    """The request of the run in progress, for code Alembic calls inside it (the op guards)."""
    return _ACTIVE.get()


def activate(request: RunRequest | None) -> Any:
    """Make ``request`` the active one; returns the token :func:`deactivate` takes."""
    return _ACTIVE.set(request)


def deactivate(token: Any) -> None:
    _ACTIVE.reset(token)


@dataclass
class StepReport:
    """One revision step that ran to the end."""

    database: str
    step: str
    revision: str | None
    seconds: float


@dataclass
class DatabaseResult:
    """What the run found and did on one database."""

    key: Any
    label: str
    heads: tuple[str, ...] = ()
    steps: list[StepReport] = field(default_factory=list)
    #: Seconds this run waited for another holder of the lock.
    waited: float = 0.0
    #: Pending revisions an ``upgrade --phase pre`` left for the post phase.
    held_back: tuple[str, ...] = ()


@dataclass
class RunResult:
    """What a run did, per database, in the order the databases ran."""

    databases: dict[Any, DatabaseResult] = field(default_factory=dict)
    #: For ``resolve``: (database label, what was settled).
    resolved: list[tuple[str, str]] = field(default_factory=list)
    #: Features the project's ``env.py`` kept from working, one line each.
    notices: list[str] = field(default_factory=list)

    @property
    def heads(self) -> dict[Any, tuple[str, ...]]:
        """The revisions now current, keyed by bind key (``None`` is the default database)."""
        return {key: found.heads for key, found in self.databases.items()}

    @property
    def steps(self) -> list[StepReport]:
        return [step for found in self.databases.values() for step in found.steps]
