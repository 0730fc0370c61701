"""Data tests of the blog's migrations, using flask_schema's ``migrations`` fixture."""

from __future__ import annotations

from flask_schema.testing import MigrationRunner


def test_first_revision_accepts_users_and_posts(migrations: MigrationRunner) -> None:
    first = migrations.revisions()[0]
    migrations.upgrade(first.revision)
    assert migrations.current() == first.revision

    migrations.insert("user", [{"id": 1, "username": "ada"}])
    migrations.insert("post", [{"id": 1, "author_id": 1, "title": "Notes", "body": "..."}])
    assert migrations.rows("user") == [{"id": 1, "username": "ada"}]


def test_upgrade_keeps_rows_and_downgrade_empties(migrations: MigrationRunner) -> None:
    first = migrations.revisions()[0]
    migrations.upgrade(first.revision)
    migrations.insert("user", [{"id": 1, "username": "ada"}])
    migrations.upgrade()
    assert migrations.current() == migrations.heads()[0]
    assert [row["username"] for row in migrations.rows("user")] == ["ada"]

    migrations.downgrade("base")
    assert migrations.current() is None
    assert migrations.schema() == {}
