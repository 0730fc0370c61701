"""user roles, every existing user a member

Revision ID: edc8a06ad8ee
Revises: 2f29c1f0e55d
Create Date: 2026-11-22 13:54:07.249306

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'edc8a06ad8ee'
down_revision = '2f29c1f0e55d'
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()



# Lightweight table objects: the data steps below must use the tables as they
# are at this revision, not the app's models, which keep changing.
role_table = sa.table('role', sa.column('id', sa.Integer), sa.column('name', sa.String))
user_table = sa.table('user', sa.column('role_id', sa.Integer))


def upgrade_():
    op.create_table('role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.bulk_insert(role_table, [{'name': 'admin'}, {'name': 'member'}])

    # Add the column empty, fill it for the users that exist, then require it.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_id', sa.Integer(), nullable=True))
    member = sa.select(role_table.c.id).where(role_table.c.name == 'member').scalar_subquery()
    op.execute(user_table.update().values(role_id=member))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('role_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_user_role_id'), ['role_id'], unique=False)
        batch_op.create_foreign_key('fk_user_role_id_role', 'role', ['role_id'], ['id'])


def downgrade_():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_user_role_id_role', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_role_id'))
        batch_op.drop_column('role_id')
    op.drop_table('role')


def upgrade_analytics():
    pass


def downgrade_analytics():
    pass

