"""The ``flask-schema-lint-rules`` directive: one entry per lint rule.

It reads :data:`flask_schema.lint.RULES`, the same list ``flask db lint``
runs, so the page lists exactly the rules the command applies.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class LintRulesDirective(SphinxDirective):
    """Render each rule's id, level, summary, cost and safer way."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from flask_schema.lint import RULES

        lines: list[str] = []
        for rule in RULES:
            lines += [
                f"``{rule.id}`` ({rule.levels()})",
                f"    {rule.summary}",
                "",
                f"    *Cost on a live database:* {rule.cost}",
                "",
                f"    *Safer:* {rule.hint}",
                "",
            ]
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source="flask_schema.lint.RULES"), 0, container)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("flask-schema-lint-rules", LintRulesDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
