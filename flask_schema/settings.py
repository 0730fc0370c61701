"""Resolve an option from its four sources in one place.

An option's value comes from, most specific first:

1. a command-line flag (the CLI passes it in as ``explicit``);
2. the ``FLASK_DB_<NAME>`` environment variable, so a deploy can change a
   setting without a code change;
3. the ``MIGRATE_<NAME>`` key in ``app.config``;
4. the argument given to ``Migrate(...)`` or ``init_app(...)``;
5. the built-in default.

Values from the environment and from ``app.config`` strings are parsed with
the option's type, so ``FLASK_DB_LOCK_TIMEOUT=30`` and
``app.config["MIGRATE_LOCK_TIMEOUT"] = 30`` mean the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigurationError, InvalidArgument


def parse_bool(value: str) -> bool:
    """Read a boolean the way people write it in an environment variable."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_list(value: str) -> list[str]:
    """Read a comma-separated list, ignoring blanks around items."""
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class Option:
    """One setting of the extension and how to read it from text."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    #: A value worth showing in the configuration reference (docs/configuration).
    example: Any = None

    @property
    def env_var(self) -> str:
        return f"FLASK_DB_{self.name.upper()}"

    @property
    def config_key(self) -> str:
        return f"MIGRATE_{self.name.upper()}"


#: Every option the extension reads, by name. Documented in docs/configuration.
OPTIONS: dict[str, Option] = {
    option.name: option
    for option in [
        Option(
            "directory",
            "migrations",
            str,
            "Folder that holds alembic.ini, env.py and versions/.",
            example="db/migrations",
        ),
        Option("compare_type", True, parse_bool, "Autogenerate compares column types."),
        Option("render_as_batch", True, parse_bool, "Autogenerate writes batch operations."),
        Option("backup", False, parse_bool, "upgrade and downgrade back up each database first."),
        Option("backup_dir", None, str, "Folder for backups (default: <instance folder>/backups)."),
        Option("backup_keep", 10, int, "Backups kept per database, newest first; 0 keeps all."),
        Option(
            "compare_server_default",
            True,
            parse_bool,
            "Autogenerate compares server defaults of columns.",
        ),
        Option(
            "ignore_tables",
            ["spatial_ref_sys"],
            parse_list,
            "Tables autogenerate leaves alone (names or patterns such as tmp_*).",
        ),
        Option(
            "schemas",
            [],
            parse_list,
            "Schemas autogenerate compares besides the default one.",
        ),
        Option(
            "lint_baseline",
            None,
            str,
            "flask db lint --all checks only revisions after this one (those production has not "
            "applied when the lint was adopted).",
            example="3c4d5e6f7081",
        ),
        Option(
            "format_revisions",
            "auto",
            str,
            "Command run on each new revision file ({path}); auto: ruff format when installed.",
        ),
    ]
}


def resolve(
    name: str,
    config: Mapping[str, Any],
    extension_value: Any = None,
    explicit: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Return the value of option ``name`` following the order above."""
    option = OPTIONS[name]
    if explicit is not None:
        if option.parse is parse_seconds:
            try:
                check_seconds(float(explicit), explicit)
            except (TypeError, ValueError) as error:
                raise InvalidArgument(f"Invalid {name.replace('_', ' ')}: {error}.") from None
        return explicit
    environ = os.environ if environ is None else environ
    raw = environ.get(option.env_var)
    source = option.env_var
    if raw is None:
        raw = config.get(option.config_key)
        source = option.config_key
    if raw is None:
        return option.default if extension_value is None else extension_value
    if not isinstance(raw, str):
        return raw
    try:
        return option.parse(raw)
    except ValueError as error:
        raise ConfigurationError(f"{source} has an invalid value: {error}.") from None


def parse_seconds(value: str) -> float:
    """Read a duration in seconds; ``5``, ``2.5`` and ``5s`` are accepted."""
    text = value.strip().lower().removesuffix("s")
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    return check_seconds(seconds, value)


def check_seconds(seconds: float, given: Any) -> float:
    """``seconds`` if it is a finite duration of zero or more; else a ValueError naming ``given``."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a finite number of seconds, 0 or more, got {given!r}")
    return seconds


def parse_lock_method(value: str) -> str:
    """Read the ``lock_method`` setting."""
    method = value.strip().lower()
    if method not in {"native", "table"}:
        raise ValueError(f"expected native or table, got {value!r}")
    return method


for _option in [
    Option("lock", True, parse_bool, "Take the migration lock around commands that change the database."),
    Option("lock_timeout", 600.0, parse_seconds, "Seconds to wait for the migration lock before giving up."),
    Option(
        "allow_data_loss",
        False,
        parse_bool,
        "upgrade and downgrade may run an alter_column that changes existing values "
        "(and MariaDB/MySQL migration sessions are not made strict).",
    ),
    Option(
        "connect_timeout",
        30.0,
        parse_seconds,
        "Seconds to wait for a database server to accept a connection and answer its first "
        "statements (0: no limit); a running migration statement is never cut.",
    ),
    Option(
        "statement_lock_timeout",
        0.0,
        parse_seconds,
        "Seconds a migration statement may wait for a table lock (0: no limit). "
        "PostgreSQL lock_timeout, MariaDB lock_wait_timeout.",
    ),
    Option(
        "lock_method",
        "native",
        parse_lock_method,
        "How the migration lock is held: native (an advisory or named lock, or a file beside a "
        "SQLite database) or table (a row in <version table>_lock with a lease that its holder "
        "renews, for databases whose session locks do not hold).",
        example="table",
    ),
    Option(
        "lock_lease",
        30.0,
        parse_seconds,
        "Seconds without renewal after which a waiter takes over a table lock whose holder died.",
    ),
    Option(
        "keepalive_interval",
        5.0,
        parse_seconds,
        "Seconds between touches of the lock's connection while revisions run, so that idle "
        "timeouts of servers and proxies never drop the lock (0: off).",
    ),
    Option(
        "transaction_per_revision",
        True,
        parse_bool,
        "Commit after each revision; false runs all revisions in one transaction "
        "(all-or-nothing, PostgreSQL only).",
    ),
]:
    OPTIONS[_option.name] = _option
