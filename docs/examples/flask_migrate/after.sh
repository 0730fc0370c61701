export FLASK_APP=app.py
flask db current   # reads the version table Flask-Migrate wrote
flask db check     # the models still match the migrations folder
flask db upgrade   # runs the existing migrations/env.py, unchanged
