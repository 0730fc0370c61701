"""Accounts: register a user and list them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from . import db
from .models import Event, Role, User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/register")
def register() -> tuple[dict[str, Any], int]:
    username = (request.get_json(silent=True) or {}).get("username", "").strip()
    if not username:
        abort(400, "username is required")
    member = db.session.execute(db.select(Role).filter_by(name="member")).scalar_one()
    user = User(username=username, role_id=member.id)
    db.session.add(user)
    db.session.flush()
    db.session.add(Event(name="user.registered", user_id=user.id))
    db.session.commit()
    return {"id": user.id, "username": user.username}, 201


@bp.get("/users")
def users() -> dict[str, Any]:
    rows = db.session.execute(
        db.select(User.id, User.username, Role.name).join(Role).order_by(User.id)
    ).all()
    return {"users": [{"id": id, "username": username, "role": role} for id, username, role in rows]}
