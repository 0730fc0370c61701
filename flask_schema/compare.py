"""Autogenerate's type and server-default comparison, judged per backend.

Alembic takes a callable for ``compare_type`` and ``compare_server_default``
and falls back to its own comparison when the callable returns ``None``.
These callables answer "no change" only where the backend says the two
spellings are the same storage (:attr:`Backend.type_equivalences`) or the
two defaults are one after the backend's normalisation; every other case
is left to Alembic. A project's own callable, passed to ``Migrate(...)``,
is asked first and keeps the last word.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from .backends import backend_for

log = logging.getLogger("flask_schema")

#: Alembic's ``compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type)``.
TypeHook = Callable[[Any, Any, Any, Any, Any], Optional[bool]]
#: Alembic's ``compare_server_default(context, inspected_column, metadata_column,
#: inspected_default, metadata_default, rendered_metadata_default)``.
DefaultHook = Callable[[Any, Any, Any, Any, Any, Any], Optional[bool]]


def _compiled(type_: Any, dialect: Any) -> str | None:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # a type the dialect cannot render: Alembic decides
        return None


def types_differ(context: Any, reflected: Any, model: Any) -> bool | None:
    """``False`` when the backend stores both types alike, else ``None`` (Alembic decides)."""
    dialect = context.dialect
    first, second = _compiled(reflected, dialect), _compiled(model, dialect)
    if first is None or second is None:
        return None
    row = backend_for(dialect.name).same_storage(first, second)
    if row is None:
        return None
    log.debug("%s and %s are the same storage on %s: %s.", first, second, dialect.name, row.storage)
    return False


def defaults_differ(context: Any, reflected: str | None, rendered_model: str | None) -> bool | None:
    """``False`` when both defaults normalise to the same text, else ``None`` (Alembic decides)."""
    backend = backend_for(context.dialect.name)
    first, second = backend.normalize_default(reflected), backend.normalize_default(rendered_model)
    if first is not None and first == second:
        return False
    return None


def _model_default(default: Any, rendered: str | None) -> str | None:
    """The model's default as SQL; a plain string is a quoted literal (Alembic renders ``""`` as nothing)."""
    value = getattr(default, "arg", None)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return rendered


def type_hook(user_hook: TypeHook | None) -> TypeHook:
    """A ``compare_type`` callable: the project's hook first, then the backend's table."""

    def compare(
        context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
    ) -> bool | None:
        if user_hook is not None:
            answer = user_hook(context, inspected, metadata, inspected_type, metadata_type)
            if answer is not None:
                return answer
        return types_differ(context, inspected_type, metadata_type)

    return compare


def default_hook(user_hook: DefaultHook | None) -> DefaultHook:
    """A ``compare_server_default`` callable: the project's hook first, then normalisation."""

    def compare(
        context: Any,
        inspected: Any,
        metadata: Any,
        inspected_default: Any,
        metadata_default: Any,
        rendered_metadata_default: Any,
    ) -> bool | None:
        if user_hook is not None:
            answer = user_hook(
                context, inspected, metadata, inspected_default, metadata_default, rendered_metadata_default
            )
            if answer is not None:
                return answer
        return defaults_differ(
            context, inspected_default, _model_default(metadata_default, rendered_metadata_default)
        )

    return compare
