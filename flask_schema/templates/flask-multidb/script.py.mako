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


def phase_for(config, revision_id):
    """"pre" or "post": what 'flask db revision --post' or autogenerate chose."""
    from flask_schema.phases import template_phase

    return template_phase(config, revision_id)
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
# "pre" runs before the new release starts; "post" once the old one is gone
# ('flask db upgrade --phase pre|post').
phase = ${repr(phase_for(config, up_revision))}


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
