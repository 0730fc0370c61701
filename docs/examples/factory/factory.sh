export FLASK_APP=myapp:create_app
flask db init
flask db migrate -m "create user table"
flask db upgrade
