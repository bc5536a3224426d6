#!/usr/bin/env bash
# The project's tests, all of them (this is `npm test`): the model's Python tests (PyTorch on
# CPU), the engine's mocha tests, and the extension's tests inside a real VS Code (code-server).
# Installs what is missing first (Debian packages as root, node modules), so it works on a fresh machine.
set -uo pipefail
cd "$(dirname "$0")/.."
need_apt=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need_apt+=(python3-torch)
/usr/bin/python3 -c "import onnx" 2>/dev/null || need_apt+=(python3-onnx)
/usr/bin/python3 -c "import pytest" 2>/dev/null || need_apt+=(python3-pytest)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (apt)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/dev/null || { echo "apt-get install ${need_apt[*]} failed"; exit 1; }
fi
[ -d node_modules/onnxruntime-node ] || npm ci --no-audit --no-fund || exit 1

failed=0
total_pass=0; total_fail=0
count() {  # adds a suite's "N passed, M failed" line to the totals
  local line; line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  [ -n "$line" ] || return
  total_pass=$((total_pass + ${line%% passed*})); local f=${line#*passed, }; total_fail=$((total_fail + ${f%% failed*}))
}
log=$(mktemp -d)

echo "== model (python, $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'))"
/usr/bin/python3 -m pytest model -q -p no:cacheprovider 2>&1 | tee "$log/py"; rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || failed=1
p=$(grep -Eo '[0-9]+ passed' "$log/py" | tail -1 | grep -Eo '[0-9]+'); f=$(grep -Eo '[0-9]+ failed' "$log/py" | tail -1 | grep -Eo '[0-9]+')
total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))

echo "== engine (mocha)"
npm run -s test:engine 2>&1 | tee "$log/engine"; [ "${PIPESTATUS[0]}" = 0 ] || failed=1
count "$log/engine"

if [ -f test/vscode/run.sh ] && [ "${FLOWSTATE_SKIP_VSCODE:-0}" != 1 ]; then
  echo "== extension (real VS Code: code-server + chromium)"
  bash test/vscode/run.sh 2>&1 | tee "$log/vscode"; [ "${PIPESTATUS[0]}" = 0 ] || failed=1
  count "$log/vscode"
fi

echo
echo "all suites: $total_pass passed, $total_fail failed"
[ "$failed" = 0 ] && [ "$total_fail" = 0 ]
