# Continues the quickstart: the project has one revision, not yet applied.
export FLASK_APP=app.py
flask db upgrade --backup       # backs up, then migrates
flask db backups                # lists what --backup wrote
