"""Where the engines and metadata come from, and the one-line errors when they disagree.

In-process and on SQLite files only: these read configuration and build
engines, and never run a migration (tests/test_other_libraries.py does).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy as FlaskSQLAlchemy
from flask_sqlalchemy_lite import SQLAlchemy as LiteSQLAlchemy

from flask_schema import ConfigurationError, Migrate
from flask_schema.extension import get_state
from flask_schema.sources import (
    FlaskSQLAlchemySource,
    LiteSource,
    PlainSource,
    source_for,
)


def one_line_error(app: Flask) -> str:
    with app.app_context(), pytest.raises(ConfigurationError) as raised:
        source = get_state().source
        source.engines()
        source.metadata_for(None)
    message = str(raised.value)
    assert "\n" not in message
    return message


def person(metadata: sa.MetaData, **info: str) -> sa.Table:
    return sa.Table("person", metadata, sa.Column("id", sa.Integer, primary_key=True), info=info)


def test_each_library_gets_its_own_source(tmp_path: Path) -> None:
    fsa_app, lite_app = Flask(__name__), Flask(__name__)
    fsa_app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/a.db"
    lite_app.config["SQLALCHEMY_ENGINES"] = {"default": f"sqlite:///{tmp_path}/a.db"}
    fsa, lite = FlaskSQLAlchemy(fsa_app), LiteSQLAlchemy(lite_app)
    metadata = sa.MetaData()
    assert isinstance(source_for(fsa), FlaskSQLAlchemySource)
    assert isinstance(source_for(lite, metadata), LiteSource)
    assert isinstance(source_for(metadata=metadata, engines="sqlite://"), PlainSource)
    with lite_app.app_context():
        assert list(source_for(lite, metadata).engines()) == [None]  # "default" is the default
        assert source_for(lite, metadata).metadata_for(None) is metadata


def test_plain_engines_accept_an_engine_a_url_a_mapping_or_a_callable(tmp_path: Path) -> None:
    app = Flask(__name__)
    engine = sa.create_engine(f"sqlite:///{tmp_path}/a.db")
    default, stats = sa.MetaData(), sa.MetaData()
    calls = []

    def lazy() -> dict[str, object]:
        calls.append(1)
        return {"default": engine, "stats": f"sqlite:///{tmp_path}/b.db"}

    with app.app_context():
        assert source_for(metadata=default, engines=engine).engines() == {None: engine}
        found = source_for(metadata=default, engines=f"sqlite:///{tmp_path}/a.db").engines()
        assert str(found[None].url) == f"sqlite:///{tmp_path}/a.db"
        source = source_for(metadata={"default": default, "stats": stats}, engines=lazy)
        assert source.keys() == [None, "stats"]
        assert source.engine(None) is engine
        assert str(source.engine("stats").url).endswith("b.db")
        assert source.metadata_for("stats") is stats
    assert calls == [1], "the callable is called once, not per command step"


def test_one_metadata_for_several_databases_is_split_by_bind_key() -> None:
    metadata = sa.MetaData()
    person(metadata)
    sa.Table("hit", metadata, sa.Column("id", sa.Integer, primary_key=True), info={"bind_key": "stats"})
    source = source_for(metadata=metadata, engines={"default": "sqlite://", "stats": "sqlite://"})
    with Flask(__name__).app_context():
        source.engines()
    assert set(source.metadata_for(None).tables) == {"person"}
    assert set(source.metadata_for("stats").tables) == {"hit"}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            "Migrate(app, metadata={'default': md, 'stats': md2}, engines='sqlite://')",
            "metadata names 'stats' but the app has no engine for it (its databases: 'default').",
        ),
        (
            "Migrate(app, metadata={'default': md}, engines={'default': 'sqlite://', 'stats': 'sqlite://'})",
            "The engine for 'stats' has no metadata: add it to the metadata mapping given to Migrate.",
        ),
        (
            "Migrate(app, metadata=tagged, engines='sqlite://')",
            "Tables of the metadata have info bind_key 'stats' but the app has no engine for it",
        ),
        ("Migrate(app, metadata=md)", "Migrate was given metadata but no engines: pass engines="),
        ("Migrate(app, engines='sqlite://')", "Migrate was given engines but no metadata: pass metadata="),
        ("Migrate(app, lite)", "Flask-SQLAlchemy-Lite keeps no models: pass their metadata"),
        ("Migrate(app, lite, engines='sqlite://')", "Migrate was given both db and engines"),
        (
            "Migrate(app, metadata=md, engines='postgresql+nosuchasync://h/d')",
            "NoSuchModuleError",
        ),
        (
            "Migrate(app, metadata=md, engines=12)",
            "The engine for 'default' is a int: give an Engine or a database URL.",
        ),
    ],
)
def test_sources_that_disagree_fail_in_one_line(setup: str, expected: str) -> None:
    app = Flask(__name__)
    app.config["SQLALCHEMY_ENGINES"] = {"default": "sqlite://"}
    lite = LiteSQLAlchemy(app)
    md, md2, tagged = sa.MetaData(), sa.MetaData(), sa.MetaData()
    person(tagged, bind_key="stats")
    eval(setup, {"Migrate": Migrate, "app": app, "lite": lite, "md": md, "md2": md2, "tagged": tagged})
    if expected == "NoSuchModuleError":  # not ours to explain: SQLAlchemy's own error
        with app.app_context(), pytest.raises(sa.exc.NoSuchModuleError):
            get_state().source.engines()
        return
    assert expected in one_line_error(app)


def test_neither_db_nor_engines_says_what_to_pass() -> None:
    app = Flask(__name__)
    Migrate(app)
    with app.app_context(), pytest.raises(ConfigurationError) as raised:
        get_state()
    assert "Migrate(app, metadata=..., engines=...)" in str(raised.value)


@pytest.mark.parametrize(
    ("given", "sync"),
    [
        (
            "postgresql+asyncpg://me:secret@db.example/shop?ssl=require",
            "postgresql+psycopg://me:secret@db.example/shop?ssl=require",
        ),
        ("postgresql+psycopg_async://me@db.example/shop", "postgresql+psycopg://me@db.example/shop"),
        ("sqlite+aiosqlite:////srv/app.db", "sqlite:////srv/app.db"),
        ("mysql+aiomysql://root@db.example/shop", "mysql+pymysql://root@db.example/shop"),
        ("mariadb+asyncmy://root@db.example/shop", "mariadb+pymysql://root@db.example/shop"),
    ],
)
def test_an_async_url_is_migrated_through_a_sync_engine_of_the_same_url(given: str, sync: str) -> None:
    source = source_for(metadata=sa.MetaData(), engines={"default": given})
    with Flask(__name__).app_context():
        engine = source.engine(None)
    assert engine.url.render_as_string(hide_password=False) == sync
    assert not engine.dialect.is_async


def test_an_async_engine_without_a_known_sync_driver_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_schema.backends.postgresql import PostgresBackend

    monkeypatch.setattr(PostgresBackend, "sync_drivers", {})
    source = source_for(metadata=sa.MetaData(), engines={"reports": "postgresql+asyncpg://h/d"})
    with Flask(__name__).app_context(), pytest.raises(ConfigurationError) as raised:
        source.engines()
    assert str(raised.value) == (
        "The engine for 'reports' is async (postgresql+asyncpg) and migrations run on a sync "
        "engine of the same URL; flask_schema knows no sync driver for it: give "
        "engines={'reports': ...} a sync engine or URL."
    )


def test_lite_async_only_engines_get_a_sync_engine(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["SQLALCHEMY_ASYNC_ENGINES"] = {"default": f"sqlite+aiosqlite:///{tmp_path}/a.db"}
    lite = LiteSQLAlchemy(app)
    with app.app_context():
        engine = source_for(lite, sa.MetaData()).engine(None)
    assert str(engine.url) == f"sqlite:///{tmp_path}/a.db"


def test_swapped_engines_are_put_back_and_the_made_ones_disposed(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["SQLALCHEMY_ENGINES"] = {"default": f"sqlite:///{tmp_path}/a.db"}
    lite = LiteSQLAlchemy(app)
    other = sa.create_engine(f"sqlite:///{tmp_path}/other.db")
    for source in (
        source_for(lite, sa.MetaData()),
        source_for(metadata=sa.MetaData(), engines=f"sqlite:///{tmp_path}/a.db"),
    ):
        with app.app_context():
            before = source.engine(None)
            with source.engines_replaced({None: other}, "the test"):
                assert source.engine(None) is other
            assert source.engine(None) is before
