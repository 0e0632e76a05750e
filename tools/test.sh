#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine, then runs pytest.
# Usage: bash tools/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/setup-common.sh
# Qt, a virtual screen and xdotool for GUI tests, a real Secret Service for the keyring tests,
# strace and unshare for the offline proof, desktop-file-validate for the desktop entry.
install_debian_packages "${QT_PACKAGES[@]}" xvfb xdotool dbus dbus-x11 gnome-keyring strace util-linux \
  desktop-file-utils
# The tools extra lets the local-conversion tests build the demo model's checkpoint with the real
# model builder. torch is pinned to the CPU build this machine keeps on disk (pip's find-links):
# an unpinned torch would pull a CUDA build of several GB.
install_ponder "[test,tools]" "torch==2.13.0"
export PONDER_TEST_TOOLS=1
# The remote-engine tests run against llama.cpp's own server: llama-cpp-python[server] compiles it
# (about 6 minutes on 2 cores the first time; pip keeps the wheel), and the demo model is converted
# to GGUF with llama.cpp's converter. PONDER_TEST_PEER=1 makes a missing peer a failure.
install_debian_packages build-essential cmake
bash tools/remote_peer.sh .venv/bin/python
export PONDER_TEST_PEER=1

# Lint and type-check first (configuration in pyproject.toml): quick, and a failure there is
# cheaper to read than a failing test.
.venv/bin/python -m ruff check
.venv/bin/python -m mypy

# The Secret Service runs on a private D-Bus and keeps its files in a fresh folder, so an old
# login keyring with another password can never leave the collection locked.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export keyring_home
dbus-run-session -- bash -c '
  printf "ponder-test" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true
  export PONDER_TEST_PRIVATE_KEYRING=1  # tests/private_keyring.py: this bus is already private
  exec .venv/bin/python -m pytest "$@"
' pytest "$@"
