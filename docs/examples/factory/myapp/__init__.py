import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_schema import Migrate

db = SQLAlchemy()
migrate = Migrate()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    db.init_app(app)
    migrate.init_app(app, db)

    # Import the models so autogenerate sees their tables.
    from . import models  # noqa: F401

    return app
