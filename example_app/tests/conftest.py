"""The blog's test set-up: one ``app`` fixture, which is all flask_schema's
migration checks need (``pytest --flask-schema example_app/tests``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from flask import Flask

# The blog is not installed; make it importable as `flask --app blog` does from example_app/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blog import create_app  # noqa: E402


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The blog on a database of its own: DATABASE_URL if set, else a SQLite file."""
    url = os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'blog.db'}")
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
