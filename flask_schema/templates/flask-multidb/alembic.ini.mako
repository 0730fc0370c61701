# Alembic settings for a Flask app managed by flask_schema.
# The database URLs come from SQLALCHEMY_DATABASE_URI and SQLALCHEMY_BINDS, not from here.

[alembic]
# how revision file names are built
# file_template = %%(rev)s_%%(slug)s

# set to 'true' to run env.py during 'revision' even without --autogenerate
# revision_environment = false


# Logging of the flask db commands.
[loggers]
keys = root,sqlalchemy,alembic,flask_schema

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[logger_flask_schema]
level = INFO
handlers =
qualname = flask_schema

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
