"""Sphinx configuration for flask_schema's documentation.

Built by ``scripts/test`` with ``sphinx-build -W``: a warning fails the build.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as package_version

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))

project = "flask_schema"
copyright = "flask_schema contributors"
release = package_version("flask-schema-migrate")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx_click",
    "flask_schema_options",
    "flask_schema_lint_rules",
]

exclude_patterns = ["_build", "examples"]
root_doc = "index"
html_theme = "alabaster"
html_title = f"flask_schema {release}"
html_static_path = ["_static"]
html_css_files = ["wrap.css"]

# "--backup" must print as two hyphens, not an en dash.
smartquotes = False

# The build has no network: each inventory is a small file in _inventories/
# (written by _inventories/make.py), linked to the project's real site.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", os.path.join(HERE, "_inventories", "python.inv")),
    "flask": ("https://flask.palletsprojects.com/en/stable/", os.path.join(HERE, "_inventories", "flask.inv")),
    "sqlalchemy": ("https://docs.sqlalchemy.org/en/20/", os.path.join(HERE, "_inventories", "sqlalchemy.inv")),
    "alembic": ("https://alembic.sqlalchemy.org/en/latest/", os.path.join(HERE, "_inventories", "alembic.inv")),
}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
