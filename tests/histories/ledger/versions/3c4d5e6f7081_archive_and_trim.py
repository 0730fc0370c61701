"""archive bills, trim what is typed

Revision ID: 3c4d5e6f7081
Revises: 2b3c4d5e6f70
Create Date: 2018-06-20 18:02:44.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "3c4d5e6f7081"
down_revision = "2b3c4d5e6f70"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bill") as batch_op:
        batch_op.add_column(sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION bill_trim() RETURNS trigger AS $$
            BEGIN
                -- people paste with spaces; keep one spelling
                NEW.what := trim(NEW.what);
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER bill_trim BEFORE INSERT OR UPDATE ON bill
                FOR EACH ROW EXECUTE FUNCTION bill_trim();
            """
        )
    elif bind.dialect.name == "mysql":
        op.execute(
            """
            CREATE TRIGGER bill_trim BEFORE INSERT ON bill FOR EACH ROW
            BEGIN
                SET NEW.what = TRIM(NEW.what);
            END
            """
        )
        op.execute("UPDATE person SET name = 'O\\'Brien' WHERE name = 'OBrien'")
    else:
        # SQLite keeps what it is given.
        pass


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER bill_trim ON bill")
        op.execute("DROP FUNCTION bill_trim()")
    elif bind.dialect.name == "mysql":
        op.execute("DROP TRIGGER bill_trim")
    with op.batch_alter_table("bill") as batch_op:
        batch_op.drop_column("archived")
