#!/usr/bin/env bash
# The frozen bundle's size and its start to a visible window, as bench/RESULTS.md reports them.
# Usage: bash bench/bundle_start.sh [--cold] [RUNS] [-- COMMAND...]
#   (needs dist/ponder from installer/build.sh, Xvfb, xdotool; COMMAND defaults to the bundle)
# Each run: a fresh HOME (first start: no settings, no history), a private Xvfb screen, the time
# from exec to the first mapped window titled "Ponder" (xdotool search --sync --onlyvisible).
# --cold drops the page cache before each run (root only): the first start after a reboot.
set -euo pipefail
cd "$(dirname "$0")/.."
cold=0
[ "${1:-}" = "--cold" ] && { cold=1; shift; }
runs=${1:-5}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
command=("$@")
if [ ${#command[@]} -eq 0 ]; then
  command=(dist/ponder/ponder)
  [ -x dist/ponder/ponder ] || { echo "no dist/ponder: run installer/build.sh first" >&2; exit 2; }
fi

if [ -d dist/ponder ]; then
  echo "bundle: $(du -sh dist/ponder | cut -f1) on disk, $(find dist/ponder -type f | wc -l) files"
  echo "largest parts:"; du -sh dist/ponder/_internal/* | sort -h | tail -6 | sed 's/^/  /'
fi
echo "command: ${command[*]}$([ $cold -eq 1 ] && echo ' (page cache dropped before each run)')"

disp=:$(( 500 + RANDOM % 300 ))
Xvfb "$disp" -screen 0 1280x900x24 >/dev/null 2>&1 & xpid=$!
app=
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xpid" 2>/dev/null; rm -rf "${home:-}"; }
trap cleanup EXIT
for _ in $(seq 50); do DISPLAY=$disp xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

times=()
for run in $(seq "$runs"); do
  home=$(mktemp -d)
  [ $cold -eq 1 ] && { sync; echo 3 > /proc/sys/vm/drop_caches; }
  start=$(date +%s.%N)
  env -i HOME="$home" PATH=/usr/bin:/bin DISPLAY="$disp" QT_QPA_PLATFORM=xcb "${command[@]}" >/dev/null 2>&1 & app=$!
  DISPLAY=$disp timeout 120 xdotool search --sync --onlyvisible --name '^Ponder$' >/dev/null
  end=$(date +%s.%N)
  kill "$app"; wait "$app" 2>/dev/null || true; app=
  rm -rf "$home"
  times+=("$(echo "$end - $start" | bc)")
  echo "run $run: ${times[-1]} s to a visible window"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median of %d: %.2f s (min %.2f, max %.2f)\n", NR, a[int((NR+1)/2)], a[1], a[NR]}'
