"""utf8mb4 on MySQL

Revision ID: 5e6f708192a3
Revises: 4d5e6f708192
Create Date: 2020-05-17 08:45:00.000000
"""
from alembic import op

revision = "5e6f708192a3"
down_revision = "4d5e6f708192"
branch_labels = None
depends_on = None


def only_on(*dialects):
    """Run the decorated step only on these databases."""

    def decorate(step):
        def run():
            if op.get_bind().dialect.name in dialects:
                step()

        return run

    return decorate


@only_on("mysql")
def upgrade():
    op.execute("ALTER TABLE bill CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def downgrade():
    pass
