# Sourced by the other scripts: make .venv and install the project into it.
# Reinstalls only when setup.cfg changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.flask-schema-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/setup.cfg" -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # A venv made before the rename to flask-schema-migrate holds the old name too.
    "$VENV/bin/python" -m pip uninstall --quiet --yes flask-schema 2>/dev/null || true
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test,docs]"
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
