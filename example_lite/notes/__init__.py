"""A small notes app on Flask-SQLAlchemy-Lite, with two databases, migrated by flask_schema.

Flask-SQLAlchemy-Lite makes the engines (``SQLALCHEMY_ENGINES``) and the
models use the app's own ``DeclarativeBase``, so ``Migrate`` is told where
the models' metadata is, one ``MetaData`` per database.
"""

from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy_lite import SQLAlchemy

from flask_schema import Migrate

db = SQLAlchemy()
migrate = Migrate()


def create_app() -> Flask:
    app = Flask(__name__)
    os.makedirs(app.instance_path, exist_ok=True)
    default_url = f"sqlite:///{os.path.join(app.instance_path, 'notes.db')}"
    audit_url = f"sqlite:///{os.path.join(app.instance_path, 'audit.db')}"
    app.config["SQLALCHEMY_ENGINES"] = {
        "default": os.environ.get("DATABASE_URL", default_url),
        "audit": os.environ.get("AUDIT_DATABASE_URL", audit_url),
    }
    db.init_app(app)

    from .models import AuditBase, Base

    migrate.init_app(app, db, metadata={"default": Base.metadata, "audit": AuditBase.metadata})

    from .views import bp

    app.register_blueprint(bp)
    return app
