"""What a person sees on the terminal: log levels, the level names, colour.

``flask db`` shows flask_schema's own lines at INFO, Alembic's chatter
("Context impl ...", "Will assume ...", "Running upgrade ...") only with
``flask db -v``, and nothing below WARNING with ``flask db -q``. A project's
``alembic.ini`` logging sections are honoured, with three repairs: the
``flask_schema`` logger gets a level even when the file names none (a
Flask-Migrate ``alembic.ini`` has only root, sqlalchemy and alembic), level
names are not cut to five letters (``WARNI``), and warnings and errors are
coloured on a terminal unless ``NO_COLOR`` is set.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import IO, Any

import click

#: Alembic's per-run lines: the impl, the DDL assumption and each step.
ALEMBIC_CHATTER = "alembic.runtime.migration"

QUIET, NORMAL, VERBOSE = -1, 0, 1

_COLOURS = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "red"}
_CUT_LEVELNAME = re.compile(r"%\(levelname\)(-?\d*)\.\d+s")


def use_colour(stream: IO[str] | Any) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class PersonFormatter(logging.Formatter):
    """A formatter that keeps level names whole and colours warnings and errors."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(_CUT_LEVELNAME.sub(r"%(levelname)\1s", fmt) if fmt else fmt, datefmt)
        self.colour = False

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        colour = _COLOURS.get(record.levelno)
        return click.style(text, fg=colour) if colour and self.colour else text


def _adopt(handler: logging.Handler) -> None:
    """Give ``handler`` a :class:`PersonFormatter` with its own format string."""
    if isinstance(handler.formatter, PersonFormatter):
        return
    old = handler.formatter
    formatter = PersonFormatter(old._fmt if old else "%(message)s", old.datefmt if old else None)
    formatter.colour = isinstance(handler, logging.StreamHandler) and use_colour(handler.stream)
    handler.setFormatter(formatter)


def setup_logging(directory: str, verbosity: int = NORMAL) -> None:
    """Configure logging for one ``flask db`` command run on ``directory``."""
    ini = os.path.join(directory, "alembic.ini")
    configured = False
    if os.path.isfile(ini):
        import configparser

        parser = configparser.ConfigParser()
        parser.read(ini)
        if parser.has_section("loggers") and parser.has_section("formatters"):
            from logging.config import fileConfig

            fileConfig(ini, disable_existing_loggers=False)
            configured = True
    ours = logging.getLogger("flask_schema")
    if not configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PersonFormatter("%(message)s"))
        for name in ("alembic", "flask_schema"):
            logger = logging.getLogger(name)
            if not logger.handlers:
                logger.addHandler(handler)
                logger.setLevel(logging.INFO)
                logger.propagate = False
    elif ours.level == logging.NOTSET:
        ours.setLevel(logging.INFO)  # the file names no level for us: show our lines
    for name in ("", "alembic", "flask_schema"):
        for existing in logging.getLogger(name).handlers:
            _adopt(existing)
    _set_levels(verbosity)


class _OnlyWarnings(logging.Filter):
    """Drop records below WARNING.

    A filter rather than a level: a Flask-Migrate ``env.py`` calls
    ``fileConfig`` itself, which resets the levels of existing child loggers
    such as Alembic's, but leaves their filters alone.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_ONLY_WARNINGS = _OnlyWarnings()


def _set_levels(verbosity: int) -> None:
    chatter = logging.getLogger(ALEMBIC_CHATTER)
    plugins = logging.getLogger("alembic.runtime.plugins")  # Alembic 1.20 logs each plugin it loads
    if plugins.level == logging.NOTSET:
        plugins.setLevel(logging.WARNING)
    chatter.removeFilter(_ONLY_WARNINGS)
    if verbosity >= VERBOSE:
        chatter.setLevel(logging.INFO)
    else:
        chatter.addFilter(_ONLY_WARNINGS)
    if verbosity <= QUIET:
        for name in ("alembic", "flask_schema"):
            logging.getLogger(name).setLevel(logging.WARNING)


def echo_error(message: str) -> None:
    """``Error: message`` on stderr, red on a terminal."""
    colour = use_colour(sys.stderr)
    click.echo(click.style(f"Error: {message}", fg="red") if colour else f"Error: {message}", err=True)


def echo_warning(message: str) -> None:
    """``Warning: message`` on stderr, yellow on a terminal."""
    colour = use_colour(sys.stderr)
    text = f"Warning: {message}"
    click.echo(click.style(text, fg="yellow") if colour else text, err=True)
