#!/usr/bin/env bash
# Run a bench module (`bash bench/with_keyring.sh bench.gui_blocking ARGS…`) from the repository
# root as the tests run: a private session D-Bus with an unlocked gnome-keyring, so the history
# takes the real keyring path. Needs dbus-run-session and gnome-keyring-daemon.
cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH=$PWD ORT_DISABLE_TELEMETRY=1 QT_QPA_PLATFORM=offscreen
PYTHON=${PYTHON:-python}
keyring_home=$(mktemp -d); export keyring_home PYTHON
trap 'rm -rf "$keyring_home"' EXIT
dbus-run-session -- bash -c '
  printf "ponder-bench" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true
  exec "$PYTHON" -m "$@"
' bench "$@"
