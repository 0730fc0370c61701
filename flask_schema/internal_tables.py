"""The tables flask_schema keeps beside a version table, hidden from autogenerate.

The run log (``<version table>_runlog``) exists while a revision is
unfinished, and the generic lock keeps ``<version table>_lock``. Neither
belongs to the app's models, so autogenerate must never propose dropping
them, whatever ``env.py`` the project has: the filter goes into the
``configure_args`` every ``env.py`` passes to ``context.configure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def runlog_table(version_table: str) -> str:
    return f"{version_table}_runlog"


def lock_table(version_table: str) -> str:
    return f"{version_table}_lock"


def skip_internal_tables(user_hook: Callable[..., bool] | None, version_table: str) -> Callable[..., bool]:
    """An ``include_name`` hook that leaves out our tables, then asks ``user_hook``."""
    if getattr(user_hook, "flask_schema_skips", None) == version_table:
        return user_hook  # type: ignore[return-value]
    names = {runlog_table(version_table), lock_table(version_table)}

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table" and name in names:
            return False
        return user_hook(name, type_, parent_names) if user_hook is not None else True

    include_name.flask_schema_skips = version_table  # type: ignore[attr-defined]
    return include_name
