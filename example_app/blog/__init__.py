"""A small blog used as flask_schema's example app.

Two databases: the blog's own (users, roles, posts) and an ``analytics``
bind that only collects events. Both are SQLite files in the instance
folder unless ``DATABASE_URL`` and ``ANALYTICS_DATABASE_URL`` name others,
for example PostgreSQL in production.
"""

from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_schema import Migrate

db = SQLAlchemy()
migrate = Migrate()


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    """Create the app: databases from the environment, the two blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "blog.db")
    )
    app.config["SQLALCHEMY_BINDS"] = {
        "analytics": os.environ.get(
            "ANALYTICS_DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "analytics.db")
        ),
    }
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    # The migrations folder sits next to the package, wherever flask runs from.
    here = os.path.dirname(os.path.abspath(__file__))
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(here), "migrations"))

    from . import auth, models, posts  # noqa: F401  (models registers the tables)

    app.register_blueprint(auth.bp)
    app.register_blueprint(posts.bp)
    return app
