"""The pytest plugin: options, the collected checks, and the fixtures.

Nothing here runs unless asked. The checks are collected only with
``--flask-schema`` (or ``flask_schema = true`` in the pytest ini file), once
per run, under the first collected ``conftest.py`` that defines ``app``, so
they see the same ``app`` fixture as the project's own tests. The fixtures
do nothing until a test requests them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import URL

from ..errors import FlaskSchemaError
from .checks import CHECKS, Check, CheckFailed
from .database import throwaway_databases
from .runner import MigrationRunner

#: The checks this run collects (empty when the plugin is off).
SELECTED = pytest.StashKey[list[Check]]()
#: Whether a conftest.py has been given the checks, which happens once.
PLACED = pytest.StashKey[bool]()
#: Whether the checks are among the items that will run.
COLLECTED = pytest.StashKey[bool]()

ITEM_PREFIX = "flask_schema_"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flask-schema", "flask_schema migration checks")
    group.addoption(
        "--flask-schema",
        action="store_true",
        default=False,
        help="Run flask_schema's migration checks against the app of the 'app' fixture.",
    )
    group.addoption(
        "--flask-schema-checks",
        default=None,
        metavar="NAMES",
        help=f"Comma-separated checks to run (implies --flask-schema): {', '.join(CHECKS)}.",
    )
    parser.addini("flask_schema", type="bool", default=False, help="Run the flask_schema migration checks.")
    parser.addini(
        "flask_schema_checks",
        default="",
        help=f"Which flask_schema checks run, comma-separated (default: all): {', '.join(CHECKS)}.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SELECTED] = selected_checks(config)
    config.stash[PLACED] = False


def selected_checks(config: pytest.Config) -> list[Check]:
    """The checks this run should collect, in their fixed order; empty when off."""
    from_flag = config.getoption("flask_schema_checks")
    enabled = config.getoption("flask_schema") or from_flag is not None or config.getini("flask_schema")
    if not enabled:
        return []
    names_text = from_flag if from_flag is not None else str(config.getini("flask_schema_checks"))
    names = [name for name in re.split(r"[\s,]+", names_text) if name]
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise pytest.UsageError(
            f"Unknown flask_schema check {', '.join(repr(n) for n in unknown)}; "
            f"choose from: {', '.join(CHECKS)}."
        )
    return [check for name, check in CHECKS.items() if not names or name in names]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if file_path.name != "conftest.py" or not config.stash[SELECTED] or config.stash[PLACED]:
        return None
    if not _defines_app_fixture(config, file_path):
        return None
    config.stash[PLACED] = True
    return MigrationChecks.from_parent(parent, path=file_path)


def _defines_app_fixture(config: pytest.Config, path: Path) -> bool:
    for plugin in config.pluginmanager.get_plugins():
        module_file = getattr(plugin, "__file__", None)
        if module_file and Path(module_file) == path:
            return hasattr(plugin, "app")
    return False


class MigrationChecks(pytest.File):
    """The selected checks, collected as tests next to the ``app`` fixture."""

    def collect(self) -> Iterator[pytest.Item]:
        for check in self.config.stash[SELECTED]:
            yield CheckItem.from_parent(self, name=ITEM_PREFIX + check.name, callobj=_check_test(check))


class CheckItem(pytest.Function):
    """One check; reported by its own name, as it has no test module."""

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, self.name


def _check_test(check: Check) -> Callable[..., None]:
    def run(runner: MigrationRunner) -> None:
        try:
            check.run(runner)
            return
        except CheckFailed as failure:
            message = str(failure)
        # Outside the except block, so the report shows the message and no chain.
        pytest.fail(message, pytrace=False)

    # pytest reads the fixtures a test needs from its signature.
    if check.needs_database:

        def test(flask_schema_migrations: MigrationRunner) -> None:
            run(flask_schema_migrations)

    else:

        def test(app: Flask) -> None:  # type: ignore[misc]
            run(MigrationRunner(app))

    test.__doc__ = check.description
    test.__name__ = ITEM_PREFIX + check.name
    return test


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest.py next to the collected tests may be looked at and then
    # dropped, when pytest runs only some files of its folder.
    config.stash[COLLECTED] = any(isinstance(item, CheckItem) for item in items)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.stash.get(SELECTED, []) and not config.stash.get(COLLECTED, False):
        terminalreporter.write_line(
            "flask_schema: no migration checks ran: no collected conftest.py defines an 'app' "
            "fixture. Run pytest on the folder that holds it.",
            yellow=True,
        )


@pytest.fixture
def flask_schema_databases(app: Flask, tmp_path: Path) -> Iterator[dict[str | None, URL]]:
    """Point the app at new, empty databases for this test; drop them afterwards.

    Yields the URL of each database by bind key (``None`` is the default).
    """
    with ExitStack() as stack:
        try:
            urls = stack.enter_context(throwaway_databases(app, str(tmp_path)))
        except FlaskSchemaError as error:
            message = f"flask_schema: {error}"
        else:
            yield urls
            return
    pytest.fail(message, pytrace=False)


@pytest.fixture
def flask_schema_migrations(app: Flask, flask_schema_databases: dict[str | None, URL]) -> MigrationRunner:
    """A :class:`MigrationRunner` for ``app``, on empty throw-away databases.

    The checks use this name, so a project's own ``migrations`` fixture
    cannot replace the runner under them.
    """
    return MigrationRunner(app)


@pytest.fixture
def migrations(flask_schema_migrations: MigrationRunner) -> MigrationRunner:
    """A :class:`MigrationRunner` for ``app``, on empty throw-away databases."""
    return flask_schema_migrations
