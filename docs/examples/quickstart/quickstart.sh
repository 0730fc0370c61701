export FLASK_APP=app.py
flask db init                           # once: creates migrations/
flask db migrate -m "create user table" # writes migrations/versions/..._create_user_table.py
flask db upgrade                        # runs it: the user table now exists
flask db current                        # shows the revision the database is at
