"""The pure parts of deploy safety: settings, lock keys, input checks."""

from __future__ import annotations

import pytest

from flask_schema import settings
from flask_schema.backends.lock import lock_name
from flask_schema.backends.postgresql import PostgresLock
from flask_schema.errors import ConfigurationError, InvalidArgument
from flask_schema.inputs import check_message, check_rev_id, load_error


def test_lock_settings_follow_the_usual_precedence() -> None:
    assert settings.resolve("lock", {}, environ={}) is True
    assert settings.resolve("lock_timeout", {}, environ={}) == 600.0
    assert settings.resolve("lock", {"MIGRATE_LOCK": "off"}, environ={}) is False
    assert settings.resolve("lock_timeout", {"MIGRATE_LOCK_TIMEOUT": 5}, environ={}) == 5
    environ = {"FLASK_DB_LOCK_TIMEOUT": "2.5s"}
    assert settings.resolve("lock_timeout", {"MIGRATE_LOCK_TIMEOUT": 5}, environ=environ) == 2.5
    assert settings.resolve("lock_timeout", {}, None, 9.0, environ=environ) == 9.0
    with pytest.raises(ConfigurationError, match="FLASK_DB_STATEMENT_LOCK_TIMEOUT"):
        settings.resolve("statement_lock_timeout", {},
                         environ={"FLASK_DB_STATEMENT_LOCK_TIMEOUT": "soon"})
    with pytest.raises(ConfigurationError):
        settings.resolve("lock_timeout", {}, environ={"FLASK_DB_LOCK_TIMEOUT": "-1"})


def test_lock_keys_differ_per_version_table() -> None:
    names = {lock_name("alembic_version", None), lock_name("other_version", None),
             lock_name("alembic_version", "tenant")}
    assert len(names) == 3
    keys = {PostgresLock.key_for(name) for name in names}
    assert len(keys) == 3
    assert all(-(2**63) <= key < 2**63 for key in keys)


@pytest.mark.parametrize("rev_id", ["../x", "a/b", "a'b", "a;b", "", "x" * 33, "a b", "é"])
def test_unsafe_rev_ids_are_refused(rev_id: str) -> None:
    with pytest.raises(InvalidArgument):
        check_rev_id(rev_id)


def test_plain_rev_ids_and_messages_pass() -> None:
    check_rev_id("0001_create_users")
    check_message('Add "users"\n\twith """quotes""" and \\ backslashes')
    with pytest.raises(InvalidArgument):
        check_message("bell\x07")


def test_errors_raised_outside_a_file_load_are_not_load_errors() -> None:
    try:
        raise ValueError("boom")
    except ValueError as error:
        assert load_error(error) is None
