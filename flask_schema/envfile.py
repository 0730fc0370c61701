"""A project's ``env.py``: who wrote it, and trading it for the thin one.

Every ``env.py`` gets the run's safety (:mod:`flask_schema.run`), but the two
lines ``flask db init`` writes also get fixes to how migrations are
configured with each release. :func:`plan_replacement` tells an ``env.py``
that Flask-Migrate wrote and nobody changed (recognised by fingerprint, not by
keeping a copy of it) from one that was edited, and says what replacing an
edited one would lose, so ``flask db upgrade-env`` never drops a project's own
code in silence.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
from dataclasses import dataclass, field

from .errors import ConfigurationError, MigrationsFolderError

#: Fingerprints (see :func:`fingerprint`) of the env.py files Flask-Migrate's
#: ``flask db init`` wrote, with the releases that wrote each one.
FLASK_MIGRATE_ENV_FILES = {
    "6aa978d418198635": ("flask", "Flask-Migrate 2.5"),
    "e4b778d1deb5be98": ("flask", "Flask-Migrate 2.7"),
    "4fbe799f41abdd2e": ("flask", "Flask-Migrate 3.0-3.1"),
    "161375304b7a734a": ("flask", "Flask-Migrate 4.0.0"),
    "3b826372a32efdde": ("flask", "Flask-Migrate 4.0.5-4.1"),
    "d647346fef9fd73b": ("flask-multidb", "Flask-Migrate 2.5"),
    "0940bbfc1d3fbc41": ("flask-multidb", "Flask-Migrate 2.7"),
    "fa5550bb336344ae": ("flask-multidb", "Flask-Migrate 3.0"),
    "c05299f328bc69da": ("flask-multidb", "Flask-Migrate 3.1"),
    "8bb907378bfda97f": ("flask-multidb", "Flask-Migrate 4.0.0"),
    "e1bc8b416e089e33": ("flask-multidb", "Flask-Migrate 4.0.5-4.1"),
}

#: What the env.py files Flask-Migrate writes define and pass on their own.
_STANDARD_FUNCTIONS = {
    "get_engine",
    "get_engine_url",
    "get_metadata",
    "run_migrations_offline",
    "run_migrations_online",
    "process_revision_directives",
}
_STANDARD_CONFIGURE_ARGUMENTS = {
    "connection",
    "url",
    "target_metadata",
    "literal_binds",
    "upgrade_token",
    "downgrade_token",
    "process_revision_directives",
}

#: The name the old file keeps beside the new one.
BACKUP_SUFFIX = ".flask-migrate"


def fingerprint(source: str) -> str:
    """A short digest of ``source`` that ignores line endings and trailing blanks."""
    text = "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").strip().splitlines())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Replacement:
    """What ``flask db upgrade-env`` would do to one ``env.py``."""

    path: str
    template: str
    #: Which release wrote the old file, or ``None`` when it was edited.
    written_by: str | None
    diff: str
    #: The project's own code the new file would not carry, one phrase each.
    losses: list[str] = field(default_factory=list)

    @property
    def backup_path(self) -> str:
        return self.path + BACKUP_SUFFIX


def plan_replacement(directory: str, templates_dir: str) -> Replacement | None:
    """What replacing ``directory``'s env.py would mean; ``None`` if it is the thin one already."""
    path = os.path.join(directory, "env.py")
    if not os.path.isfile(path):
        raise MigrationsFolderError(f"No env.py in '{directory}': run 'flask db init' to create it.")
    with open(path, encoding="utf-8") as file:
        source = file.read()
    if "flask_schema.runtime" in source and "run_env" in source:
        return None
    known = FLASK_MIGRATE_ENV_FILES.get(fingerprint(source))
    template = known[0] if known else _guess_template(source)
    with open(os.path.join(templates_dir, template, "env.py"), encoding="utf-8") as file:
        thin = file.read()
    diff = "".join(
        difflib.unified_diff(
            source.splitlines(keepends=True),
            thin.splitlines(keepends=True),
            fromfile=f"{path} (now)",
            tofile=f"{path} (thin)",
        )
    )
    losses = [] if known else _own_code(source)
    return Replacement(path, template, known[1] if known else None, diff, losses)


def replace(plan: Replacement, templates_dir: str, force: bool) -> None:
    """Keep the old file beside the new one and write the thin ``env.py``."""
    if plan.written_by is None and not force:
        lost = "; ".join(plan.losses) or "its edits"
        raise ConfigurationError(
            f"{plan.path} is not an env.py Flask-Migrate wrote as it stands (it was edited), and "
            f"the thin one would not carry: {lost}. Move those into Migrate(app, db, ...) "
            "arguments or a @migrate.configure callback, then run 'flask db upgrade-env --force'."
        )
    if os.path.exists(plan.backup_path):
        raise ConfigurationError(
            f"{plan.backup_path} exists already; move it away so the old env.py can be kept there."
        )
    with open(os.path.join(templates_dir, plan.template, "env.py"), encoding="utf-8") as file:
        thin = file.read()
    os.replace(plan.path, plan.backup_path)
    try:
        with open(plan.path, "x", encoding="utf-8") as file:
            file.write(thin)
    except BaseException:
        os.replace(plan.backup_path, plan.path)  # leave no half-done change behind
        raise


def _guess_template(source: str) -> str:
    if any(word in source for word in ("async_engine_from_config", "run_async", "AsyncEngine")):
        raise ConfigurationError(
            "This env.py runs migrations through an async engine; flask_schema's thin env.py "
            "runs them on a sync engine of the same URL, so replace it by hand."
        )
    return "flask-multidb" if "bind_names" in source or "SQLALCHEMY_BINDS" in source else "flask"


def _own_code(source: str) -> list[str]:
    """The parts of an edited env.py the thin one has no counterpart for."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"the file does not parse (line {error.lineno})"]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name not in _STANDARD_FUNCTIONS:
            found.append(f"function {node.name}()")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "configure"
        ):
            for keyword in node.keywords:
                if keyword.arg is not None and keyword.arg not in _STANDARD_CONFIGURE_ARGUMENTS:
                    found.append(f"context.configure({keyword.arg}=...)")
    return found or ["lines that differ from what Flask-Migrate wrote (see the diff)"]
