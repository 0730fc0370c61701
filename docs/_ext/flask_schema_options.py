"""The ``flask-schema-options`` directive: the configuration reference.

It writes one entry per option in :data:`flask_schema.settings.OPTIONS`,
with its ``app.config`` key, environment variable, ``Migrate`` argument,
default and an example, so the page cannot fall behind the code.
"""

from __future__ import annotations

import inspect
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def example_value(option: Any) -> Any:
    """A value worth showing: the option's own example, else one unlike the default."""
    given = getattr(option, "example", None)
    if given is not None:
        return given
    if isinstance(option.default, bool):
        return not option.default
    return option.default


def as_env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def migrate_parameters() -> tuple[set[str], set[str]]:
    from flask_schema import Migrate

    return (
        set(inspect.signature(Migrate.__init__).parameters),
        set(inspect.signature(Migrate.init_app).parameters),
    )


def option_lines(option: Any) -> list[str]:
    constructor, init_app = migrate_parameters()
    example = example_value(option)
    if option.name in constructor and option.name in init_app:
        argument = f"``Migrate(app, db, {option.name}=...)`` or ``init_app(app, db, {option.name}=...)``"
    elif option.name in constructor:
        argument = f"``Migrate(app, db, {option.name}=...)``"
    else:
        argument = "none"
    return [
        f".. _option-{option.name.replace('_', '-')}:",
        "",
        f"``{option.name}``",
        "~" * (len(option.name) + 4),
        "",
        option.help,
        "",
        f"- ``app.config`` key: ``{option.config_key}``",
        f"- environment variable: ``{option.env_var}``",
        f"- ``Migrate`` argument: {argument}",
        f"- default: ``{option.default!r}``",
        f"- example: ``app.config[\"{option.config_key}\"] = {example!r}``, "
        f"or ``{option.env_var}={as_env_text(example)}``",
        "",
    ]


class OptionsDirective(SphinxDirective):
    """Render every registered option as a section of the current page."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from flask_schema.settings import OPTIONS

        lines: list[str] = []
        for option in OPTIONS.values():
            lines.extend(option_lines(option))
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source="flask_schema.settings.OPTIONS"), 0, container,
                                match_titles=True)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("flask-schema-options", OptionsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
