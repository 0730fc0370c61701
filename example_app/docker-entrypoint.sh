#!/bin/sh
# Container entrypoint: bring the databases up to date, then start the app.
#
#   ENTRYPOINT ["/app/docker-entrypoint.sh"]
#   CMD ["gunicorn", "--bind", "0.0.0.0:8000", "blog:create_app()"]
#
# A failed migration stops the container here, before it takes traffic.
# Any arguments replace the default server command (docker run IMAGE flask shell).
set -eu
cd "$(dirname "$0")"
export FLASK_APP="${FLASK_APP:-blog:create_app}"

flask db upgrade

if [ "$#" -eq 0 ]; then
    set -- flask run --host 0.0.0.0 --port "${PORT:-8000}"
fi
exec "$@"
