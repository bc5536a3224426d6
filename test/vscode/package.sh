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
cat >> "$IGN" <<EOT
!models/$MODEL/manifest.json
!models/$MODEL/model.onnx
!models/$MODEL/model.onnx.data
!models/$MODEL/tokenizer.json
!models/$MODEL/MODEL_CARD.md
EOT
echo "[package] default model: models/$MODEL"
node "$C/vsce/node_modules/@vscode/vsce/vsce" package --target linux-x64 --ignoreFile "$IGN" \
  --allow-missing-repository --skip-license --allow-star-activation --no-rewrite-relative-links -o "$OUT" 2>&1 | grep -v '^npm warn'
rm -f "$IGN"
node "$C/vsce/node_modules/@vscode/vsce/vsce" ls --ignoreFile .vscodeignore >/dev/null 2>&1 || true
SIZE=$(stat -c %s "$OUT")
echo "[package] $OUT $(awk "BEGIN{printf \"%.1f\", $SIZE/1048576}") MiB"
