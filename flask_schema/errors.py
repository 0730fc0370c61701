"""The exceptions flask_schema raises.

The Python API raises these and never calls ``sys.exit``; the CLI turns each
one into a single line on stderr and an exit status.
"""

from __future__ import annotations


def sentence(text: str) -> str:
    """``text`` ending in a full stop (or its own ``.``, ``!``, ``?``, ``:``).

    For a message, often another library's, that has more sentences put after
    it: "... for all heads. Run 'flask db heads' ...". Empty text stays empty.
    """
    stripped = text.rstrip()
    return stripped if not stripped or stripped[-1] in ".!?:" else f"{stripped}."


class FlaskSchemaError(Exception):
    """Base class of every error flask_schema reports to its caller.

    ``str(error)`` is a complete sentence meant for a person: what went wrong
    and, where it is known, what to do about it.
    """

    #: Exit status the CLI uses for this error.
    exit_code = 1


class ConfigurationError(FlaskSchemaError):
    """The app, its database settings or the extension are set up wrongly."""


class MigrationsFolderError(FlaskSchemaError):
    """The migrations folder is missing, or exists where it should not."""


class RevisionError(FlaskSchemaError):
    """A revision identifier or range could not be resolved."""


class MultipleHeadsError(RevisionError):
    """The history has several heads where the command needs one."""


class DatabaseError(FlaskSchemaError):
    """The database could not be reached or refused a statement."""


class ChangesDetected(FlaskSchemaError):
    """``check`` found model changes that no revision covers yet.

    :attr:`diffs` holds Alembic's diff tuples, one per change.
    """

    def __init__(self, message: str, diffs: list[object]) -> None:
        super().__init__(message)
        self.diffs = diffs


class CommandError(FlaskSchemaError):
    """Alembic refused the command; the message is Alembic's own."""


class BackupError(FlaskSchemaError):
    """A backup asked for with ``--backup`` could not be made; nothing was migrated."""


class LockTimeout(FlaskSchemaError):
    """Another process held the migration lock past the deadline."""


class LockLost(FlaskSchemaError):
    """The migration lock was lost while revisions ran; the run stopped before doing more.

    :attr:`detail` says when and why, for a report that names the revision.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class MigrationFailed(FlaskSchemaError):
    """A revision's own code or SQL failed; the message says where the database stands."""


class DataLossRefused(FlaskSchemaError):
    """A revision would change or drop existing values and that was not allowed.

    Raised before the statement that would lose them; the run reports
    whether anything of the revision had already changed.
    """


class HalfAppliedRevision(FlaskSchemaError):
    """An earlier run stopped inside a revision on a database without transactional DDL."""


class InvalidArgument(FlaskSchemaError):
    """A command-line value is unusable as given (a usage error)."""

    exit_code = 2


class IsolationBreach(FlaskSchemaError):
    """A test run connected to a database that is not one of its throw-away databases."""
