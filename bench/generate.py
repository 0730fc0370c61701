"""Write the benchmark's projects: an app with N models and a migration history.

Revision files are written directly (not by ``flask db migrate``) so that a
history of 1000 revisions takes a second to make; each one holds what
autogenerate would have written for its tables, so ``flask db check`` finds
nothing to do once they ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

APP = '''\
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
{import_line}

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)
{migrate_line}

{models}
'''

MODEL = '''
class T{index:04d}(db.Model):
    __tablename__ = "t{index:04d}"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False, index=True)
    amount = db.Column(db.Numeric(10, 2))
    created = db.Column(db.DateTime)
    parent_id = db.Column(db.Integer, db.ForeignKey({parent!r}))
'''

REVISION = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision}
Create Date: 2026-01-01 00:00:{second:02d}.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

CREATE_TABLE = """\
    op.create_table({table!r},
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('created', sa.DateTime(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], [{parent!r}], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table({table!r}, schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_{table}_name'), ['name'], unique=False)
"""

DROP_TABLE = """\
    with op.batch_alter_table({table!r}, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_{table}_name'))

    op.drop_table({table!r})
"""

#: The line that brings in the extension under test, by tool name.
IMPORT_LINES = {
    "flask_schema": "from flask_schema import Migrate",
    "flask_migrate": "from flask_migrate import Migrate",
    "floor": "",
}


def table_name(index: int) -> str:
    return f"t{index:04d}"


def parent_of(index: int) -> str:
    """Every table points at the one before it (the first at itself)."""
    return f"{table_name(max(index - 1, 0))}.id"


def revision_id(index: int) -> str:
    return hashlib.sha1(f"bench-{index}".encode()).hexdigest()[:12]


def write_app(path: Path, tool: str, models: int) -> Path:
    """Write ``app.py`` with ``models`` models; ``tool`` picks the Migrate import."""
    import_line = IMPORT_LINES[tool]
    migrate_line = "migrate = Migrate(app, db)" if import_line else ""
    body = "".join(MODEL.format(index=i, parent=parent_of(i)) for i in range(models))
    target = path / "app.py"
    target.write_text(APP.format(import_line=import_line, migrate_line=migrate_line, models=body))
    return target


def write_history(versions: Path, layout: Sequence[Sequence[int]]) -> list[str]:
    """Write one revision per entry of ``layout``, each creating those tables.

    Returns the revision ids, oldest first.
    """
    versions.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    down: str | None = None
    for number, tables in enumerate(layout):
        rev = revision_id(number)
        names = [table_name(i) for i in tables]
        upgrade = "\n".join(
            CREATE_TABLE.format(table=table_name(i), parent=parent_of(i)) for i in tables
        ) or "    pass"
        downgrade = "\n".join(DROP_TABLE.format(table=name) for name in reversed(names)) or "    pass"
        message = f"create {', '.join(names)}" if len(names) <= 3 else f"create {len(names)} tables"
        source = REVISION.format(
            message=message,
            revision=rev,
            down_revision=down,
            second=number % 60,
            upgrade=upgrade.rstrip("\n"),
            downgrade=downgrade.rstrip("\n"),
        )
        (versions / f"{rev}_{message.replace(' ', '_').replace(',', '')[:40]}.py").write_text(source)
        ids.append(rev)
        down = rev
    return ids


def one_revision(tables: int) -> list[list[int]]:
    """A history of one revision creating every table."""
    return [list(range(tables))]


def table_per_revision(revisions: int, first: int = 0) -> list[list[int]]:
    """A history where revision ``i`` creates table ``first + i``."""
    return [[first + i] for i in range(revisions)]
