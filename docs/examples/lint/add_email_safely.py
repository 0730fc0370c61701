"""add email to user, the safe way

Revision ID: 5e1f0a9b7c21
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "5e1f0a9b7c21"
down_revision = "0001"  # the quickstart's revision
branch_labels = None
depends_on = None


def upgrade():
    # Nullable first: existing rows need no value. Backfill, then add NOT NULL later.
    op.add_column("user", sa.Column("email", sa.String(200), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_user_email", "user", ["email"], postgresql_concurrently=True
        )


def downgrade():
    op.drop_index("ix_user_email", table_name="user")
    op.drop_column("user", "email")
