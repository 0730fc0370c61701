<%!
def docstring_text(text):
    """Keep a revision message from closing the docstring it sits in."""
    return (text or "").replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def revises(down_revision):
    """The parents for the header line, without a trailing space at the base."""
    if not down_revision:
        return ""
    if isinstance(down_revision, str):
        return " " + down_revision
    return " " + ", ".join(down_revision)
%>"""${message | docstring_text}

Revision ID: ${up_revision}
Revises:${revises(down_revision)}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade(engine_name):
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name):
    globals()[f"downgrade_{engine_name}"]()

<%
    from flask_schema.runtime import bind_keys
    from flask_schema.extension import get_state
    db_names = [key or "" for key in bind_keys(get_state().db)]
%>
% for db_name in db_names:

def upgrade_${db_name}():
    ${context.get("%s_upgrades" % db_name, "pass")}


def downgrade_${db_name}():
    ${context.get("%s_downgrades" % db_name, "pass")}

% endfor
