"""tidy names on PostgreSQL

Revision ID: 4d5e6f708192
Revises: 3c4d5e6f7081
Create Date: 2019-02-03 12:00:00.000000
"""
from alembic import op

revision = "4d5e6f708192"
down_revision = "3c4d5e6f7081"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        """
        DO $$
        BEGIN
            UPDATE bill SET what = trim(what) WHERE what <> trim(what);
            UPDATE person SET name = trim(name) WHERE name <> trim(name);
        END
        $$;
        """
    )


def downgrade():
    pass
