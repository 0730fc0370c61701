export FLASK_APP=app.py
flask db heads                       # two lines: the two heads
flask db merge -m "merge heads"      # a revision whose parents are both
flask db upgrade
