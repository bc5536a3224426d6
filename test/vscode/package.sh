#!/usr/bin/env bash
# Builds the platform-specific vsix: production bundle (esbuild.js), then pinned @vscode/vsce
# with --target linux-x64. The default model goes in: models/flowformer when it exists, else
# models/tiny-flowformer. Prints the vsix path and size on its last line.
#   test/vscode/package.sh [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
C=$(bash test/vscode/install.sh | tail -1)
OUT=${2:-}
[ "${1:-}" = "--out" ] || OUT=""
VERSION=$(node -p "require('./package.json').version")
OUT=${OUT:-$C/flowstate-linux-x64-$VERSION.vsix}
node esbuild.js --production
if [ -f models/flowformer/manifest.json ]; then MODEL=flowformer; else MODEL=tiny-flowformer; fi
IGN=$(mktemp)
cp .vscodeignore "$IGN"
# Every file the manifest names (graph, CPU graph, tokenizer, external weights) goes in, so a
# file added to the contract is never left out of the vsix.
MODEL_FILES=$(node -e '
  const m = require("./models/" + process.argv[1] + "/manifest.json");
  const names = new Set(["manifest.json", "MODEL_CARD.md", ...Object.values(m.files || {}).filter((v) => typeof v === "string")]);
  for (const n of [...names]) names.add(n + ".data");
  console.log([...names].join("\n"));' "$MODEL")
for f in $MODEL_FILES; do echo "!models/$MODEL/$f" >> "$IGN"; done
echo "[package] default model: models/$MODEL"
node "$C/vsce/node_modules/@vscode/vsce/vsce" package --target linux-x64 --ignoreFile "$IGN" \
  --allow-missing-repository --skip-license --allow-star-activation --no-rewrite-relative-links -o "$OUT" 2>&1 | grep -v '^npm warn'
rm -f "$IGN"
node "$C/vsce/node_modules/@vscode/vsce/vsce" ls --ignoreFile .vscodeignore >/dev/null 2>&1 || true
# A vsix without a file the manifest names installs but cannot load its model: refuse it here.
LISTING=$(python3 -m zipfile -l "$OUT")
for f in $MODEL_FILES; do
  case $f in *.data) [ -f "models/$MODEL/$f" ] || continue;; esac   # external weights, where the model has them
  grep -q "extension/models/$MODEL/$f " <<<"$LISTING" || { echo "[package] the vsix lacks models/$MODEL/$f" >&2; exit 1; }
done
SIZE=$(stat -c %s "$OUT")
echo "[package] $OUT $(awk "BEGIN{printf \"%.1f\", $SIZE/1048576}") MiB"
