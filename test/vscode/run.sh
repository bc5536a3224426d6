#!/usr/bin/env bash
# The extension's tests in a real VS Code (code-server from npm + Debian's Chromium), offline.
# Installs what is missing (pinned: test/vscode/install.sh), builds, then
#   1. the mocha suites inside code-server's extension host (test/vscode/suite, the repo as the
#      extension under development, the tiny model);
#   2. the UI run: packages the vsix, installs it into a fresh code-server, drives the workbench,
#      takes screenshots (.vscode-test/screenshots/ui) and measures keystroke-to-ghost-text.
# Exit code: 0 when everything passed. Last line: `N passed, N failed` (both parts together).
#   bash test/vscode/run.sh [--suites-only | --ui-only] [--mock]
set -uo pipefail
cd "$(dirname "$0")/../.."
suites=1; ui=1; extra=()
for a in "$@"; do
  case "$a" in
    --suites-only) ui=0 ;;
    --ui-only) suites=0 ;;
    --mock) extra+=(--mock) ;;
    *) echo "unknown option $a"; exit 2 ;;
  esac
done
C=$(bash test/vscode/install.sh | tail -1) || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }
[ -d node_modules/onnxruntime-node ] || npm ci --no-audit --no-fund >/dev/null || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
node esbuild.js --tests || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

pass=0; fail=0; rc=0
tally() { local line; line=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  [ -n "$line" ] || { fail=$((fail + 1)); return; }
  pass=$((pass + ${line%% passed*})); local f=${line#*passed, }; fail=$((fail + ${f%% failed*})); }
log=$(mktemp -d)
if [ $suites = 1 ]; then
  echo "== suites in code-server's extension host"
  node test/vscode/runTests.js "${extra[@]}" 2>&1 | tee "$log/suites"; [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  tally "$log/suites"
fi
if [ $ui = 1 ]; then
  echo "== UI run with the packaged vsix"
  vsix=$(bash test/vscode/package.sh | tee "$log/package" | tail -1 | awk '{print $2}')
  grep -E 'DONE|ERROR|default model' "$log/package"
  if [ -f "$vsix" ]; then
    node test/vscode/ui.js --vsix "$vsix" 2>&1 | tee "$log/ui"; [ "${PIPESTATUS[0]}" = 0 ] || rc=1
    tally "$log/ui"
  else
    echo "packaging failed"; cat "$log/package"; rc=1; fail=$((fail + 1))
  fi
fi
rm -rf "$log"
echo
echo "$pass passed, $fail failed"
[ $rc = 0 ] && [ $fail = 0 ]
