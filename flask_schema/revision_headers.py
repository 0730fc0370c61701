"""Read a revision history from the files' headers instead of importing them.

Alembic imports every revision module to learn four names (``revision``,
``down_revision``, ``branch_labels``, ``depends_on``) and the docstring, and
flask_schema wants a fifth (``phase``, see :mod:`flask_schema.phases`), so
``flask db current`` gets slower with every revision ever written. Here
those values are read from the top of each file, kept in a cache in
``versions/__pycache__`` keyed by each file's modification time and size,
and the module itself is imported only when a migration in it runs.

The revisions still go into Alembic's own ``RevisionMap``, so heads, order
and output are Alembic's. A file whose header is not plain literals (or
whose code might rebind those names) is imported the usual way.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

log = logging.getLogger("flask_schema")

#: Bump when what is stored, or the rules for trusting a header, change.
#: 2: the header holds ``phase`` too; a format-1 entry never recorded it.
CACHE_FORMAT = 2
CACHE_NAME = "flask_schema-revisions.json"

HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on", "phase")
# Names the real module must not define for its header to be trusted: Alembic
# asks for this one with hasattr(), which must not need an import to answer.
_UNTRUSTED_NAMES = frozenset({"_alembic_source_encoding"})

# Where the header ends: the first top-level def, class or decorator.
_BODY_START = re.compile(r"^(?:async[ \t]+def\b|def\b|class\b|@)", re.MULTILINE)
# A top-level line of the body other than a def, a comment, a blank line or
# the ")" closing a def's parameters: it might run code at import.
_TOP_LEVEL_CODE = re.compile(r"^(?![ \t\r\n]|$|(?:async[ \t]+)?def[ \t]|#|\))", re.MULTILINE)
# Anything in the body that could change a header name at import time.
_SUSPECT = re.compile(
    r"\b(?:revision|down_revision|branch_labels|depends_on|phase|globals|setattr|exec|eval|vars"
    r"|__dict__|__import__|_alembic_source_encoding)\b|sys\.modules|import[ \t]+\*"
)
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)

#: A file's docstring (``doc``) and header names, with the values the module has.
Header = dict[str, Any]


#: While :func:`reuse_script_directories` runs: the directories made, by config.
_REUSED: contextvars.ContextVar[dict[tuple[Any, ...], ScriptDirectory] | None] = contextvars.ContextVar(
    "flask_schema_reused_script_directories", default=None
)


def script_directory(config: Config) -> ScriptDirectory:
    """Alembic's ``ScriptDirectory.from_config``, loading revisions by header."""
    from alembic.script import ScriptDirectory

    reused = _REUSED.get()
    if reused is None:
        return use_headers(ScriptDirectory.from_config(config))
    key = (config.config_file_name, tuple(sorted(config.get_section(config.config_ini_section, {}).items())))
    if key not in reused:
        reused[key] = use_headers(ScriptDirectory.from_config(config))
    return reused[key]


@contextlib.contextmanager
def reuse_script_directories() -> Iterator[None]:
    """Within the block, commands on the same migrations folder share one ScriptDirectory.

    The revision files are then read, and their modules imported, once for
    the block instead of once per command: for a run of many commands in
    which no revision file changes (the pytest plugin's checks).
    """
    token = _REUSED.set({})
    try:
        yield
    finally:
        _REUSED.reset(token)


def use_headers(script: ScriptDirectory) -> ScriptDirectory:
    """Make ``script`` build its revision map from headers (before first use)."""
    from alembic.script.revision import RevisionMap

    from .history_check import checked

    if not script.sourceless:
        script.revision_map = RevisionMap(
            lambda: checked(load_revisions(script), lambda revision: file_of(script, revision))
        )
    return script


def file_of(script: ScriptDirectory, revision: str) -> str:
    """The file whose header declares ``revision`` (for errors raised before a Script exists)."""
    from .alembic_private import version_locations

    for location in version_locations(script):
        for path in sorted(location.glob("*.py")) if location.is_dir() else []:
            header = read_header(path.read_bytes())
            if header is not None and header.get("revision") == revision:
                return os.path.relpath(str(path))
    return f"the revision file of {revision}"


# -- loading ---------------------------------------------------------------------


def load_revisions(script: ScriptDirectory) -> Iterator[Script]:
    """The revisions of ``script``, in the order Alembic's loader yields them."""
    from alembic.script.base import Script
    from alembic.util import warn

    from .alembic_private import is_revision_file_name, load_script, version_locations

    seen: set[str] = set()
    for location in version_locations(script):
        if not location.exists():
            continue
        cache = HeaderCache(location)
        for listed, real_path in _listed_files(script, location):
            if real_path in seen:
                warn(f"File {real_path} loaded twice! ignoring. Please ensure version_locations is unique.")
                continue
            seen.add(real_path)
            if not is_revision_file_name(os.path.basename(real_path)):
                continue
            header = cache.get(listed)
            if header is None:
                found = load_script(script, real_path)
                if found is not None:
                    yield found
                continue
            module = RevisionModule(real_path, header)
            yield Script(module, header["revision"], real_path)
        cache.save()


def _listed_files(script: ScriptDirectory, location: Path) -> list[tuple[str, str]]:
    """(path as listed, real path) of each file Alembic's own lister would find.

    A plain folder is read with one ``scandir`` and one ``realpath``; nested
    folders and symbolic links are left to Alembic's lister, so the files
    and their order are the same.
    """
    from .alembic_private import list_revision_files

    if not script.recursive_version_locations and not location.name.endswith("__pycache__"):
        with os.scandir(location) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        if not any(entry.is_symlink() for entry in entries):
            real_location = str(location.resolve())
            return [
                (entry.path, os.path.join(real_location, entry.name))
                for entry in entries
                if not entry.is_dir(follow_symlinks=False)
            ]
    return [(str(path), str(path.resolve())) for path in list_revision_files(script, location)]


class RevisionModule(types.ModuleType):
    """A revision module that holds its header and imports the file on demand.

    ``upgrade``/``downgrade`` (or any other name) load the real module, the
    way Alembic would have, and are served from it from then on.
    """

    def __init__(self, path: str, header: Header) -> None:
        super().__init__(re.sub(r"\W", "_", os.path.basename(path)))
        self.__file__ = path
        self.__doc__ = None if sys.flags.optimize >= 2 else header["doc"]
        for name in HEADER_NAMES:
            if name in header:
                setattr(self, name, header[name])
        self._flask_schema_loaded: types.ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        if (
            (name.startswith("__") and name.endswith("__"))
            or name in HEADER_NAMES
            or name in _UNTRUSTED_NAMES
        ):
            # Not in the header means not in the file: read_header checked.
            raise AttributeError(name)
        loaded = self.__dict__.get("_flask_schema_loaded")
        if loaded is None:
            from alembic.util import load_python_file

            path = self.__dict__["__file__"]
            loaded = load_python_file(os.path.dirname(path), os.path.basename(path))
            self.__dict__["_flask_schema_loaded"] = loaded
        return getattr(loaded, name)


# -- reading headers -------------------------------------------------------------


def read_header(source: bytes) -> Header | None:
    """The header values of a revision file, or ``None`` if only importing tells.

    Trusted only when the file's top is a docstring, imports and literal
    assignments, and nothing below could run code at import or rebind the
    names; anything else is left to Alembic.
    """
    match = _CODING.search(b"\n".join(source.split(b"\n", 2)[:2]))
    if match and match.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    body_at = _BODY_START.search(text)
    head, body = (text[: body_at.start()], text[body_at.start() :]) if body_at else (text, "")
    if _TOP_LEVEL_CODE.search(body) or _SUSPECT.search(body):
        return None
    try:
        tree = ast.parse(head)
    except (SyntaxError, ValueError):
        return None
    header: Header = {"doc": ast.get_docstring(tree, clean=False)}
    for index, node in enumerate(tree.body):
        if index == 0 and header["doc"] is not None:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(
                alias.name == "*" or (alias.asname or alias.name).split(".")[0] in HEADER_NAMES
                for alias in node.names
            ):
                return None
            continue
        target, value = _assignment(node)
        if target is None or target in header or target in _UNTRUSTED_NAMES:
            return None
        if target not in HEADER_NAMES:
            continue
        literal = _literal(value)
        if literal is _NOT_PLAIN:
            return None
        header[target] = literal
    if not isinstance(header.get("revision"), str) or "down_revision" not in header:
        return None
    return header


_NOT_PLAIN = object()


def _literal(node: ast.expr) -> Any:
    """The value of None, a string, or a tuple/list of strings; else ``_NOT_PLAIN``.

    Those are all a header holds, and all the cache can store exactly.
    """
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts
    ):
        items = [item.value for item in node.elts]  # type: ignore[attr-defined]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    return _NOT_PLAIN


def _assignment(node: ast.stmt) -> tuple[str | None, Any]:
    """(name, value) of ``name = value`` or ``name: type = value``; else (None, None)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id, node.value
    return None, None


class HeaderCache:
    """Headers of one versions folder, stored next to Python's own bytecode cache."""

    def __init__(self, location: Path) -> None:
        self.location = str(location)
        self.path = location / "__pycache__" / CACHE_NAME
        self.entries: dict[str, list[Any]] = {}
        self.used: set[str] = set()
        self.changed = False
        try:
            with open(self.path, encoding="utf-8") as file:
                stored = json.load(file)
            if stored.get("format") == CACHE_FORMAT:
                self.entries = stored["files"]
        except (OSError, ValueError, KeyError, AttributeError):
            self.entries = {}

    def get(self, path: str) -> Header | None:
        """The header of ``path``, read again only when the file changed."""
        prefix = os.path.join(self.location, "")
        key = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, self.location)
        self.used.add(key)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = [stat.st_mtime_ns, stat.st_size]
        entry = self.entries.get(key)
        if isinstance(entry, list) and len(entry) == 3 and entry[:2] == stamp:
            return _from_json(entry[2])
        try:
            with open(path, "rb") as file:
                header = read_header(file.read())
        except OSError:
            return None
        self.entries[key] = [*stamp, _to_json(header)]
        self.changed = True
        return header

    def save(self) -> None:
        """Write the cache if it changed; a folder we cannot write is fine."""
        stale = set(self.entries) - self.used
        if not (self.changed or stale) or sys.dont_write_bytecode:
            return
        for key in stale:
            del self.entries[key]
        temporary = None
        try:
            self.path.parent.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".flask_schema-")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump({"format": CACHE_FORMAT, "files": self.entries}, file)
            # Atomic: a process reading at the same time sees the old or the new file.
            os.replace(temporary, self.path)
        except OSError as error:
            log.debug("Could not write the revision header cache %s: %s", self.path, error)
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)


# JSON has no tuples; a value that was a tuple is stored as {"tuple": [...]}.
def _to_json(header: Header | None) -> Any:
    if header is None:
        return None
    return {
        key: {"tuple": list(value)} if isinstance(value, tuple) else value for key, value in header.items()
    }


def _from_json(stored: Any) -> Header | None:
    if stored is None:
        return None
    return {key: tuple(value["tuple"]) if isinstance(value, dict) else value for key, value in stored.items()}
