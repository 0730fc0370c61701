"""Safe Alembic migrations for Flask-SQLAlchemy apps.

``from flask_schema import Migrate`` is all a project needs; the names below
are the public API. Alembic is imported only when a command runs, so a web
worker that imports this package pays nothing for migrations it never runs.
"""

from __future__ import annotations

from typing import Any

from .api import (
    backups,
    branches,
    check,
    current,
    downgrade,
    edit,
    ensure_version,
    heads,
    history,
    init,
    list_templates,
    merge,
    migrate,
    plan,
    resolve,
    restore,
    revision,
    show,
    sql,
    stamp,
    status,
    upgrade,
)
from .api import lint as lint_revisions
from .autogen import NAMING_CONVENTION
from .errors import (
    BackupError,
    ChangesDetected,
    CommandError,
    ConfigurationError,
    DatabaseError,
    DataLossRefused,
    FlaskSchemaError,
    HalfAppliedRevision,
    InvalidArgument,
    LockTimeout,
    MigrationFailed,
    MigrationsFolderError,
    MultipleHeadsError,
    RevisionError,
)
from .extension import Migrate, MigrateState
from .selection import only_databases

__all__ = [
    "BackupError",
    "ChangesDetected",
    "CommandError",
    "Config",
    "ConfigurationError",
    "DataLossRefused",
    "DatabaseError",
    "FlaskSchemaError",
    "HalfAppliedRevision",
    "InvalidArgument",
    "LockTimeout",
    "Migrate",
    "MigrateState",
    "MigrationFailed",
    "MigrationsFolderError",
    "MultipleHeadsError",
    "NAMING_CONVENTION",
    "RevisionError",
    "alembic_version",
    "backups",
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "lint_revisions",
    "list_templates",
    "merge",
    "migrate",
    "only_databases",
    "plan",
    "resolve",
    "restore",
    "revision",
    "show",
    "sql",
    "stamp",
    "status",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    # Both names need Alembic; resolve them only when someone asks.
    if name == "Config":
        from .config import Config

        return Config
    if name == "alembic_version":
        from importlib.metadata import version

        return tuple(int(part) for part in version("alembic").split(".")[:3] if part.isdigit())
    raise AttributeError(f"module 'flask_schema' has no attribute {name!r}")
