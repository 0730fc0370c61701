"""The blog's tables, and the analytics bind's."""

from __future__ import annotations

from datetime import datetime, timezone

from . import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Role(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False, unique=True)


class User(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), nullable=False, unique=True)
    role_id = db.Column(
        db.Integer, db.ForeignKey("role.id", name="fk_user_role_id_role"), nullable=False, index=True
    )


class Post(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    content = db.Column(db.Text, nullable=False)


class Event(db.Model):  # type: ignore[name-defined,misc]
    """Something that happened, kept in the separate analytics database."""

    __bind_key__ = "analytics"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False, index=True)
    # No foreign key: users live in the other database.
    user_id = db.Column(db.Integer, nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
