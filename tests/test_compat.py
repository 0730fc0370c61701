"""flask_schema.compat and the 2.5 source against a db shaped like Flask-SQLAlchemy 2.5's.

CI's floor job runs the real Flask-SQLAlchemy 2.5 on SQLAlchemy 1.4 (see
scripts/ci-matrix); these pin down what the helpers do with that shape here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_schema import ConfigurationError, compat
from flask_schema.sources import FlaskSQLAlchemy25Source, source_for


class OldStyleDb:
    """Like Flask-SQLAlchemy 2.5: one metadata, get_engine(bind=...), no db.engines."""

    def __init__(self, urls: dict[str | None, str]) -> None:
        self.metadata = sa.MetaData()
        self._engines = {key: sa.create_engine(url) for key, url in urls.items()}

    def get_engine(self, app: Any = None, bind: str | None = None) -> sa.Engine:
        return self._engines[bind]


def test_engines_of_an_old_style_db_come_from_sqlalchemy_binds(tmp_path: Path) -> None:
    db = OldStyleDb({None: f"sqlite:///{tmp_path}/a.db", "stats": f"sqlite:///{tmp_path}/b.db"})
    app = Flask(__name__)
    app.config["SQLALCHEMY_BINDS"] = {"stats": "unused here"}
    assert isinstance(source_for(db), FlaskSQLAlchemy25Source)
    with app.app_context():
        found = source_for(db).engines()
    assert list(found) == [None, "stats"]
    assert found["stats"] is db.get_engine(bind="stats")  # SQLAlchemy 2: the engine itself
    with found[None].connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        compat.commit(connection)
    assert sa.inspect(db.get_engine()).get_table_names() == ["t"]


def test_metadata_for_splits_one_metadata_by_bind_key() -> None:
    db = OldStyleDb({})
    sa.Table("person", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("hit", db.metadata, sa.Column("id", sa.Integer, primary_key=True), info={"bind_key": "stats"})
    assert set(source_for(db).metadata_for(None).tables) == {"person"}
    assert set(source_for(db).metadata_for("stats").tables) == {"hit"}
    assert source_for(db).metadata_for("other").tables == {}


def test_metadata_for_without_binds_is_the_one_metadata() -> None:
    db = OldStyleDb({})
    sa.Table("person", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    assert source_for(db).metadata_for(None) is db.metadata
    assert source_for(db).metadata_for("stats").tables == {}


def test_swapping_engines_refuses_in_one_line_on_an_old_style_db() -> None:
    with pytest.raises(ConfigurationError) as raised:
        with source_for(OldStyleDb({})).engines_replaced({}, "pytest --flask-schema"):
            pass
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("pytest --flask-schema needs Flask-SQLAlchemy 3.0 or later")
