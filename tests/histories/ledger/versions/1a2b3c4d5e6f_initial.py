"""initial

Revision ID: 1a2b3c4d5e6f
Revises:
Create Date: 2016-03-02 21:14:05.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e6f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "project",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.UnicodeText(), nullable=False),
        sa.Column("contact_email", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.UnicodeText(), nullable=False),
        sa.Column("activated", sa.Boolean(), nullable=True),
        sa.Column("legacy_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("what", sa.UnicodeText(), nullable=True),
        sa.Column("legacy_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["payer_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "billowers",
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("bill_id", "person_id"),
    )


def downgrade():
    op.drop_table("billowers")
    op.drop_table("bill")
    op.drop_table("person")
    op.drop_table("project")
