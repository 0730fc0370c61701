"""Each backend's type equivalences and default normalisation, on the real database.

A table is created as an old revision would have made it, then compared
with the model's spelling through the hooks flask_schema hands autogenerate.
A row must make its pair no change; the controls beside them must stay a
change, so the table cannot hide a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from databases import fresh_database
from sqlalchemy.dialects import mysql, postgresql

from flask_schema.backends import backend_for
from flask_schema.compare import default_hook, type_hook

# backend, the row's storage text, type an old revision created, type the model has now
SAME = [
    ("sqlite", "REAL affinity: an 8-byte float", sa.Float(), sa.Double()),
    ("sqlite", "TEXT affinity (a VARCHAR without a length)", sa.Text(), sa.String()),
    ("sqlite", "TEXT in ISO 8601, as SQLAlchemy writes both", sa.TIMESTAMP(), sa.DateTime()),
    ("sqlite", "TEXT holding the JSON document", sa.Text(), sa.JSON()),
    ("postgresql", "real: a 4-byte float", sa.REAL(), sa.Float(24)),
    ("postgresql", "double precision: an 8-byte float", sa.Float(), sa.Double()),
    ("postgresql", "text (varchar without a length)", sa.Text(), sa.String()),
    (
        "postgresql",
        "timestamp keeps microseconds (precision 6) unless told less",
        postgresql.TIMESTAMP(precision=6),
        sa.DateTime(),
    ),
    ("mariadb", "DOUBLE: an 8-byte float", sa.Double(), sa.Float(53)),
    ("mariadb", "TINYINT(1)", mysql.TINYINT(1), sa.Boolean()),
]

# backend, type created, type in the model: different storage, so a change.
DIFFERENT = [
    ("mariadb", sa.Float(), sa.Double()),  # 4 bytes against 8
    ("mariadb", sa.DateTime(), sa.TIMESTAMP()),
    ("postgresql", sa.REAL(), sa.Double()),
    ("postgresql", sa.Text(), sa.JSON()),
    ("sqlite", sa.String(20), sa.Text()),  # the length is enforced elsewhere
    ("sqlite", sa.Integer(), sa.BigInteger()),  # BIGINT PRIMARY KEY is no rowid alias
]


def _changed_tables(backend: str, tmp_path: Path, pairs: list[tuple[str, Any, Any]]) -> set[str]:
    """Create each table with its old type, then return the tables autogenerate calls changed."""

    def metadata(index: int) -> sa.MetaData:
        found = sa.MetaData()
        for number, (_, *types) in enumerate(pairs):
            sa.Table(
                f"t{number}",
                found,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("c", types[index]),
            )
        return found

    with fresh_database(backend, str(tmp_path)) as url:
        engine = sa.create_engine(url)
        try:
            metadata(0).create_all(engine)
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": type_hook(None), "compare_server_default": default_hook(None)},
                )
                diffs = compare_metadata(context, metadata(1))
        finally:
            engine.dispose()
    return {(diff[0] if isinstance(diff, list) else diff)[2] for diff in diffs}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_rows_are_no_change_and_controls_are(backend: str, tmp_path: Path) -> None:
    same = [(row, old, new) for name, row, old, new in SAME if name == backend]
    different = [("control", old, new) for name, old, new in DIFFERENT if name == backend]
    changed = _changed_tables(backend, tmp_path, [*same, *different])
    assert changed == {f"t{number}" for number in range(len(same), len(same) + len(different))}


def test_every_row_has_a_case() -> None:
    rows = {
        (name, row.storage)
        for name in ("sqlite", "postgresql", "mariadb")
        for row in backend_for(name).type_equivalences
    }
    assert rows == {(name, storage) for name, storage, *_ in SAME}


def test_float_and_double_follow_the_backend() -> None:
    # The example, without a database: the same two spellings.
    assert backend_for("sqlite").same_storage("FLOAT", "DOUBLE") is not None
    assert backend_for("postgresql").same_storage("FLOAT", "DOUBLE PRECISION") is not None
    assert backend_for("mysql").same_storage("FLOAT", "DOUBLE") is None
    assert backend_for("oracle").same_storage("FLOAT", "DOUBLE") is None  # the generic backend claims nothing


Default = Callable[[], Any]

# A server default written the same way in the model never shows as changed.
DEFAULTS: list[tuple[str, Any, Default, tuple[str, ...]]] = [
    ("empty_string", sa.String(20), lambda: "", ()),
    ("string", sa.String(20), lambda: "anon", ()),
    ("quoted", sa.String(20), lambda: sa.text("'x'"), ()),
    ("zero", sa.Integer(), lambda: "0", ()),
    ("negative", sa.Integer(), lambda: sa.text("-1"), ()),
    ("decimal", sa.Numeric(10, 2), lambda: "0.00", ()),
    ("false", sa.Boolean(), lambda: sa.false(), ()),
    ("false_text", sa.Boolean(), lambda: sa.text("false"), ()),
    ("now", sa.DateTime(), lambda: sa.func.now(), ()),
    ("now_text", sa.DateTime(), lambda: sa.text("now()"), ()),
    ("current_timestamp", sa.DateTime(), lambda: sa.text("CURRENT_TIMESTAMP"), ()),
    ("jsonb", postgresql.JSONB(), lambda: sa.text("'{}'::jsonb"), ("postgresql",)),
    ("json", sa.JSON(), lambda: sa.text("'{}'"), ("postgresql", "sqlite")),
    ("datetime_now", sa.DateTime(), lambda: sa.text("(datetime('now'))"), ("sqlite",)),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_defaults_written_alike_are_no_change(backend: str, tmp_path: Path) -> None:
    cases = [case for case in DEFAULTS if not case[3] or backend in case[3]]

    def metadata() -> sa.MetaData:
        found = sa.MetaData()
        for name, type_, default, _ in cases:
            sa.Table(
                name,
                found,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("c", type_, server_default=default()),
            )
        return found

    with fresh_database(backend, str(tmp_path)) as url:
        engine = sa.create_engine(url)
        try:
            metadata().create_all(engine)
            with engine.connect() as connection:
                hooks = {"compare_type": type_hook(None), "compare_server_default": default_hook(None)}
                same = compare_metadata(MigrationContext.configure(connection, opts=hooks), metadata())
                changed = metadata()
                changed.tables["string"].c.c.server_default = sa.DefaultClause("nobody")
                changed.tables["zero"].c.c.server_default = sa.DefaultClause("1")
                moved = compare_metadata(MigrationContext.configure(connection, opts=hooks), changed)
        finally:
            engine.dispose()
    assert same == []
    assert sorted(diff[0][2] for diff in moved) == ["string", "zero"]


@pytest.mark.parametrize(
    ("backend", "reflected", "model"),
    [
        ("postgresql", "'anon'::character varying", "'anon'"),
        ("postgresql", "'{}'::jsonb", "'{}'"),
        ("postgresql", "now()", "CURRENT_TIMESTAMP"),
        ("mysql", "current_timestamp()", "now()"),
        ("mysql", "0", "false"),
        ("mysql", "'0.00'", "0.00"),
        ("sqlite", "('')", "''"),
        ("sqlite", "1", "true"),
    ],
)
def test_normalisation_per_backend(backend: str, reflected: str, model: str) -> None:
    found = backend_for(backend)
    assert found.normalize_default(reflected) == found.normalize_default(model)


def test_normalisation_keeps_real_changes() -> None:
    backend = backend_for("postgresql")
    assert backend.normalize_default("'Anon'") != backend.normalize_default("'anon'")  # quotes keep case
    assert backend.normalize_default("1") != backend.normalize_default("'1 '")
