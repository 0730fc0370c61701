"""drop legacy ids, longer e-mail addresses

Revision ID: 6f708192a3b4
Revises: 5e6f708192a3
Create Date: 2021-09-09 16:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "6f708192a3b4"
down_revision = "5e6f708192a3"
branch_labels = None
depends_on = None

LEGACY = ("person", "bill")


def upgrade():
    for table in LEGACY:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("legacy_id")
    _longer_emails()


def _longer_emails():
    with op.batch_alter_table("project") as batch_op:
        batch_op.alter_column(
            "contact_email",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table("project") as batch_op:
        batch_op.alter_column(
            "contact_email",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
    for table in LEGACY:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("legacy_id", sa.Integer(), nullable=True))
