import os

import sqlalchemy as sa
from flask import Flask

from flask_schema import Migrate

metadata = sa.MetaData()

person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
)

# A second database: one MetaData serves both, each table says where it lives.
page_view = sa.Table(
    "page_view",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("path", sa.String(200), nullable=False),
    info={"bind_key": "stats"},
)

app = Flask(__name__)
engine = sa.create_engine(os.environ.get("DATABASE_URL", "sqlite:///app.db"))
migrate = Migrate(
    app,
    metadata=metadata,
    engines={
        "default": engine,  # an Engine the app already uses
        "stats": os.environ.get("STATS_DATABASE_URL", "sqlite:///stats.db"),  # or a URL
    },
)
