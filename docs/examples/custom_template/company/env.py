from flask_schema.runtime import run_env

run_env()
