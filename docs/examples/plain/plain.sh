export FLASK_APP=app.py
flask db init --multidb                  # one history, a version table per database
flask db migrate -m "person and views"   # a section per database
flask db upgrade --database default      # one database only
flask db status                          # stats still pending
flask db upgrade                         # the rest
flask db current                         # one line per database
