#!/usr/bin/env bash
# Installs the Python MCP peer into tests/peers/python/.venv. Idempotent: creates the venv with
# python3.11 when it is missing (or is not a working 3.11), and installs requirements.txt only when
# that file is newer than the stamp left by the last successful install. Quiet when up to date.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.stamp"
python="${PYTHON:-python3.11}"

if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  command -v "$python" >/dev/null 2>&1 || { echo "install.sh: $python not found" >&2; exit 1; }
  echo "python peer: creating $venv" >&2
  "$python" -m venv --clear "$venv"
  rm -f "$stamp"
fi

if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ]; then
  echo "python peer: installing $req" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  touch "$stamp"
fi
