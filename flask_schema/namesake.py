"""Notice the unrelated ``flask-schema`` distribution, which shares our import name.

``pip install flask-schema`` installs a 2015 JSON-validation project whose one
module is a top-level ``flask_schema.py``. Installed beside this package in the
same folder it is hidden (a package wins over a module of the same name), but
in an earlier ``sys.path`` entry it replaces this package, and then the app's
``from flask_schema import Migrate`` fails before any of our code runs. So
``flask db`` says once, in one line, when that distribution is installed.
"""

from __future__ import annotations

from importlib import metadata

#: The distribution this package is published as.
DISTRIBUTION = "flask-schema-migrate"

#: The unrelated distribution that ships a ``flask_schema`` module of its own.
NAMESAKE = "flask-schema"


def namesake_notice() -> str | None:
    """One line about the unrelated ``flask-schema``, or ``None`` when it is not installed.

    Our own releases before the rename were also called ``flask-schema``; those
    ship a ``flask_schema`` package, not the single ``flask_schema.py``, so they
    are told apart by the files the distribution lists.
    """
    try:
        found = metadata.distribution(NAMESAKE)
    except metadata.PackageNotFoundError:
        return None
    files = {str(path) for path in found.files or ()}
    if "flask_schema.py" not in files:
        return None
    return (
        f"The unrelated package {NAMESAKE} {found.version} is installed too and ships its own "
        f"flask_schema module, which can hide this one; remove it with 'pip uninstall {NAMESAKE}'."
    )
