"""One home per database family, chosen by dialect name.

Everything flask_schema does differently per database (the migration lock,
statement timeouts, which statements commit by themselves, how a migration
connection is made transactional) lives in one module per family, the way
Alembic's ``ddl/`` keeps one implementation per dialect. Code elsewhere asks
:func:`backend_for` and never tests a dialect name itself.

A dialect no module claims gets :class:`~flask_schema.backends.base.Backend`,
the generic path that works on any SQL database (a lock held as a row in a
lock table), so an unknown database is never run unlocked in silence.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Backend

_REGISTRY: dict[str, type[Backend]] = {}
_LOADED = False


def register(*dialect_names: str) -> Callable[[type[Backend]], type[Backend]]:
    """Class decorator: make a :class:`Backend` subclass the one for ``dialect_names``."""

    def decorate(cls: type[Backend]) -> type[Backend]:
        for name in dialect_names:
            _REGISTRY[name] = cls
        return cls

    return decorate


def _load() -> None:
    global _LOADED
    if not _LOADED:
        # Importing the family modules registers them.
        from . import mysql, postgresql, sqlite  # noqa: F401

        _LOADED = True


def backend_for(dialect_name: str) -> Backend:
    """The backend of ``dialect_name``; the generic one for a dialect no family claims."""
    _load()
    return _REGISTRY.get(dialect_name, Backend)(dialect_name)


def registered() -> dict[str, type[Backend]]:
    """The dialect names with a family module of their own (for docs and tests)."""
    _load()
    return dict(_REGISTRY)


__all__ = ["Backend", "backend_for", "register", "registered"]
