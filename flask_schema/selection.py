"""Which of the app's databases a command runs on (``--database NAME``).

A command runs on every database by default. :func:`only_databases` narrows
that for the block it wraps; the ``env.py`` that ``flask db init`` writes
honours it in :func:`flask_schema.runtime.run_env`, which is the one place
that chooses the databases. An ``env.py`` written by someone else picks its
databases itself, so the run refuses before it touches any of them
(:func:`require_honoured`) rather than run them all in silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import ConfigurationError
from .sources import key_of, label


@dataclass
class Selection:
    """The databases asked for, by name, and whether ``env.py`` took notice."""

    names: tuple[str, ...]
    honoured: bool = False


_SELECTED: ContextVar[Selection | None] = ContextVar("flask_schema_databases", default=None)


@contextmanager
def only_databases(names: Iterable[str] | None) -> Iterator[Selection | None]:
    """Run the commands of the block on the databases ``names`` only (all when empty).

    ``"default"`` names the default database. For example::

        with app.app_context(), only_databases(["analytics"]):
            flask_schema.upgrade()
    """
    chosen = tuple(dict.fromkeys(names or ()))
    selection = Selection(chosen) if chosen else None
    token = _SELECTED.set(selection)
    try:
        yield selection
    finally:
        _SELECTED.reset(token)


def selected() -> Selection | None:
    """The selection of the command in progress; ``None`` runs every database."""
    return _SELECTED.get()


def choose(keys: Sequence[str | None], multidb: bool) -> list[str | None]:
    """``keys`` narrowed to the selection, in their order; each name asked for must be one."""
    selection = selected()
    if selection is None:
        return list(keys)
    selection.honoured = True
    wanted = [key_of(name) for name in selection.names]
    unknown = [name for name, key in zip(selection.names, wanted) if key not in keys]
    if unknown:
        if not multidb:
            raise ConfigurationError(
                f"No database named {_quoted(unknown)} in this migrations folder: it migrates "
                "only the default database (it was made without 'flask db init --multidb')."
            )
        raise ConfigurationError(
            f"No database named {_quoted(unknown)}: the app's databases are "
            f"{', '.join(label(key) for key in keys)}."
        )
    return [key for key in keys if key in wanted]


def require_honoured(env_py: str) -> None:
    """Refuse a selection that ``env_py`` did not read, before it runs anything."""
    selection = selected()
    if selection is not None and not selection.honoured:
        raise ConfigurationError(
            f"--database {' '.join(selection.names)} cannot be honoured: {env_py} chooses its "
            "databases itself; it needs the env.py 'flask db init' writes, which calls "
            "flask_schema.runtime.run_env."
        )


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
