"""The rule about the order of pre- and post-deploy revisions.

``flask db upgrade --phase pre`` holds back each pending post revision and
everything that comes after it (see :mod:`flask_schema.phases`). A pending
pre revision on top of a pending post one is then held back too, so the new
release starts without a change it was written for. This rule is about the
revisions together, not one operation, so its check is
:func:`order_findings`; the :class:`Rule` describes it for ``--rules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import ERROR, Finding, LintContext, Operation, rule


@rule(
    "pre-after-post",
    ERROR,
    "pending pre-deploy revision that comes after a pending post-deploy one",
    "make the post revision the last one pending: give the pre revision the post one's parent "
    "(edit its down_revision), or apply the post revision first ('flask db upgrade --phase post').",
    cost="'upgrade --phase pre' holds it back until the post phase, so the new release starts "
    "without the change it needs",
)
def pre_after_post(operation: Operation, context: LintContext) -> str | None:
    return None  # judged over the pending revisions together: order_findings


RULES = [pre_after_post]


@dataclass(frozen=True)
class Pending:
    """What the order rule needs of one pending revision."""

    path: str
    revision: str
    parents: frozenset[str]
    phase: str


def order_findings(pending: Sequence[Pending]) -> list[Finding]:
    """A finding for each pending pre revision that stands on a pending post revision.

    ``pending`` is oldest first (parents before children).
    """
    behind: dict[str, str] = {}  # revision held back -> the post revision it waits for
    findings = []
    for item in pending:
        waits_for = next((behind[parent] for parent in sorted(item.parents) if parent in behind), None)
        if item.phase == "post":
            behind[item.revision] = waits_for or item.revision
            continue
        if waits_for is None:
            continue
        behind[item.revision] = waits_for
        findings.append(
            Finding(
                item.path,
                1,
                pre_after_post.id,
                ERROR,
                f"Pre-deploy revision {item.revision} comes after post-deploy revision {waits_for}, "
                "which is pending too: 'flask db upgrade --phase pre' holds it back until the post phase.",
                pre_after_post.hint,
            )
        )
    return findings
