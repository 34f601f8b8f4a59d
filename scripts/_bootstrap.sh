# Sourced by scripts/demo and scripts/test: a project-local virtual environment with the pinned,
# hash-checked dependencies. Re-installs only when the lock file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
LOCK="requirements/${1:-lock}.txt"
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "Space Between needs Python 3.11; set PYTHON=/path/to/python3.11 and run this again." >&2
    exit 1
  fi
  "$PYTHON" -m venv .venv
fi
if command -v sha256sum >/dev/null 2>&1; then
  _sha256() { sha256sum "$@"; }
else  # macOS
  _sha256() { shasum -a 256 "$@"; }
fi
STAMP=".venv/.installed-$(basename "$LOCK" .txt)"
WANT="$(_sha256 "$LOCK" pyproject.toml | _sha256 | cut -c1-64)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installing the pinned dependencies ($LOCK) into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$LOCK"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
