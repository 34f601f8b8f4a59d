# Sourced by scripts/demo and scripts/test: a project-local virtual environment with the pinned,
# hash-checked dependencies. Re-installs only when the lock file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
LOCK="requirements/${1:-lock}.txt"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.installed-$(basename "$LOCK" .txt)"
WANT="$(sha256sum "$LOCK" pyproject.toml | sha256sum | cut -c1-64)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$LOCK"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
