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
from .checks import CHECKS, STILL_TO_RUN, Check, CheckFailed
from .database import ThrowawayFactory, ThrowawayRun, no_databases, throwaway_databases
from .runner import MigrationRunner

#: The checks this run collects (empty when the plugin is off).
SELECTED = pytest.StashKey[list[Check]]()
#: Whether a conftest.py has been given the checks, which happens once.
PLACED = pytest.StashKey[bool]()
#: Whether the checks are among the items that will run.
COLLECTED = pytest.StashKey[bool]()
#: What checks of this session leave for later ones.
MEMO = pytest.StashKey[dict[Any, Any]]()

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
            item = CheckItem.from_parent(self, name=ITEM_PREFIX + check.name, callobj=_check_test(check))
            item.check = check
            yield item


class CheckItem(pytest.Function):
    """One check; reported by its own name, as it has no test module."""

    check: Check | None = None

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, self.name


def _check_test(check: Check) -> Callable[..., None]:
    def run(runner: MigrationRunner, databases: ThrowawayRun | None = None) -> None:
        still_to_run = runner.memo.setdefault(STILL_TO_RUN, set())
        still_to_run.discard(check.name)
        try:
            with runner.history_fixed():
                check.run(runner)
            message = None
        except CheckFailed as failure:
            message = str(failure)
        else:
            later = {CHECKS[name].starts_from for name in still_to_run if name in CHECKS}
            if databases is not None and check.leaves is not None and check.leaves in later:
                databases.keep_as = check.leaves
        # A connection to a database that is not a throw-away one outranks any verdict.
        breach = runner.guard.failure() if runner.guard is not None else None
        if breach is not None:
            runner.guard.reported = True  # type: ignore[union-attr]
            message = breach if message is None else f"{breach}\n{message}"
        if message is not None:
            # Outside the except block, so the report shows the message and no chain.
            pytest.fail(message, pytrace=False)

    # pytest reads the fixtures a test needs from its signature.
    if check.needs_database:

        def test(flask_schema_migrations: MigrationRunner, flask_schema_run: ThrowawayRun) -> None:
            run(flask_schema_migrations, flask_schema_run)

    else:

        def test(app: Flask, flask_schema_memo: dict[Any, Any]) -> None:  # type: ignore[misc]
            run(MigrationRunner(app, memo=flask_schema_memo))

    test.__doc__ = check.description
    test.__name__ = ITEM_PREFIX + check.name
    return test


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest.py next to the collected tests may be looked at and then
    # dropped, when pytest runs only some files of its folder.
    config.stash[COLLECTED] = any(isinstance(item, CheckItem) for item in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    # The checks that will run, after deselection: a check may leave what it
    # found for one of them (see flask_schema.testing.checks).
    names = {item.name[len(ITEM_PREFIX) :] for item in session.items if isinstance(item, CheckItem)}
    session.config.stash[MEMO] = {STILL_TO_RUN: names}


def _asked_but_none_collected(config: pytest.Config) -> bool:
    if not config.stash.get(SELECTED, []) or config.stash.get(COLLECTED, False):
        return False
    # Under pytest-xdist the controller collects nothing itself; its workers report.
    distributed = getattr(config.option, "dist", "no") not in (None, "no")
    return not (distributed and not hasattr(config, "workerinput"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _asked_but_none_collected(session.config):
        # Asked for checks and ran none: a CI job must not go green on that.
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _asked_but_none_collected(config):
        terminalreporter.write_line(
            "flask_schema: no migration checks ran: no collected conftest.py defines an 'app' "
            "fixture. Run pytest on the folder that holds it.",
            red=True,
        )


@pytest.fixture(scope="session")
def flask_schema_memo(request: pytest.FixtureRequest) -> dict[Any, Any]:
    """What one check found that a later one of the same session can use."""
    return request.config.stash.get(MEMO, {})


@pytest.fixture(scope="session")
def flask_schema_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayFactory]:
    """Makes the session's throw-away databases; drops what it made once (templates) at the end."""
    factory = ThrowawayFactory(str(tmp_path_factory.mktemp("flask_schema")))
    yield factory
    factory.close()


@pytest.fixture
def flask_schema_run(
    request: pytest.FixtureRequest, app: Flask, flask_schema_factory: ThrowawayFactory
) -> Iterator[ThrowawayRun]:
    """Point the app at new, empty databases for this test, guarded; drop them afterwards.

    A check that starts by upgrading to the head gets the databases a passed
    ``upgrade`` check left there, when that check ran earlier in the session.
    """
    check = getattr(request.node, "check", None)
    if not isinstance(check, Check):
        check = None
    if check is not None and check.answered is not None and _answered(check, app, request):
        # What an earlier check recorded answers this one: it gets no database at all.
        with no_databases() as run:
            yield run
        return
    reuse = check.starts_from if check is not None else None
    with ExitStack() as stack:
        try:
            run = stack.enter_context(throwaway_databases(app, flask_schema_factory, reuse))
        except FlaskSchemaError as error:
            message = f"flask_schema: {error}"
        else:
            yield run
            breach = run.guard.failure()
            if breach is None or run.guard.reported:
                return
            message = breach
    pytest.fail(message, pytrace=False)


def _answered(check: Check, app: Flask, request: pytest.FixtureRequest) -> bool:
    """Whether what an earlier check recorded answers ``check``; if the app cannot say, no."""
    assert check.answered is not None
    try:
        return check.answered(MigrationRunner(app, memo=request.getfixturevalue("flask_schema_memo")))
    except FlaskSchemaError:  # reported in one line by the usual path below
        return False


@pytest.fixture
def flask_schema_databases(flask_schema_run: ThrowawayRun) -> dict[str | None, URL]:
    """The URL of each of the test's throw-away databases, by bind key (``None`` is the default)."""
    return flask_schema_run.urls


@pytest.fixture
def flask_schema_migrations(
    app: Flask, flask_schema_run: ThrowawayRun, flask_schema_memo: dict[Any, Any]
) -> MigrationRunner:
    """A :class:`MigrationRunner` for ``app``, on empty throw-away databases.

    The checks use this name, so a project's own ``migrations`` fixture
    cannot replace the runner under them.
    """
    # No other process can reach a throw-away database, so there is nothing to lock out.
    return MigrationRunner(app, guard=flask_schema_run.guard, memo=flask_schema_memo, lock=False)


@pytest.fixture
def migrations(flask_schema_migrations: MigrationRunner) -> MigrationRunner:
    """A :class:`MigrationRunner` for ``app``, on empty throw-away databases."""
    return flask_schema_migrations
