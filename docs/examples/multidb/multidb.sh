export FLASK_APP=app.py
flask db init --multidb                 # the multi-database template
flask db migrate -m "users and events"  # one revision, a section per database
flask db upgrade                        # upgrades both databases
flask db current                        # one line per database
