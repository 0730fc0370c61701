"""The autogenerate settings flask_schema adds to ``context.configure``.

They come from :mod:`flask_schema.settings`, so a project sets them with
``MIGRATE_*`` config keys or ``FLASK_DB_*`` variables instead of editing
``env.py``. Type and default comparison are judged per backend by
:mod:`flask_schema.compare`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from . import settings

IncludeName = Callable[[Any, str, Mapping[str, Any]], bool]


def autogenerate_options(app_config: Mapping[str, Any], options: dict[str, Any]) -> None:
    """Fill ``options`` (the ``context.configure`` arguments) from the settings, in place.

    Where type and server-default comparison are on, they become callables
    that ask the backend first (:mod:`flask_schema.compare`), so spellings
    the database stores alike are no change.
    """
    from .compare import default_hook, type_hook

    compare_default = settings.resolve(
        "compare_server_default", app_config, options.get("compare_server_default")
    )
    if compare_default:
        compare_default = default_hook(compare_default if callable(compare_default) else None)
    options["compare_server_default"] = compare_default
    compare_type = options.get("compare_type", True)
    if compare_type:
        options["compare_type"] = type_hook(compare_type if callable(compare_type) else None)
    ignored = list(settings.resolve("ignore_tables", app_config))
    schemas = list(settings.resolve("schemas", app_config))
    if schemas:
        options["include_schemas"] = True
    if ignored or schemas:
        options["include_name"] = include_name(ignored, schemas, options.get("include_name"))


def include_name(ignored_tables: list[str], schemas: list[str], user_hook: IncludeName | None) -> IncludeName:
    """An ``include_name`` hook that skips ignored tables and unlisted schemas.

    The user's own hook, if any, still has the last word on what is left.
    """

    def hook(name: Any, type_: str, parent_names: Mapping[str, Any]) -> bool:
        if type_ == "table" and any(fnmatchcase(str(name), pattern) for pattern in ignored_tables):
            return False
        if type_ == "schema" and schemas and name is not None and name not in schemas:
            return False
        return user_hook(name, type_, parent_names) if user_hook is not None else True

    return hook
