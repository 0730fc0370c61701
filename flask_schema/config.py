"""flask_schema's Alembic ``Config``: our templates, and no printing.

This module imports Alembic, so only code that runs a command imports it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from alembic.config import Config as AlembicConfig

log = logging.getLogger("flask_schema")

TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


class Config(AlembicConfig):
    """An Alembic config that finds flask_schema's templates.

    ``template_directory`` points ``flask db init -t PATH`` at a folder of
    custom templates. Alembic's own messages (``print_stdout``) go to the
    ``flask_schema`` logger at DEBUG so the API prints nothing.
    """

    def __init__(self, *args: Any, template_directory: str | None = None, **kwargs: Any) -> None:
        self.template_directory = template_directory
        super().__init__(*args, **kwargs)

    def get_template_directory(self) -> str:
        return self.template_directory or TEMPLATES_DIR

    def print_stdout(self, text: str, *arg: Any) -> None:
        # DEBUG: the CLI prints each command's result itself, from what the
        # API returns, so at INFO these lines would show twice.
        log.debug(text % arg if arg else text)
