# Written by `flask db init -t ./company`; the URL comes from the Flask app.
[alembic]
file_template = %%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s
