pip install flask-schema  # Flask-Migrate can stay installed or go
