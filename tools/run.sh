#!/usr/bin/env bash
# Installs Ponder into .venv on a fresh Debian/Ubuntu machine and starts it.
# Usage: bash tools/run.sh [ponder args...]   (with no downloaded model it runs on the demo model)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup-common.sh
install_debian_packages "${QT_PACKAGES[@]}"
install_ponder ""
exec .venv/bin/ponder "$@"
