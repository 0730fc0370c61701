"""Two routes: add a note (recording the event in the audit database) and list them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import db
from .models import Event, Note

bp = Blueprint("notes", __name__)


@bp.post("/notes")
def add() -> tuple[dict[str, Any], int]:
    data = request.get_json()
    note = Note(title=data["title"], body=data.get("body", ""), pinned=bool(data.get("pinned")))
    db.session.add(note)
    db.session.commit()
    with Session(db.get_engine("audit")) as audit:
        audit.add(Event(note_id=note.id, action="created"))
        audit.commit()
    return {"id": note.id}, 201


@bp.get("/notes")
def index() -> dict[str, Any]:
    notes = db.session.scalars(select(Note).order_by(Note.pinned.desc(), Note.id)).all()
    with Session(db.get_engine("audit")) as audit:
        events = audit.scalars(select(Event.action).order_by(Event.id)).all()
    return {"notes": [{"title": n.title, "pinned": n.pinned} for n in notes], "events": events}
