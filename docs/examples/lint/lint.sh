export FLASK_APP=app.py
flask db lint --backend postgresql   # checks the revisions not applied yet
