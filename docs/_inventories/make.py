"""Write the small intersphinx inventories the docs build reads offline.

The build has no network, so instead of fetching each project's
``objects.inv`` the docs ship these, listing only the names the pages and
the API reference mention. Run ``python docs/_inventories/make.py`` after
adding a name; the format is Sphinx's inventory version 2.
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project: (version, [(name, role, page#anchor, shown)]); "$" in a page means the name.
INVENTORIES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "python": ("Python", "3", [
        ("logging", "py:module", "library/logging.html#module-$"),
        ("logging.Logger", "py:class", "library/logging.html#$"),
        ("Exception", "py:exception", "library/exceptions.html#$"),
        ("SystemExit", "py:exception", "library/exceptions.html#$"),
        ("sys.exit", "py:function", "library/sys.html#$"),
        ("collections.abc.Sequence", "py:class", "library/collections.abc.html#$"),
    ]),
    "flask": ("Flask", "3.1", [
        ("flask.Flask", "py:class", "api/#$"),
        ("flask.Flask.config", "py:attribute", "api/#$"),
        ("flask.Flask.cli", "py:attribute", "api/#$"),
        ("flask.Flask.extensions", "py:attribute", "api/#$"),
        ("flask.current_app", "py:data", "api/#$"),
        ("flask.cli.AppGroup", "py:class", "api/#$"),
        ("flask.cli.FlaskGroup", "py:class", "api/#$"),
        # Names as the API reference's type hints spell them.
        ("flask.app.Flask", "py:class", "api/#flask.Flask"),
        ("Flask", "py:class", "api/#flask.Flask"),
    ]),
    "sqlalchemy": ("SQLAlchemy", "2.0", [
        ("sqlalchemy.engine.Engine", "py:class", "core/connections.html#$"),
        ("sqlalchemy.engine.Connection", "py:class", "core/connections.html#$"),
        ("sqlalchemy.engine.URL", "py:class", "core/engines.html#$"),
        ("sqlalchemy.schema.MetaData", "py:class", "core/metadata.html#$"),
        ("sqlalchemy.schema.Table", "py:class", "core/metadata.html#$"),
        ("sqlalchemy.create_engine", "py:function", "core/engines.html#$"),
        ("MetaData", "py:class", "core/metadata.html#sqlalchemy.schema.MetaData"),
    ]),
    "alembic": ("Alembic", "1.18", [
        ("alembic.config.Config", "py:class", "api/config.html#$"),
        ("alembic.command", "py:module", "api/commands.html#module-$"),
        ("alembic.runtime.environment.EnvironmentContext", "py:class", "api/runtime.html#$"),
        ("alembic.runtime.environment.EnvironmentContext.configure", "py:method", "api/runtime.html#$"),
        ("alembic.runtime.migration.MigrationContext", "py:class", "api/runtime.html#$"),
        ("alembic.script.ScriptDirectory", "py:class", "api/script.html#$"),
        ("alembic.operations.Operations", "py:class", "ops.html#$"),
        ("alembic.script.Script", "py:class", "api/script.html#$"),
        ("Script", "py:class", "api/script.html#alembic.script.Script"),
    ]),
}


def write(name: str, project: str, version: str, entries: list[tuple[str, str, str]]) -> None:
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{entry} {role} 1 {uri} -\n" for entry, role, uri in entries)
    (HERE / f"{name}.inv").write_bytes(header.encode() + zlib.compress(body.encode(), 9))


if __name__ == "__main__":
    for name, (project, version, entries) in INVENTORIES.items():
        write(name, project, version, entries)
