import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_schema import Migrate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
db = SQLAlchemy(app)
migrate = Migrate(app, db)


@migrate.configure
def date_first_file_names(config):
    # Revision files sort by date: 20260122_1f2e3d4c5b6a_add_users.py
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config
