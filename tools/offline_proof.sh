#!/usr/bin/env bash
# The offline proof: the frozen Ponder, started the way a user starts it, makes no network
# connection. Runs `ponder --self-test` and a scripted GUI session (app/scenarios/offline_proof.py,
# ~100 s: onnxruntime's telemetry uploader first tries the network after 90-100 s) in a network
# namespace under strace, then fails on any AF_INET/AF_INET6 socket, connect, sendto or sendmsg,
# and on the onnxruntime telemetry folder appearing under the temporary HOME. Then the local API:
# `ponder serve` in the namespace (loopback brought up), real requests to it over loopback
# (tools/offline_proof_serve.py), and the same check except for the server's own listening socket
# on loopback and the loopback connections it accepted (tools/offline_proof_log.py says exactly).
#
# Usage: bash tools/offline_proof.sh [--build] [--bundle PATH] [--seconds N] [--keep]
#        bash tools/offline_proof.sh --check-log STRACE_LOG [--loopback-server]   (only the analysis)
#   --build      rebuild the bundle first (installer/build.sh); otherwise built only if missing
#   --bundle     the executable to prove (default dist/ponder/ponder)
#   --seconds    length of the GUI session (default 100)
#   --keep       keep the work folder (logs, HOME) and print where it is
#   --model M    model for both runs (default: the bundled demo model)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bundle=dist/ponder/ponder
seconds=100
build=0
keep=0
model_args=()

# onnxruntime and onnxruntime-genai silently switch telemetry off when any of these is set (read
# from their binaries), which would hide the bug in CI. The runs below start from an empty
# environment (env -i), so none can leak in; the list is checked anyway.
CI_VARIABLES=(CI TF_BUILD GITHUB_ACTIONS GITLAB_CI CIRCLECI TRAVIS JENKINS_URL CODEBUILD_BUILD_ID
              BUILDKITE TEAMCITY_VERSION APPVEYOR BITBUCKET_BUILD_NUMBER
              SYSTEM_TEAMFOUNDATIONCOLLECTIONURI)
TELEMETRY_DIR=.cache/Microsoft/DeveloperTools/.onnxruntime

# The log analysis and the API session are Python (standard library only), run by the
# interpreter given as PYTHON or the python3 on PATH; resolved to a real path, since the runs
# below start from an empty environment.
python=$(command -v "${PYTHON:-python3}" || true)
[ -n "$python" ] && python=$("$python" -c 'import sys; print(sys.executable)')
[ -n "$python" ] || { echo "offline proof: python3 is missing" >&2; exit 2; }

check_log() {  # check_log LOG NAME [--loopback-server] -> 0 when the log holds no internet traffic
  local verdict rc=0
  verdict=$("$python" tools/offline_proof_log.py "$1" "${@:3}") || rc=$?
  if [ $rc -eq 0 ]; then echo "PASS  $2: $verdict"; else echo "FAIL  $2: $verdict"; fi
  return $rc
}

while [ $# -gt 0 ]; do
  case $1 in
    --build) build=1 ;;
    --bundle) bundle=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --keep) keep=1 ;;
    --model) model_args=(--model "$2"); shift ;;
    --check-log) check_log "$2" "$2" "${@:3}"; exit $? ;;
    *) echo "unknown option: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

for tool in strace unshare; do
  command -v $tool >/dev/null || { echo "offline proof: $tool is missing (apt-get install strace util-linux)" >&2; exit 2; }
done
if [ $build -eq 1 ] || [ ! -x "$bundle" ]; then
  bash installer/build.sh
fi
bundle=$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")

work=$(mktemp -d -t ponder-offline-proof.XXXXXX)
if [ $keep -eq 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/home" "$work/run"
chmod 700 "$work/run"

# A private network namespace: nothing can leave even if the app tried. Unprivileged where the
# kernel allows user namespaces; otherwise through sudo; as a last resort strace alone (it sees
# every attempt either way, the namespace only stops them).
if unshare -rn true 2>/dev/null; then
  isolate=(unshare -rn)
elif sudo -n unshare -n true 2>/dev/null; then
  isolate=(sudo -n unshare -n)
else
  echo "warning: no network namespace available here; relying on strace alone" >&2
  isolate=()
fi
clean_env=(env -i "HOME=$work/home" "PATH=/usr/bin:/bin" "LANG=C.UTF-8" "XDG_RUNTIME_DIR=$work/run"
           "QT_QPA_PLATFORM=offscreen" "PONDER_SESSION_SECONDS=$seconds")

traced() {  # traced NAME ARGS... : run the bundle isolated and traced; prints its exit code
  local name=$1; shift
  local rc=0
  "${isolate[@]}" "${clean_env[@]}" strace -f -qq -e trace=%network -o "$work/$name.strace" \
    "$bundle" "${model_args[@]}" "$@" > "$work/$name.out" 2>&1 || rc=$?
  echo $rc
}

status=0
echo "Offline proof of $bundle (HOME=$work/home, isolation: ${isolate[*]:-none})"
for var in "${CI_VARIABLES[@]}"; do
  if "${clean_env[@]}" sh -c "[ -n \"\${$var+x}\" ]"; then echo "FAIL  $var is set in the app's environment"; status=1; fi
done

rc=$(traced selftest --self-test)
sed 's/^/        /' "$work/selftest.out"
if [ "$rc" -eq 0 ]; then echo "PASS  self-test exited 0"; else echo "FAIL  self-test exited $rc"; status=1; fi
check_log "$work/selftest.strace" "self-test" || status=1

echo "GUI session: ${seconds} s, offscreen (scenario offline-proof)"
rc=$(traced session --run-scenario offline-proof)
sed 's/^/        /' "$work/session.out"
if [ "$rc" -eq 0 ]; then echo "PASS  GUI session exited 0"; else echo "FAIL  GUI session exited $rc"; status=1; fi
check_log "$work/session.strace" "GUI session" || status=1

echo "Local API: ponder serve in the namespace, requests over loopback"
rc=0
"${isolate[@]}" "${clean_env[@]}" "$python" "$root/tools/offline_proof_serve.py" --bundle "$bundle" \
  --log "$work/serve.strace" --out "$work/serve.out" ${model_args[1]:+--model "${model_args[1]}"} \
  > "$work/serve.steps" 2>&1 || rc=$?
sed 's/^/        /' "$work/serve.out" 2>/dev/null || true
sed 's/^/  /' "$work/serve.steps"
if [ "$rc" -eq 0 ]; then echo "PASS  local API session"; else echo "FAIL  local API session (exit $rc)"; status=1; fi
if [ -s "$work/serve.strace" ]; then
  check_log "$work/serve.strace" "ponder serve" --loopback-server || status=1
else
  echo "FAIL  ponder serve: no strace log"; status=1
fi

if [ -e "$work/home/$TELEMETRY_DIR" ]; then
  echo "FAIL  onnxruntime telemetry folder created: ~/$TELEMETRY_DIR"
  ls -la "$work/home/$TELEMETRY_DIR" | sed 's/^/        /'
  status=1
else
  echo "PASS  no onnxruntime telemetry folder under the temporary HOME"
fi

if [ $status -eq 0 ]; then echo "Offline proof PASSED"; else echo "Offline proof FAILED"; fi
exit $status
