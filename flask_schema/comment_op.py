"""An autogenerate operation that writes a comment line into the revision file.

The reviews of autogenerate's findings (renames, enum changes) leave their
questions and warnings in the revision itself, above the operations they
are about, where the person reading the new file sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation


def _comment_op_class() -> type[MigrateOperation]:
    """Define (once) an operation that renders as a comment line in the revision."""
    global _CommentOp
    if _CommentOp is not None:
        return _CommentOp
    from alembic.autogenerate import renderers
    from alembic.operations.ops import MigrateOperation

    class _Comment(MigrateOperation):
        def __init__(self, text: str, subject: str) -> None:
            self.text = text
            self.subject = subject

        def reverse(self) -> MigrateOperation:
            return self

        def to_diff_tuple(self) -> tuple[Any, ...]:
            return ()

    @renderers.dispatch_for(_Comment)
    def render(autogen_context: Any, op: _Comment) -> str:
        return f"# {op.text}"

    _CommentOp = _Comment
    return _Comment


_CommentOp: type[MigrateOperation] | None = None


def CommentOp(text: str, subject: str) -> MigrateOperation:  # noqa: N802 - reads as a class
    return _comment_op_class()(text, subject)  # type: ignore[call-arg]


def is_comment(op: Any) -> bool:
    """Whether ``op`` is a comment line made by :func:`CommentOp`."""
    return _CommentOp is not None and isinstance(op, _CommentOp)


def remove_comments_about(ops: list[MigrateOperation], subject: str) -> None:
    if _CommentOp is None:
        return
    ops[:] = [op for op in ops if not (isinstance(op, _CommentOp) and op.subject == subject)]  # type: ignore[attr-defined]
