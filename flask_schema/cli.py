"""The ``flask db`` command group: a thin skin over :mod:`flask_schema.api`.

Each command parses its options, calls one API function and prints what it
returned. Errors become one line on stderr and an exit status; set
``FLASK_DB_TRACEBACK=1`` to see the traceback of an unexpected one.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click
from flask.cli import AppGroup

from . import api
from .errors import FlaskSchemaError
from .namesake import namesake_notice
from .output import NORMAL, QUIET, VERBOSE, echo_error, echo_warning, setup_logging

if TYPE_CHECKING:
    from .backup import Backup

F = TypeVar("F", bound=Callable[..., Any])

DIRECTORY_META = "flask_schema.directory"
X_ARG_META = "flask_schema.x_arg"
VERBOSITY_META = "flask_schema.verbosity"

_RELATIVE_STEP = re.compile(r"^-\d+$")


class RelativeStepCommand(click.Command):
    """A command whose revision argument may be a relative step such as ``-2``.

    click would read ``-2`` as an unknown option; this class moves such a
    token behind ``--`` so ``flask db downgrade -2`` works as people type it.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            value_options = {
                name
                for param in self.params
                if isinstance(param, click.Option) and not param.is_flag
                for name in param.opts
            }
            steps = [
                arg
                for index, arg in enumerate(args)
                if _RELATIVE_STEP.match(arg) and (index == 0 or args[index - 1] not in value_options)
            ]
            if steps:
                rest = [arg for arg in args if arg not in steps]
                args = [*rest, "--", *steps]
        return super().parse_args(ctx, args)


def _scrub(message: str) -> str:
    """Remove every database password from ``message`` (see :mod:`flask_schema.redact`)."""
    from .redact import app_passwords, scrub

    return scrub(message, app_passwords())


def reports_errors(f: F) -> F:
    """Turn any exception from a command into one line on stderr and an exit code."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except FlaskSchemaError as error:
            _fail(str(error), error.exit_code)
        except Exception as error:  # a bug or a user's own code: still one line
            if os.environ.get("FLASK_DB_TRACEBACK"):
                click.echo(_scrub(traceback.format_exc()).rstrip("\n"), err=True)
            first_line = (str(error).strip().splitlines() or [""])[0]
            _fail(
                f"{type(error).__name__}: {first_line} (set FLASK_DB_TRACEBACK=1 to see the traceback)",
                1,
            )

    return wrapper  # type: ignore[return-value]


def database_option(f: F) -> F:
    """``--database NAME`` (repeatable): run the command on those databases only."""

    @functools.wraps(f)
    def wrapper(*args: Any, database: tuple[str, ...] = (), **kwargs: Any) -> Any:
        from .selection import only_databases

        with only_databases(database):
            return f(*args, **kwargs)

    option = click.option(
        "--database",
        "database",
        multiple=True,
        metavar="NAME",
        help="Only this database ('default' or a bind name); repeat for several",
    )
    return option(wrapper)  # type: ignore[return-value]


def _fail(message: str, code: int) -> None:
    echo_error(_scrub(message))
    sys.exit(code)


def _directory(directory: str | None) -> str:
    """The folder for this command: its own -d, then the group's, then settings."""
    ctx = click.get_current_context()
    chosen = directory or ctx.meta.get(DIRECTORY_META)
    if chosen is None:
        from .state import get_state

        chosen = get_state().directory
    setup_logging(str(chosen), ctx.meta.get(VERBOSITY_META, NORMAL))
    return str(chosen)


def _x_args(own: Sequence[str] = ()) -> list[str]:
    """The group's -x values followed by the command's, each once."""
    ctx = click.get_current_context()
    return [*ctx.meta.get(X_ARG_META, ()), *own]


def _db_label(key: Any) -> str:
    return "default" if key is None else str(key)


def _echo_heads(
    found: dict[Any, tuple[str, ...]], verbose: bool = False, directory: str | None = None
) -> None:
    wanted = [rev_id for revisions in found.values() for rev_id in revisions]
    known = api.revisions_by_id(directory, wanted) if wanted else {}
    labelled = len(found) > 1
    for key, revisions in found.items():
        if verbose:
            click.echo(f"Current revision(s) for {_db_label(key)}:")
        for rev_id in revisions:
            rev = known.get(rev_id)
            line = rev.cmd_format(verbose) if rev is not None else rev_id
            click.echo(f"{_db_label(key)}: {line}" if labelled and not verbose else line)


directory_option = click.option(
    "-d", "--directory", default=None, help='Migration script directory (default is "migrations")'
)
sql_option = click.option(
    "--sql", is_flag=True, help="Don't emit SQL to database - dump to standard output instead"
)
tag_option = click.option(
    "--tag", default=None, help='Arbitrary "tag" name - can be used by custom env.py scripts'
)
x_arg_option = click.option(
    "-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts"
)
verbose_option = click.option("-v", "--verbose", is_flag=True, help="Use more verbose output")
phase_option = click.option(
    "--phase",
    type=click.Choice(["pre", "post"]),
    default=None,
    help="pre: stop before the first post-deploy revision; post: apply the rest (default: everything)",
)
backup_option = click.option(
    "--backup/--no-backup",
    default=None,
    help="Back up each database that has revisions to apply first (default: MIGRATE_BACKUP)",
)


@click.group(cls=AppGroup)
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@click.option("-v", "--verbose", is_flag=True, help="Also show Alembic's own lines for each step")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings and errors")
@click.pass_context
def db_group(
    ctx: click.Context, directory: str | None, x_arg: tuple[str, ...], verbose: bool, quiet: bool
) -> None:
    """Perform database migrations."""
    _freeze_loaded_objects()
    if directory is not None:
        ctx.meta[DIRECTORY_META] = directory
    ctx.meta[X_ARG_META] = tuple(x_arg)
    ctx.meta[VERBOSITY_META] = QUIET if quiet else VERBOSE if verbose else NORMAL
    notice = namesake_notice()
    if notice is not None:
        echo_warning(notice)


def _freeze_loaded_objects() -> None:
    """Leave the app's objects out of garbage collection for the rest of the command.

    The app, its models and the libraries stay alive until the process ends;
    without this the collector walks all of them again on every full
    collection and once more at exit, about 0.1 s of each ``flask db`` run.
    """
    import gc

    gc.freeze()


@db_group.command("list-templates")
@reports_errors
def list_templates() -> None:
    """List available templates."""
    click.echo("Available templates:\n")
    for name, synopsis in api.list_templates():
        click.echo(f"{name} - {synopsis}")


@db_group.command()
@directory_option
@click.option("--multidb", is_flag=True, help="Support multiple databases")
@click.option("-t", "--template", default=None, help="Repository template to use (name or path)")
@click.option("--package", is_flag=True, help="Write empty __init__.py files to the folders")
@reports_errors
def init(directory: str | None, multidb: bool, template: str | None, package: bool) -> None:
    """Create a new migration repository."""
    created = api.init(_directory(directory), multidb=multidb, template=template, package=package)
    click.echo(f"Created the migrations folder {os.path.abspath(created)}.")
    click.echo("Review alembic.ini there, then run 'flask db migrate' after each model change.")


def _revision_options(f: F) -> F:
    for option in reversed(
        [
            directory_option,
            click.option("-m", "--message", default=None, help="Revision message"),
            sql_option,
            click.option(
                "--head",
                default="head",
                help="Specify head revision or <branchname>@head to base new revision on",
            ),
            click.option("--splice", is_flag=True, help='Allow a non-head revision as the "head"'),
            click.option("--branch-label", default=None, help="Specify a branch label to apply"),
            click.option("--version-path", default=None, help="Where the new revision file goes"),
            click.option("--rev-id", default=None, help="Hardcoded revision id instead of a generated one"),
            click.option("--depends-on", default=None, help="Revisions this one depends on"),
        ]
    ):
        f = option(f)
    return f


def _report_written(script: Any) -> None:
    if script is None:
        click.echo("No changes in schema detected.", err=True)
    else:
        click.echo(f"Generating {script.path} ...  done")


@db_group.command()
@_revision_options
@click.option("--autogenerate", is_flag=True, help="Populate the revision with candidate operations")
@click.option(
    "--post",
    is_flag=True,
    help="A post-deploy revision: 'upgrade --phase post' runs it once the old release is gone",
)
@reports_errors
def revision(directory: str | None, autogenerate: bool, post: bool, **options: Any) -> None:
    """Create a new revision file."""
    _report_written(
        api.revision(
            _directory(directory),
            autogenerate=autogenerate,
            x_arg=_x_args(),
            phase="post" if post else None,
            **options,
        )
    )


@db_group.command()
@_revision_options
@x_arg_option
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="TABLE.OLD:NEW",
    help="Answer a rename question in advance (table.old_column:new_column or old_table:new_table)",
)
@click.option("--no-input", is_flag=True, help="Ask nothing; possible renames stay drop + add")
@click.option("--dry-run", is_flag=True, help="Print the revision instead of writing it")
@click.option(
    "--no-split",
    is_flag=True,
    help="Write one revision even when some changes would break the running release",
)
@reports_errors
def migrate(
    directory: str | None,
    x_arg: tuple[str, ...],
    renames: tuple[str, ...],
    no_input: bool,
    dry_run: bool,
    no_split: bool,
    **options: Any,
) -> None:
    """Autogenerate a new revision file (alias for 'revision --autogenerate')."""
    arguments = dict(
        x_arg=_x_args(x_arg),
        renames=renames,
        confirm_rename=_rename_prompt(no_input),
        split=not no_split,
        **options,
    )
    if dry_run:
        text = api.migrate_dry_run(_directory(directory), **arguments)
        if text is None:
            click.echo("No changes in schema detected.", err=True)
            return
        click.echo(text, nl=False)
        _lint_written(text)
        return
    written: list[Any] = []
    api.migrate(_directory(directory), on_written=written.append, **arguments)
    if not written:
        _report_written(None)
    for script in written:
        _report_written(script)
    for script in written:
        _lint_written(script)


@db_group.command()
@directory_option
@click.argument("revision", default="head")
@reports_errors
def edit(directory: str | None, revision: str) -> None:
    """Edit a revision file."""
    api.edit(_directory(directory), revision)


@db_group.command()
@directory_option
@click.option("-m", "--message", default=None, help="Merge revision message")
@click.option("--branch-label", default=None, help="Specify a branch label to apply")
@click.option("--rev-id", default=None, help="Hardcoded revision id instead of a generated one")
@click.argument("revisions", nargs=-1)
@reports_errors
def merge(
    directory: str | None,
    message: str | None,
    branch_label: str | None,
    rev_id: str | None,
    revisions: tuple[str, ...],
) -> None:
    """Merge revisions into one (all heads when none are named)."""
    script = api.merge(
        _directory(directory), revisions, message=message, branch_label=branch_label, rev_id=rev_id
    )
    _report_written(script)


def _lock_options(f: F) -> F:
    f = click.option(
        "--no-lock",
        is_flag=True,
        help="Do not take the migration lock (for poolers that cannot hold session locks)",
    )(f)
    f = click.option(
        "--lock-timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="Seconds to wait for the migration lock (default 600, MIGRATE_LOCK_TIMEOUT)",
    )(f)
    return f


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A finite number of seconds, 0 or more (``nan`` and ``inf`` are refused)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from .settings import parse_seconds

        if isinstance(value, float):
            return value
        try:
            return parse_seconds(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


SECONDS = Seconds()


def _data_loss_options(f: F) -> F:
    f = click.option(
        "--no-input", is_flag=True, help="Ask nothing; drops that discard data go ahead with a warning"
    )(f)
    f = click.option(
        "--allow-data-loss",
        is_flag=True,
        default=None,
        help="Run alter_column changes that rewrite existing values (default: MIGRATE_ALLOW_DATA_LOSS)",
    )(f)
    return f


def _data_loss_args(allow_data_loss: bool | None, no_input: bool) -> dict[str, Any]:
    return {"allow_data_loss": allow_data_loss or None, "confirm_drop": _drop_prompt(no_input)}


def _drop_prompt(no_input: bool) -> Callable[[str], bool] | None:
    """Ask on a terminal before a drop that discards data; with --no-input or no terminal, ask nothing."""
    if no_input or not sys.stdin.isatty():
        return None

    def confirm(question: str) -> bool:
        return click.confirm(question, default=False, err=True)

    return confirm


def _lock_args(no_lock: bool, lock_timeout: float | None) -> dict[str, Any]:
    return {"lock": False if no_lock else None, "lock_timeout": lock_timeout}


@db_group.command(cls=RelativeStepCommand)
@directory_option
@sql_option
@tag_option
@x_arg_option
@backup_option
@_lock_options
@_data_loss_options
@phase_option
@click.option("--plan", is_flag=True, help="Show the steps it would run, and run nothing")
@click.argument("revision", default="head")
@database_option
@reports_errors
def upgrade(
    directory: str | None,
    sql: bool,
    tag: str | None,
    x_arg: tuple[str, ...],
    revision: str,
    backup: bool | None,
    no_lock: bool,
    lock_timeout: float | None,
    allow_data_loss: bool | None,
    no_input: bool,
    phase: str | None,
    plan: bool,
) -> None:
    """Upgrade to a later version."""
    if plan:
        _echo_plan(api.plan(_directory(directory), revision, phase=phase))
        return
    result = api.upgrade(
        _directory(directory),
        revision,
        sql=sql,
        tag=tag,
        x_arg=_x_args(x_arg),
        backup=backup,
        on_backup=_echo_backup,
        **_lock_args(no_lock, lock_timeout),
        **_data_loss_args(allow_data_loss, no_input),
        phase=phase,
    )
    if isinstance(result, str):
        click.echo(result, nl=False)


@db_group.command(cls=RelativeStepCommand)
@directory_option
@sql_option
@tag_option
@x_arg_option
@backup_option
@_lock_options
@_data_loss_options
@click.option("--plan", is_flag=True, help="Show the steps it would run, and run nothing")
@click.argument("revision", default="-1")
@database_option
@reports_errors
def downgrade(
    directory: str | None,
    sql: bool,
    tag: str | None,
    x_arg: tuple[str, ...],
    revision: str,
    backup: bool | None,
    no_lock: bool,
    lock_timeout: float | None,
    allow_data_loss: bool | None,
    no_input: bool,
    plan: bool,
) -> None:
    """Revert to a previous version."""
    if plan:
        _echo_plan(api.plan(_directory(directory), revision, downgrade=True))
        return
    result = api.downgrade(
        _directory(directory),
        revision,
        sql=sql,
        tag=tag,
        x_arg=_x_args(x_arg),
        backup=backup,
        on_backup=_echo_backup,
        **_lock_args(no_lock, lock_timeout),
        **_data_loss_args(allow_data_loss, no_input),
    )
    if isinstance(result, str):
        click.echo(result, nl=False)


@db_group.command()
@directory_option
@click.argument("revision", default="head")
@reports_errors
def show(directory: str | None, revision: str) -> None:
    """Show the revision denoted by the given symbol."""
    for script in api.show(_directory(directory), revision):
        click.echo(script.log_entry)


@db_group.command()
@directory_option
@click.option("-r", "--rev-range", default=None, help="Range of revisions to include (start:end)")
@verbose_option
@click.option("-i", "--indicate-current", is_flag=True, help="Indicate current version")
@reports_errors
def history(directory: str | None, rev_range: str | None, verbose: bool, indicate_current: bool) -> None:
    """List changeset scripts in chronological order."""
    for script in api.history(_directory(directory), rev_range, verbose, indicate_current):
        click.echo(
            _with_phase(
                script,
                script.cmd_format(
                    verbose=verbose, include_branches=True, include_doc=True, include_parents=True
                ),
                verbose,
            )
        )


def _with_phase(script: Any, line: str, verbose: bool) -> str:
    """A history entry with its phase: ``[post]`` after a post-deploy one; a line with -v."""
    from .phases import POST, phase_of

    phase = phase_of(script)
    if verbose:
        first, _, rest = line.partition("\n")
        return f"{first}\nPhase: {phase}\n{rest}" if rest else f"{first}\nPhase: {phase}"
    return f"{line} [post]" if phase == POST else line


@db_group.command()
@directory_option
@verbose_option
@click.option("--resolve-dependencies", is_flag=True, help="Treat dependency versions as down revisions")
@reports_errors
def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
    """Show current available heads in the script directory."""
    for script in api.heads(_directory(directory), verbose, resolve_dependencies):
        click.echo(script.cmd_format(verbose, include_branches=True, tree_indicators=False))


@db_group.command()
@directory_option
@verbose_option
@reports_errors
def branches(directory: str | None, verbose: bool) -> None:
    """Show current branch points."""
    directory = _directory(directory)
    points = api.branches(directory, verbose)
    children = api.revisions_by_id(directory, [rev for point in points for rev in point.nextrev])
    for point in points:
        click.echo(point.cmd_format(verbose, include_branches=True))
        for next_id in point.nextrev:
            child = children.get(next_id)
            if child is not None:
                pad = " " * len(str(point.revision))
                line = child.cmd_format(False, include_branches=True, include_doc=verbose)
                click.echo(f"{pad} -> {line}")
        click.echo()


@db_group.command()
@directory_option
@verbose_option
@click.option("--check-heads", is_flag=True, help="Exit 1 unless the database is at the heads")
@database_option
@reports_errors
def current(directory: str | None, verbose: bool, check_heads: bool) -> None:
    """Display the current revision for each database."""
    # Describe the revisions from the folder this command used (its own -d).
    directory = _directory(directory)
    _echo_heads(api.current(directory, verbose, check_heads), verbose, directory)


@db_group.command(cls=RelativeStepCommand)
@directory_option
@sql_option
@tag_option
@click.option("--purge", is_flag=True, help="Delete the version table before stamping")
@_lock_options
@click.argument("revisions", nargs=-1)
@database_option
@reports_errors
def stamp(
    directory: str | None,
    sql: bool,
    tag: str | None,
    purge: bool,
    revisions: tuple[str, ...],
    no_lock: bool,
    lock_timeout: float | None,
) -> None:
    """'stamp' the revision table with the given revision(s); don't run any migrations."""
    result = api.stamp(
        _directory(directory),
        list(revisions) or "head",
        sql=sql,
        tag=tag,
        purge=purge,
        **_lock_args(no_lock, lock_timeout),
    )
    if isinstance(result, str):
        click.echo(result, nl=False)


@db_group.command()
@directory_option
@database_option
@reports_errors
def check(directory: str | None) -> None:
    """Check if there are any new operations to migrate."""
    api.check(_directory(directory))
    click.echo("No new upgrade operations detected.")


@db_group.command("ensure-version")
@directory_option
@sql_option
@_lock_options
@database_option
@reports_errors
def ensure_version(directory: str | None, sql: bool, no_lock: bool, lock_timeout: float | None) -> None:
    """Create the version table if it does not exist."""
    result = api.ensure_version(_directory(directory), sql=sql, **_lock_args(no_lock, lock_timeout))
    if result:
        click.echo(result, nl=False)


def _echo_backup(backup: Backup) -> None:
    click.echo(f"Backed up database {backup.database} (revision {backup.revision}) to {backup.path}")
    from .backup import restore_command

    click.echo(f"Restore it with: {restore_command(backup)}")


@db_group.command()
@click.option(
    "--lock-timeout",
    type=SECONDS,
    default=0.0,
    metavar="SECONDS",
    help="Seconds to wait for a migration that holds the lock (default 0: refuse at once)",
)
@click.argument("backup")
@reports_errors
def restore(backup: str, lock_timeout: float) -> None:
    """Put a backup made by --backup back into its database (replacing what is there)."""
    restored = api.restore(backup, lock_timeout=lock_timeout)
    click.echo(f"Restored database {restored.database} from {restored.path} (revision {restored.revision}).")


@db_group.command()
@reports_errors
def backups() -> None:
    """List the backups made by 'upgrade --backup' and 'downgrade --backup'."""
    found = api.backups()
    if not found:
        from flask import current_app

        from .backup import backup_directory

        click.echo(f"No backups in {backup_directory(current_app)}.")
        return
    rows = [
        (
            backup.database,
            backup.revision,
            backup.created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            _size(backup.size),
            backup.path,
        )
        for backup in found
    ]
    headings = ("DATABASE", "REVISION", "TIME", "SIZE", "FILE")
    widths = [max(len(row[index]) for row in [headings, *rows]) for index in range(4)]
    for row in [headings, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path


def _echo_findings(findings: Sequence[Any], err: bool = False) -> None:
    for finding in findings:
        finding = type(finding)(**{**finding.__dict__, "path": _relative(finding.path)})
        click.echo(finding.format(), err=err)


@db_group.command()
@directory_option
@click.option("--all", "all_revisions", is_flag=True, help="Check every revision of the history")
@click.option(
    "--backend",
    default=None,
    type=click.Choice(["postgresql", "mysql", "mariadb", "sqlite"]),
    help="Check as for this database instead of the app's",
)
@click.option("--rules", "list_rules", is_flag=True, help="List the rules and what each costs")
@click.option(
    "--baseline",
    default=None,
    metavar="REV",
    help="With --all, check only revisions after REV (default: MIGRATE_LINT_BASELINE)",
)
@click.argument("revisions", required=False)
@database_option
@reports_errors
def lint(
    directory: str | None,
    all_revisions: bool,
    backend: str | None,
    list_rules: bool,
    baseline: str | None,
    revisions: str | None,
) -> None:
    """Check revisions for operations that lock or break a live database.

    Without REVISIONS, checks the revisions not applied yet; REVISIONS is
    one revision or a range such as abc123:head. --baseline REV (alone or
    with --all) checks the whole history after REV.
    """
    from .lint import ERROR, RULES

    if list_rules:
        for rule in RULES:
            click.echo(
                f"{rule.id} ({rule.levels()}): {rule.summary}.\n    cost: {rule.cost}.\n"
                f"    safer: {rule.hint}"
            )
        return
    checked, findings = api.lint(
        _directory(directory), revisions, all_revisions or baseline is not None, backend, baseline
    )
    _echo_findings(findings)
    errors = sum(1 for finding in findings if finding.severity == ERROR)
    click.echo(
        f"{len(checked)} revision(s) checked: {errors} error(s), {len(findings) - errors} warning(s).",
        err=True,
    )
    if errors:
        sys.exit(1)


def _rename_prompt(no_input: bool) -> Callable[[str], bool] | None:
    """Ask on a terminal; with --no-input or no terminal, ask nothing."""
    if no_input or not sys.stdin.isatty():
        return None

    def confirm(question: str) -> bool:
        return click.confirm(question, default=False)

    return confirm


def _lint_written(script: Any) -> None:
    """Show the lint findings of a revision just written (or its text) as advice.

    ``migrate`` has done its job either way, so nothing here reads as a
    failure; the last line says how to gate a build on the findings.
    """
    from .lint import ERROR, lint_files, lint_source
    from .lint.targets import backends_of
    from .state import get_state

    backends = backends_of(get_state().source)
    if isinstance(script, str):
        findings = lint_source(script, "(dry run)", backends)
    elif script is not None and getattr(script, "path", None):
        findings = lint_files([script.path], backends)
    else:
        return
    if not findings:
        return
    click.echo(f"Advice on this revision ({len(findings)} lint finding(s)):", err=True)
    for finding in findings:
        weight = "fails 'flask db lint'" if finding.severity == ERROR else "a warning"
        click.echo(
            f"  {_relative(finding.path)}:{finding.line} {finding.rule_id} ({weight}): "
            f"{finding.message} Safer: {finding.hint}",
            err=True,
        )
    click.echo(
        "The revision is written. To gate a build on these, run 'flask db lint' (it exits 1 on an error).",
        err=True,
    )


# -- deploy safety: status, resolve, sql, upgrade --plan -------------------------


def _echo_plan(plan: list[tuple[str, list[str]]]) -> None:
    for label, steps in plan:
        if not steps:
            click.echo(f"{label}: nothing to do")
        for step in steps:
            click.echo(f"{label}: {step}")


@db_group.command()
@directory_option
@click.option("--check", is_flag=True, help="Exit 1 while any database has pending revisions")
@click.option(
    "--phase",
    type=click.Choice(["pre", "post"]),
    default=None,
    help="With --check: pre counts only what 'upgrade --phase pre' applies (the gate between phases)",
)
@database_option
@reports_errors
def status(directory: str | None, check: bool, phase: str | None) -> None:
    """Show each revision, oldest first, as applied or pending, per database."""
    from .phases import POST, phase_of

    databases = api.status(_directory(directory), phase=phase)
    behind = []
    for database in databases:
        click.echo(f"Database {database.label}: at {', '.join(database.current) or 'base'}")
        for script, applied in database.revisions:
            mark = "applied" if applied else "pending"
            if not applied and script.revision in database.held_back and phase == "pre":
                mark = "held back"
            post = " [post]" if phase_of(script) == POST else ""
            click.echo(f"  [{mark}] {script.revision}{post}  {script.doc or ''}".rstrip())
        for problem in database.unfinished:
            click.echo(f"  [unfinished] {problem}; see 'flask db resolve'")
        if database.due or database.unfinished:
            behind.append(database.label)
    if check and behind:
        what = "the pre-deploy phase" if phase == "pre" else "date"
        click.echo(f"Not up to {what}: {', '.join(behind)}.", err=True)
        sys.exit(1)


@db_group.command()
@directory_option
@_lock_options
@click.option(
    "--applied",
    "outcome",
    flag_value="applied",
    help="Its changes are all in the database: record the revision as done",
)
@click.option(
    "--rolled-back",
    "outcome",
    flag_value="rolled-back",
    help="Its changes were undone by hand: leave the version table as it is",
)
@click.argument("revision")
@database_option
@reports_errors
def resolve(
    directory: str | None,
    outcome: str | None,
    revision: str,
    no_lock: bool,
    lock_timeout: float | None,
) -> None:
    """Settle a revision that an earlier upgrade left half-applied."""
    if outcome is None:
        raise click.UsageError("Say what happened to the revision: --applied or --rolled-back.")
    done = api.resolve(
        _directory(directory), revision, applied=outcome == "applied", **_lock_args(no_lock, lock_timeout)
    )
    for label, what in done:
        click.echo(f"{label}: recorded {revision} as {outcome.replace('-', ' ')} ({what}).")


@db_group.command("sql")
@directory_option
@click.argument("revision", default="head")
@database_option
@reports_errors
def sql_command(directory: str | None, revision: str) -> None:
    """Print the SQL of one revision's upgrade."""
    click.echo(api.sql(_directory(directory), revision), nl=False)


@db_group.command("upgrade-env")
@directory_option
@click.option("--force", is_flag=True, help="Replace an edited env.py too (its edits are lost)")
@click.option("--dry-run", is_flag=True, help="Show the change without making it")
@reports_errors
def upgrade_env(directory: str | None, force: bool, dry_run: bool) -> None:
    """Replace a Flask-Migrate env.py with the thin one flask db init writes."""
    plan = api.upgrade_env(_directory(directory), force=force, dry_run=dry_run)
    if plan is None:
        click.echo("env.py is the thin one already; nothing to do.")
        return
    click.echo(plan.diff, nl=False)
    origin = f"written by {plan.written_by}" if plan.written_by else "edited"
    if dry_run:
        click.echo(f"Would replace {plan.path} ({origin}), keeping it as {plan.backup_path}.")
        if plan.losses:
            click.echo("It would lose: " + "; ".join(plan.losses) + ".")
        return
    click.echo(f"Replaced {plan.path} ({origin}); the old file is {plan.backup_path}.")
