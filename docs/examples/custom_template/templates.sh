export FLASK_APP=app.py
flask db list-templates                   # the built-in ones: flask, flask-multidb
flask db init -t ./company                # a path instead of a name: your own folder
flask db migrate -m "create user table"   # revision written from company/script.py.mako
flask db upgrade
