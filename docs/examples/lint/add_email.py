"""add email to user

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
    op.add_column("user", sa.Column("email", sa.String(200), nullable=False))
    op.create_index("ix_user_email", "user", ["email"])


def downgrade():
    op.drop_index("ix_user_email", table_name="user")
    op.drop_column("user", "email")
