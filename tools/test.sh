#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine, then runs pytest.
# Usage: bash tools/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt (offscreen and xcb), a virtual screen for screenshots, and a real Secret Service for keyring tests.
packages=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
          libxcb-render-util0 libxcb-image0 xvfb xdotool dbus dbus-x11 gnome-keyring strace util-linux
          desktop-file-utils)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

# A real Secret Service runs on a private D-Bus for the history's keyring tests. The keyring daemon keeps its files in a fresh folder, so an old login keyring with another
# password can never leave the collection locked.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export keyring_home
dbus-run-session -- bash -c '
  printf "ponder-test" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true
  exec .venv/bin/python -m pytest "$@"
' pytest "$@"
