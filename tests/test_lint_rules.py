"""Each lint rule on a revision that breaks it and one that does it safely.

These run the linter in-process on revision files written to a tmp dir:
reading revisions needs no database, so they are fast.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flask_schema.lint import RULES, lint_files, lint_source

HEADER = "from alembic import op\nimport sqlalchemy as sa\n\n\ndef upgrade():\n"


def revision(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


# rule id, backend, failing upgrade() body, passing upgrade() body
CASES = [
    (
        "add-not-null-column", "postgresql",
        "op.add_column('user', sa.Column('age', sa.Integer(), nullable=False))",
        "op.add_column('user', sa.Column('age', sa.Integer(), nullable=False, server_default='0'))",
    ),
    (
        "add-not-null-column", "sqlite",
        """
        with op.batch_alter_table('user') as batch_op:
            batch_op.add_column(sa.Column('age', sa.Integer(), nullable=False))
        """,
        """
        op.create_table('user', sa.Column('id', sa.Integer(), primary_key=True))
        op.add_column('user', sa.Column('age', sa.Integer(), nullable=False))
        """,
    ),
    (
        "drop-column", "mysql",
        "op.drop_column('user', 'age')",
        "op.add_column('user', sa.Column('age', sa.Integer()))",
    ),
    (
        "drop-table", "sqlite",
        "op.drop_table('user')",
        "op.create_table('tmp', sa.Column('id', sa.Integer()))\nop.drop_table('tmp')",
    ),
    (
        "rename-column", "postgresql",
        "op.alter_column('user', 'name', new_column_name='full_name', existing_type=sa.String(50))",
        "op.alter_column('user', 'name', comment='shown on the profile')",
    ),
    (
        "rename-table", "mysql",
        "op.rename_table('user', 'account')",
        "op.create_table('account', sa.Column('id', sa.Integer()))",
    ),
    (
        "alter-column-type", "postgresql",
        "op.alter_column('user', 'age', type_=sa.BigInteger(), existing_type=sa.Integer())",
        "op.alter_column('user', 'name', type_=sa.String(200), existing_type=sa.String(100))",
    ),
    (
        "alter-column-type", "mysql",
        "op.alter_column('user', 'name', type_=sa.String(200), existing_type=sa.String(100))",
        "op.alter_column('user', 'name', nullable=True)",
    ),
    (
        "set-not-null", "postgresql",
        "op.alter_column('user', 'name', nullable=False, existing_type=sa.String(50))",
        "op.alter_column('user', 'name', nullable=True, existing_type=sa.String(50))",
    ),
    (
        "index-not-concurrent", "postgresql",
        "op.create_index('ix_user_name', 'user', ['name'])",
        """
        with op.get_context().autocommit_block():
            op.create_index('ix_user_name', 'user', ['name'], postgresql_concurrently=True)
        """,
    ),
    (
        "concurrently-in-transaction", "postgresql",
        "op.create_index('ix_user_name', 'user', ['name'], postgresql_concurrently=True)",
        """
        with op.get_context().autocommit_block():
            op.drop_index('ix_user_name', table_name='user', postgresql_concurrently=True)
        """,
    ),
    (
        "foreign-key-not-valid", "postgresql",
        "op.create_foreign_key('fk_user_org', 'user', 'org', ['org_id'], ['id'])",
        "op.create_foreign_key('fk_user_org', 'user', 'org', ['org_id'], ['id'],"
        " postgresql_not_valid=True)",
    ),
    (
        "check-not-valid", "postgresql",
        "op.create_check_constraint('ck_user_age', 'user', 'age >= 0')",
        "op.create_check_constraint('ck_user_age', 'user', 'age >= 0', postgresql_not_valid=True)",
    ),
    (
        "unique-constraint", "sqlite",
        """
        with op.batch_alter_table('user') as batch_op:
            batch_op.create_unique_constraint('uq_user_email', ['email'])
        """,
        """
        op.create_table('user', sa.Column('email', sa.String(50)))
        op.create_unique_constraint('uq_user_email', 'user', ['email'])
        """,
    ),
    (
        "raw-sql", "postgresql",
        "op.execute(f'GRANT {role} ON x')\nop.execute('REFRESH MATERIALIZED VIEW stats')",
        "op.execute(sa.text('COMMENT ON TABLE user IS :c'))",
    ),
    (
        "update-all-rows", "postgresql",
        "op.execute('UPDATE \"user\" SET active = true')",
        "op.execute(\"UPDATE \\\"user\\\" SET active = true WHERE id < 1000\")",
    ),
]


@pytest.mark.parametrize(("rule_id", "backend", "failing", "passing"), CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in CASES])
def test_rule_fails_and_passes(rule_id: str, backend: str, failing: str, passing: str) -> None:
    found = lint_source(revision(failing), "r.py", backend)
    assert rule_id in {finding.rule_id for finding in found}, found
    assert [finding for finding in lint_source(revision(passing), "r.py", backend)] == []


def test_every_rule_has_a_case() -> None:
    assert {rule.id for rule in RULES} == {case[0] for case in CASES}


@pytest.mark.parametrize(
    ("sql", "rule_id"),
    [
        ("ALTER TABLE person ADD COLUMN age integer NOT NULL", "add-not-null-column"),
        ("ALTER TABLE person DROP COLUMN age", "drop-column"),
        ('ALTER TABLE "person" RENAME COLUMN name TO full_name', "rename-column"),
        ("ALTER TABLE person RENAME TO people", "rename-table"),
        ("RENAME TABLE person TO people", "rename-table"),
        ("ALTER TABLE person ALTER COLUMN age TYPE bigint", "alter-column-type"),
        ("ALTER TABLE person MODIFY age bigint", "alter-column-type"),
        ("ALTER TABLE person ALTER COLUMN age SET NOT NULL", "set-not-null"),
        ("CREATE UNIQUE INDEX ix ON person (email)", "index-not-concurrent"),
        ("DROP INDEX CONCURRENTLY ix", "concurrently-in-transaction"),
        ("ALTER TABLE person ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES org (id)",
         "foreign-key-not-valid"),
        ("ALTER TABLE person ADD CONSTRAINT ck CHECK (age > 0)", "check-not-valid"),
        ("ALTER TABLE person ADD CONSTRAINT uq UNIQUE (email)", "unique-constraint"),
        ("DROP TABLE IF EXISTS person CASCADE", "drop-table"),
        ("DELETE FROM person", "update-all-rows"),
        ("LOCK TABLE person IN ACCESS EXCLUSIVE MODE", "raw-sql"),
    ],
)
def test_raw_sql_is_read_by_the_same_rules(sql: str, rule_id: str) -> None:
    source = revision(f"op.execute({sql!r})")
    assert [finding.rule_id for finding in lint_source(source, "r.py", "postgresql")] == [rule_id]


def test_safe_raw_sql_passes() -> None:
    source = revision(
        '''
        op.execute("""
            -- backfill in one go is fine for a new table
            CREATE TABLE audit (id serial PRIMARY KEY, body text NOT NULL);
            CREATE INDEX ix_audit_body ON audit (body);
            ALTER TABLE person ADD COLUMN nickname varchar(50);
            ALTER TABLE person ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES org (id) NOT VALID;
            ALTER TABLE person VALIDATE CONSTRAINT fk;
        """)
        '''
    )
    assert lint_source(source, "r.py", "postgresql") == []


def test_rules_are_per_backend() -> None:
    source = revision(
        """
        op.create_index('ix_user_name', 'user', ['name'])
        op.create_foreign_key('fk_user_org', 'user', 'org', ['org_id'], ['id'])
        """
    )
    assert len(lint_source(source, "r.py", "postgresql")) == 2
    assert lint_source(source, "r.py", "sqlite") == []
    assert lint_source(source, "r.py", "mysql") == []


def test_allow_comment_silences_one_rule_there() -> None:
    source = revision(
        """
        # flask-schema: allow drop-column because the column has been unused since v2.3
        op.drop_column('user', 'legacy')
        op.drop_column('user', 'other')
        op.drop_table('old')  # flask-schema: allow drop-column because wrong rule named
        op.drop_table('older')  # flask-schema: allow drop-table
        """
    )
    found = [(finding.line, finding.rule_id) for finding in lint_source(source, "r.py", "sqlite")]
    assert found == [
        (8, "drop-column"),
        (9, "drop-table"),
        (10, "drop-table"),
        (10, "allow-without-reason"),
    ]


def test_finding_format_names_file_line_rule_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "abc_add.py"
    path.write_text(revision("op.add_column('t', sa.Column('c', sa.Integer(), nullable=False))"))
    (finding,) = lint_files([str(path)], "postgresql")
    line = finding.format()
    assert line.startswith(f"{path}:6 add-not-null-column error: Adding NOT NULL column t.c")
    assert "Safer: add the column nullable" in line


def test_tables_created_by_earlier_pending_revisions_count_as_new(tmp_path: Path) -> None:
    first = tmp_path / "1.py"
    first.write_text(revision("op.create_table('t', sa.Column('id', sa.Integer()))"))
    second = tmp_path / "2.py"
    second.write_text(revision("op.create_index('ix_t_id', 't', ['id'])"))
    assert lint_files([str(first), str(second)], "postgresql", shared_new_tables=True) == []
    assert len(lint_files([str(first), str(second)], "postgresql")) == 1


def test_multidb_functions_use_their_bind_backend() -> None:
    source = HEADER.replace("def upgrade():\n", "") + textwrap.dedent(
        """
        def upgrade_():
            op.create_index('ix_a', 'a', ['x'])

        def upgrade_stats():
            op.create_index('ix_b', 'b', ['x'])
        """
    )
    found = lint_source(source, "r.py", {"": "sqlite", "stats": "postgresql"})
    assert [finding.message for finding in found] == [
        "Creating an index on b blocks writes to it until the index is built."
    ]


def test_broken_revision_is_one_finding() -> None:
    (finding,) = lint_source("def upgrade(:\n", "r.py", None)
    assert finding.rule_id == "syntax-error" and finding.severity == "error"
