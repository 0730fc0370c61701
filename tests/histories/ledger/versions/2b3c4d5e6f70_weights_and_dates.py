"""weights and dates

Revision ID: 2b3c4d5e6f70
Revises: 1a2b3c4d5e6f
Create Date: 2017-01-11 09:30:12.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "2b3c4d5e6f70"
down_revision = "1a2b3c4d5e6f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person") as batch_op:
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=False, server_default="1"))
    with op.batch_alter_table("project") as batch_op:
        batch_op.add_column(
            sa.Column("created", sa.DateTime(), nullable=True, server_default=sa.text("CURRENT_TIMESTAMP"))
        )
    op.create_index("ix_bill_date", "bill", ["date"])


def downgrade():
    op.drop_index("ix_bill_date", table_name="bill")
    with op.batch_alter_table("project") as batch_op:
        batch_op.drop_column("created")
    with op.batch_alter_table("person") as batch_op:
        batch_op.drop_column("weight")
