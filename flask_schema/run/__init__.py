"""The run pipeline: the one path every database command takes, whatever ``env.py`` is.

A command of :mod:`flask_schema.api` describes what it wants in a
:class:`~flask_schema.run.request.RunRequest` and hands it to
:func:`~flask_schema.run.environment.execute`, which runs the project's
``env.py`` once under a :class:`~flask_schema.run.environment.RunEnvironment`.
That environment sees each ``context.configure`` and ``run_migrations`` call
of any ``env.py`` (the two lines ``flask db init`` writes, or one that
Flask-Migrate wrote, edited or not), so the lock, the run log, the step
reports and the failure report never depend on what ``env.py`` says.
What the run found comes back as a :class:`~flask_schema.run.request.RunResult`.
"""

from __future__ import annotations

from .request import DatabaseResult, RunRequest, RunResult, StepReport

__all__ = ["DatabaseResult", "RunRequest", "RunResult", "StepReport"]
