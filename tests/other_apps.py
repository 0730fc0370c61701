"""App files for projects that use Flask-SQLAlchemy-Lite or SQLAlchemy alone.

Both apps read their databases from the environment a :class:`Project`
sets (``DATABASE_URL``, and ``BIND_AUDIT`` for a second database named
``audit``), so the same file serves one database or two. ``PERSON_EXTRA``
in the file is where a test adds a column to the ``person`` model.
"""

from __future__ import annotations

from project import Project

LITE_APP = """\
import os

from flask import Flask
from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_schema import Migrate


class Base(DeclarativeBase):
    pass


class AuditBase(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # PERSON_EXTRA


class AuditLog(AuditBase):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))


db = SQLAlchemy()
migrate = Migrate()


def create_app():
    app = Flask(__name__)
    engines = {"default": os.environ["DATABASE_URL"]}
    metadata = Base.metadata
    if "BIND_AUDIT" in os.environ:
        engines["audit"] = os.environ["BIND_AUDIT"]
        metadata = {"default": Base.metadata, "audit": AuditBase.metadata}
    app.config["SQLALCHEMY_ENGINES"] = engines
    db.init_app(app)
    migrate.init_app(app, db, metadata=metadata)
    return app
"""

PLAIN_APP = '''\
import os

import sqlalchemy as sa
from flask import Flask, current_app

from flask_schema import Migrate

metadata = sa.MetaData()
person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    # PERSON_EXTRA
)
if "BIND_AUDIT" in os.environ:
    # One MetaData for both databases: the table says where it lives.
    sa.Table(
        "audit_log",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(20)),
        info={"bind_key": "audit"},
    )

migrate = Migrate()


def make_engines():
    """Called by flask_schema inside the app context, the first time a command needs them."""
    found = {"default": sa.create_engine(current_app.config["DATABASE_URL"])}
    if "AUDIT_URL" in current_app.config:
        found["audit"] = current_app.config["AUDIT_URL"]
    return found


def create_app():
    app = Flask(__name__)
    app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if "BIND_AUDIT" in os.environ:
        app.config["AUDIT_URL"] = os.environ["BIND_AUDIT"]
    migrate.init_app(app, metadata=metadata, engines=make_engines)
    return app
'''

#: The line a test replaces to add a column, per kind.
NICKNAME = {
    "lite": "nickname: Mapped[str | None] = mapped_column(String(40))",
    "plain": 'sa.Column("nickname", sa.String(40)),',
}

APPS = {"lite": LITE_APP, "plain": PLAIN_APP}


def write_other_app(project: Project, kind: str, nickname: bool = False) -> None:
    """Write ``app.py`` of ``kind`` (``lite`` or ``plain``) into the project."""
    source = APPS[kind]
    if nickname:
        source = source.replace("# PERSON_EXTRA", NICKNAME[kind])
    (project.path / "app.py").write_text(source)
