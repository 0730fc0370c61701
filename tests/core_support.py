"""Small in-process apps and helpers shared by the tests/test_core_*.py files.

A subprocess per command costs most of a second; the Python API and click's
test runner can drive the same code in-process, so the tests that check many
small behaviours build their app here instead of on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import URL

from flask_schema import Migrate


def make_app(
    url: URL,
    migrations: Path,
    email: bool = False,
    binds: dict[str, URL] | None = None,
    **migrate_kwargs: Any,
) -> tuple[Flask, SQLAlchemy, Migrate]:
    """An app with a ``user`` table (plus ``email`` when asked) and a Migrate."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    if binds:
        app.config["SQLALCHEMY_BINDS"] = {
            key: bind.render_as_string(hide_password=False) for key, bind in binds.items()
        }
    db = SQLAlchemy()

    namespace: dict[str, Any] = {
        "id": db.Column(db.Integer, primary_key=True),
        "name": db.Column(db.String(100)),
    }
    if email:
        namespace["email"] = db.Column(db.String(200))
    type("User", (db.Model,), namespace)
    if binds:
        for key in binds:
            type(
                f"Log{key.title()}",
                (db.Model,),
                {
                    "__bind_key__": key,
                    "__tablename__": f"log_{key}",
                    "id": db.Column(db.Integer, primary_key=True),
                },
            )
    db.init_app(app)
    migrate = Migrate(app, db, directory=str(migrations), **migrate_kwargs)
    return app, db, migrate


@contextmanager
def quiet_loggers() -> Iterator[None]:
    """Undo what a command does to logging in this process, so tests stay independent.

    Commands add handlers to our loggers, and an env.py written by
    Flask-Migrate calls ``fileConfig``, which replaces the root handlers and
    disables every logger it does not name.
    """
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    loggers = [logging.getLogger(name) for name in ("alembic", "flask_schema", "sqlalchemy")]
    loggers += [
        logger for logger in root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = {
        logger: (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
        for logger in loggers
    }
    try:
        yield
    finally:
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for logger, (handlers, level, propagate, disabled) in saved.items():
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled
