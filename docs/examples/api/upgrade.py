"""Upgrade from Python instead of the command line, e.g. in a deploy script."""

from blog import create_app

import flask_schema

app = create_app()
with app.app_context():
    heads = flask_schema.upgrade()  # a FlaskSchemaError subclass if it fails
print(heads)  # the revisions each database is now at, by bind key
