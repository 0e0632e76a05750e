# Sourced by tools/run.sh and tools/test.sh: the set-up both need on a fresh Debian/Ubuntu machine.

# What Qt needs to start (offscreen and on X11).
QT_PACKAGES=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
             libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
             libxcb-render-util0 libxcb-image0)

# Installs the Debian packages given that are missing (with sudo when not root).
install_debian_packages() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Creates .venv if needed and installs Ponder into it, editable, with the extras given ("" or
# "[test]"); any further arguments are more requirements for the same pip run.
install_ponder() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$1" "${@:2}"
}
