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
    order_rules = {case[0] for case in ORDER_CASES}
    assert {rule.id for rule in RULES} == {case[0] for case in CASES} | order_rules


POST = 'phase = "post"\n\n\n'

# operation, rule id, found in a pre revision (with the advice to move it), found in a post one
PHASE_CASES = [
    ("op.drop_column('user', 'age')", "drop-column", True, False),
    ("op.drop_table('user')", "drop-table", True, False),
    ("op.execute('ALTER TABLE person DROP COLUMN age')", "drop-column", True, False),
    # A rename breaks the release running in either phase: an error in both, with the split.
    ("op.alter_column('user', 'name', new_column_name='full_name')", "rename-column", True, True),
    ("op.add_column('user', sa.Column('age', sa.Integer()))", None, False, False),
]


@pytest.mark.parametrize(("body", "rule_id", "in_pre", "in_post"), PHASE_CASES)
def test_phase_decides_what_breaks_the_running_release(
    body: str, rule_id: str | None, in_pre: bool, in_post: bool
) -> None:
    pre = lint_source(revision(body), "r.py", "postgresql")
    post = lint_source(POST + revision(body), "r.py", "postgresql")
    assert [f.rule_id for f in pre] == ([rule_id] if in_pre else [])
    assert [f.rule_id for f in post] == ([rule_id] if in_post else [])
    if in_pre and rule_id and rule_id.startswith("drop"):
        (finding,) = pre
        assert finding.severity == "error"
        assert 'Move it to a post-deploy revision: add phase = "post"' in finding.message
        assert "'flask db revision --post'" in finding.message


# rule id, pending revisions oldest first as (id, parents, phase), the ids it reports
ORDER_CASES = [
    ("pre-after-post", [("a", (), "pre"), ("b", ("a",), "post"), ("c", ("b",), "pre")], ["c"]),
    ("pre-after-post", [("a", (), "post"), ("b", ("a",), "post"), ("c", ("b",), "pre")], ["c"]),
    ("pre-after-post", [("a", (), "pre"), ("b", ("a",), "pre"), ("c", ("b",), "post")], []),
    # Another branch's pre revision does not wait for this branch's post one.
    ("pre-after-post", [("a", (), "post"), ("x", (), "pre"), ("m", ("a", "x"), "pre")], ["m"]),
    ("pre-after-post", [("a", (), "post"), ("x", (), "pre")], []),
]


@pytest.mark.parametrize(("rule_id", "pending", "reported"), ORDER_CASES)
def test_pre_revision_after_a_pending_post_one(
    rule_id: str, pending: list[tuple[str, tuple[str, ...], str]], reported: list[str]
) -> None:
    from flask_schema.lint.phases import Pending, order_findings

    found = order_findings([Pending(f"{rev}.py", rev, frozenset(up), phase) for rev, up, phase in pending])
    assert [finding.path for finding in found] == [f"{rev}.py" for rev in reported]
    assert all(finding.rule_id == rule_id and finding.severity == "error" for finding in found)


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


# name, backend, upgrade() body, the rules found: the same revision judged where
# its code runs and where it does not.
BRANCH_CASES = [
    ("dialect-branch", "mysql",
     "if op.get_bind().dialect.name == 'mysql':\n    op.drop_column('user', 'age')", ["drop-column"]),
    ("dialect-branch", "sqlite",
     "if op.get_bind().dialect.name == 'mysql':\n    op.drop_column('user', 'age')", []),
    ("else-branch", "sqlite",
     "if op.get_bind().dialect.name == 'mysql':\n    pass\nelse:\n    op.drop_column('user', 'age')",
     ["drop-column"]),
    ("else-branch", "mysql",
     "if op.get_bind().dialect.name == 'mysql':\n    pass\nelse:\n    op.drop_column('user', 'age')", []),
    ("early-return", "postgresql",
     "bind = op.get_bind()\nif bind.dialect.name != 'postgresql':\n    return\n"
     "op.create_index('ix', 'user', ['name'])", ["index-not-concurrent"]),
    ("early-return", "sqlite",
     "bind = op.get_bind()\nif bind.dialect.name != 'postgresql':\n    return\n"
     "op.drop_column('user', 'age')", []),
    ("get-context", "mysql",
     "if context.get_context().dialect.name in ('mysql', 'mariadb'):\n    op.drop_table('old')",
     ["drop-table"]),
    ("get-context", "postgresql",
     "if context.get_context().dialect.name in ('mysql', 'mariadb'):\n    op.drop_table('old')", []),
    ("url-test", "postgresql",
     "if 'sqlite' in str(op.get_bind().engine.url):\n    pass\nelse:\n"
     "    op.create_index('ix', 'user', ['name'])", ["index-not-concurrent"]),
    ("url-test", "sqlite",
     "if 'sqlite' in str(op.get_bind().engine.url):\n    pass\nelse:\n    op.drop_table('old')", []),
    ("config-test", "postgresql",
     "if context.config.get_main_option('sqlalchemy.url').startswith('postgresql'):\n"
     "    op.create_index('ix', 'user', ['name'])", ["index-not-concurrent"]),
    ("config-test", "mysql",
     "if context.config.get_main_option('sqlalchemy.url').startswith('postgresql'):\n"
     "    op.drop_table('old')", []),
    ("flag-variable", "mysql",
     "is_sqlite = op.get_bind().dialect.name == 'sqlite'\nif not is_sqlite:\n"
     "    op.drop_column('user', 'age')", ["drop-column"]),
    ("flag-variable", "sqlite",
     "is_sqlite = op.get_bind().dialect.name == 'sqlite'\nif not is_sqlite:\n"
     "    op.drop_column('user', 'age')", []),
    ("not-a-dialect-test", "sqlite",
     "if has_rows:\n    op.drop_column('user', 'age')", ["drop-column"]),
    ("helper-function", "postgresql", "_indexes()", ["index-not-concurrent"]),
    ("helper-function", "sqlite", "_indexes()", []),
]

HELPER = "\n\ndef _indexes():\n    if op.get_bind().dialect.name == 'postgresql':\n" \
         "        op.create_index('ix', 'user', ['name'])\n"


@pytest.mark.parametrize(("name", "backend", "body", "expected"), BRANCH_CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in BRANCH_CASES])
def test_code_is_judged_only_where_it_runs(name: str, backend: str, body: str, expected: list[str]) -> None:
    source = "from alembic import context\n" + revision(body) + HELPER
    assert [finding.rule_id for finding in lint_source(source, "r.py", backend)] == expected
    unknown = [finding.rule_id for finding in lint_source(source, "r.py", None)]
    assert set(expected) <= set(unknown) and unknown  # an unknown backend judges every branch


DECORATED = '''from alembic import op


def {decorator}(*names):
    return lambda step: step


@{decorator}("sqlite")
def upgrade():
    op.drop_table("old")
'''


@pytest.mark.parametrize(
    ("decorator", "backend", "expected"),
    [("only_on", "sqlite", ["drop-table"]), ("only_on", "postgresql", []),
     ("skip_on", "sqlite", []), ("skip_on", "mysql", ["drop-table"])],
)
def test_revision_skipped_by_a_decorator_is_not_judged_there(decorator: str, backend: str,
                                                             expected: list[str]) -> None:
    source = DECORATED.format(decorator=decorator)
    assert [finding.rule_id for finding in lint_source(source, "r.py", backend)] == expected


# failing SQL, passing SQL and what the failing one gives: the splitter keeps
# blocks, bodies and escaped quotes whole and judges every statement.
SQL_CASES = [
    ("escaped-quote",
     "UPDATE person SET name = 'O\\\\'Brien; x' WHERE id = 1; ALTER TABLE person DROP COLUMN age",
     "UPDATE person SET name = 'O\\\\'Brien; DROP COLUMN age' WHERE id = 1",
     ["drop-column"]),
    ("begin-block",
     "BEGIN ALTER TABLE person DROP COLUMN age; END;",
     "BEGIN; UPDATE person SET age = 1 WHERE id = 2; COMMIT;",
     ["drop-column", "raw-sql"]),
    ("do-block",
     "DO $$ BEGIN UPDATE a SET x = 1 WHERE id = 1; ALTER TABLE person DROP COLUMN age; END $$;",
     "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.a := 1; -- one; two\n RETURN NEW; END; $$"
     " LANGUAGE plpgsql; CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();",
     ["drop-column", "raw-sql"]),
    ("mysql-trigger",
     "CREATE TABLE IF NOT EXISTS x (id int); DROP TABLE person",
     "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END",
     ["drop-table"]),
    ("one-finding-per-call",
     "LOCK TABLE a IN ACCESS EXCLUSIVE MODE; LOCK TABLE b IN ACCESS EXCLUSIVE MODE; CLUSTER a",
     "SELECT 1; SELECT 2",
     ["raw-sql"]),
]


@pytest.mark.parametrize(("name", "failing", "passing", "expected"), SQL_CASES,
                         ids=[case[0] for case in SQL_CASES])
def test_sql_statements_are_split_and_each_judged(name: str, failing: str, passing: str,
                                                  expected: list[str]) -> None:
    found = lint_source(revision(f"op.execute({failing!r})"), "r.py", "postgresql")
    assert [finding.rule_id for finding in found] == expected
    assert lint_source(revision(f"op.execute({passing!r})"), "r.py", "postgresql") == []


def test_one_call_many_unknown_statements_is_one_finding() -> None:
    (finding,) = lint_source(revision("op.execute('CLUSTER a; CLUSTER b; CLUSTER c')"), "r.py", "mysql")
    assert finding.message.endswith("(2 more statement(s) of this call alike.)")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("op.drop_table(name)", "Dropping a table named at run time deletes"),
        ("op.drop_column(table, column)", "Dropping a column named at run time deletes"),
        ("op.drop_column(table, 'age')", "Dropping column age of a table named at run time"),
        ("op.drop_column('user', column)", "Dropping a column named at run time of user"),
        ("with op.batch_alter_table(name) as b:\n    b.drop_column('age')",
         "Dropping column age of a table named at run time"),
        ("op.create_index('ix', table, ['x'])", "Creating an index on a table named at run time"),
    ],
)
def test_names_computed_at_run_time_are_said_so(body: str, message: str) -> None:
    (finding,) = lint_source(revision(body), "r.py", "postgresql")
    assert finding.message.startswith(message) and "None" not in finding.message


def test_a_type_change_is_a_warning_on_sqlite_that_says_what_it_costs() -> None:
    source = revision("op.alter_column('user', 'age', type_=sa.BigInteger(), existing_type=sa.Integer())")
    (on_sqlite,) = lint_source(source, "r.py", "sqlite")
    (on_mysql,) = lint_source(source, "r.py", "mysql")
    assert (on_sqlite.severity, on_mysql.severity) == ("warning", "error")
    assert "rebuilds the table on SQLite: every row is copied" in on_sqlite.message
    rule = next(rule for rule in RULES if rule.id == "alter-column-type")
    assert rule.levels() == "error; warning on sqlite"
