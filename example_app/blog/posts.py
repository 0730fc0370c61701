"""Posts: the front page lists them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from . import db
from .models import Post

bp = Blueprint("posts", __name__)


@bp.get("/")
def index() -> dict[str, Any]:
    rows = db.session.execute(db.select(Post).order_by(Post.id.desc())).scalars()
    return {"posts": [{"id": post.id, "title": post.title, "author_id": post.author_id} for post in rows]}
