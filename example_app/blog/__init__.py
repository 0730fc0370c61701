"""A small blog used as flask_schema's example app."""

from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_schema import Migrate

db = SQLAlchemy()
migrate = Migrate()


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    """Create the app; SQLite in the instance folder unless DATABASE_URL is set."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    default_url = "sqlite:///" + os.path.join(app.instance_path, "blog.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", default_url)
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    here = os.path.dirname(os.path.abspath(__file__))
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(here), "migrations"))

    from . import models  # noqa: F401  (registers the tables on db.metadata)

    return app
