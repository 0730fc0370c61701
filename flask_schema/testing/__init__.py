"""Test a project's migrations with pytest: ``pytest --flask-schema``.

The plugin in :mod:`flask_schema.testing.plugin` is registered through the
``pytest11`` entry point, so installing flask_schema is all it takes. It
stays out of the way until asked: with ``--flask-schema`` it adds the
built-in :data:`~flask_schema.testing.checks.CHECKS` next to the
``conftest.py`` that defines the project's ``app`` fixture, and at any time
a test can ask for the ``migrations`` fixture, a :class:`MigrationRunner`
on throw-away databases.
"""

from __future__ import annotations

from .checks import CHECKS, CheckFailed
from .runner import MigrationRunner

__all__ = ["CHECKS", "CheckFailed", "MigrationRunner"]
