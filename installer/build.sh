#!/usr/bin/env bash
# Build the one-folder bundle: dist/ponder/ponder (Linux; dist/Ponder.app on macOS).
# Usage: bash installer/build.sh [--clean]      (PYTHON=... to pick the interpreter)
# The build reuses PyInstaller's cache in build/pyinstaller/; --clean starts from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && python=.venv/bin/python

"$python" -m PyInstaller --version >/dev/null 2>&1 || {
  echo "PyInstaller is missing: pip install -e '.[test]'" >&2; exit 1; }
[ -f resources/models/demo/genai_config.json ] || echo "warning: resources/models/demo is missing; the bundle will have no demo model" >&2

"$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath dist --workpath build/pyinstaller "$@" installer/ponder.spec

# A bundle that cannot even parse its command line is not a build.
./dist/ponder/ponder --help >/dev/null
# Record what went in, so the offline-proof test can tell whether dist/ is up to date.
"$python" installer/inputs.py > dist/ponder.inputs
echo "built dist/ponder ($(du -sh dist/ponder | cut -f1)); run: dist/ponder/ponder --self-test"
