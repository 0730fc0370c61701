"""rename post body to content

Revision ID: 2f29c1f0e55d
Revises: 516fc73c2dec
Create Date: 2026-11-22 13:54:06.029447

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2f29c1f0e55d'
down_revision = '516fc73c2dec'
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()



def upgrade_():
    # Written by hand: autogenerate sees a rename as a dropped column plus a
    # new one, which would lose every post's text. existing_type and
    # existing_nullable are needed by MySQL/MariaDB, whose rename restates
    # the whole column.
    with op.batch_alter_table('post', schema=None) as batch_op:
        # flask-schema: allow rename-column because the blog's deploy stops the old release first
        batch_op.alter_column(
            'body', new_column_name='content', existing_type=sa.Text(), existing_nullable=False
        )


def downgrade_():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.alter_column(
            'content', new_column_name='body', existing_type=sa.Text(), existing_nullable=False
        )


def upgrade_analytics():
    pass


def downgrade_analytics():
    pass

