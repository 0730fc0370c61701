""""No changes in schema detected" explains itself; unnamed constraints are warned about."""

from __future__ import annotations

import argparse
import logging

import pytest
import sqlalchemy as sa
from project import Project

from flask_schema.autogen import NAMING_CONVENTION, _warn_unnamed_constraints

USER = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(50), unique=True)
"""


def test_no_changes_is_explained(project: Project) -> None:
    # No model is imported, so the metadata is empty.
    project.write_app("")
    project.db("init")
    empty = project.db("migrate")
    assert "No changes in schema detected." in empty.stderr
    assert "No models are registered on the metadata" in empty.stderr
    assert project.revision_files() == []

    # The tables exist already (made without migrations), but no revision is recorded.
    metadata = sa.MetaData()
    sa.Table(
        "user", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(50), unique=True),
    )
    engine = project.engine()
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    project.write_app(USER)
    existing = project.db("migrate")
    assert "No changes in schema detected." in existing.stderr
    assert "already has the models' tables (user) but no revision is recorded" in existing.stderr
    assert "flask db stamp head" in existing.stderr
    # The unique constraint has no name and the metadata no convention: said once.
    assert existing.stderr.count("has no naming convention") == 1
    assert project.revision_files() == []


def _config() -> argparse.Namespace:
    return argparse.Namespace(attributes={})


def _metadata(convention: dict[str, str] | None) -> sa.MetaData:
    metadata = sa.MetaData(naming_convention=convention) if convention else sa.MetaData()
    sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("code", sa.String(5), unique=True))
    sa.Table("b", metadata, sa.Column("a_id", sa.ForeignKey("a.id")),
             sa.CheckConstraint("a_id > 0", name="positive" if convention else None))
    return metadata


def test_unnamed_constraints_warned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Count records on a handler of our own: other in-process tests leave the
    # flask_schema logger with handlers, levels or propagation of their own.
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("flask_schema")
    monkeypatch.setattr(logger, "handlers", [Collect()])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "level", logger.level)  # restored afterwards
    logger.setLevel(logging.INFO)  # also clears logging's cache of enabled levels
    config = _config()
    _warn_unnamed_constraints(_metadata(None), config)  # type: ignore[arg-type]
    _warn_unnamed_constraints(_metadata(None), config)  # type: ignore[arg-type]
    _warn_unnamed_constraints(_metadata(NAMING_CONVENTION), _config())  # type: ignore[arg-type]
    messages = [record.getMessage() for record in records]
    warnings = [message for message in messages if "naming convention" in message]
    assert len(warnings) == 1
    assert "3 constraint(s) have no name" in warnings[0]
    assert "NAMING_CONVENTION" in warnings[0]
