"""Migration environment for this project, run by the ``flask db`` commands.

Every database of the app (``SQLALCHEMY_BINDS``, Flask-SQLAlchemy-Lite's
``SQLALCHEMY_ENGINES`` or the ``engines`` given to ``Migrate``) is migrated
with its own version table; the revision files are shared. flask_schema
does the work in ``flask_schema.runtime`` so that fixes reach this project
by upgrading the package. To change how migrations run, pass options to ``Migrate(app, db,
...)`` or register a ``@migrate.configure`` callback instead of editing
this file.
"""

from flask_schema.runtime import run_env

run_env(multidb=True)
