#!/usr/bin/env bash
# The benchmark on the GPU machine (no Node.js there): uses the node binary and the
# onnxruntime-node 1.29.0 + CUDA provider unpacked by ../shared/gpu/pack-ort-cuda.sh into
# GPU_DIR (default /tmp/gpu; see ../shared/gpu/README.md). Needs out/ (npm run build or
# tsc -p . here first) and node_modules/@huggingface/tokenizers in the repo copy (and
# node_modules/typescript/lib/typescript.js for the minified-file rows; without it they are left out).
#   bash bench/gpu.sh [extra bench options, e.g. --json $OUT/bench-gpu.json]
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DIR=${GPU_DIR:-/tmp/gpu}
[ -x "$GPU_DIR/node" ] || { echo "no $GPU_DIR/node: unpack pack-ort-cuda.sh's parts there first (../shared/gpu/README.md)"; exit 1; }
[ -f out/bench/engine.js ] || { echo "out/bench/engine.js missing: build with tsc -p . before copying the repo"; exit 1; }
. "$GPU_DIR/env.sh"
# the repo's own onnxruntime-node has no CUDA provider: resolve the unpacked one (same version) instead
if [ ! -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so ]; then
  export NODE_PATH="$GPU_DIR/node_modules${NODE_PATH:+:$NODE_PATH}"
  [ -d node_modules/onnxruntime-node ] && echo "note: node_modules/onnxruntime-node has no CUDA provider; --cuda-lib-dir $GPU_DIR links it in"
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
exec "$GPU_DIR/node" out/bench/engine.js --provider cuda --cuda-lib-dir "$GPU_DIR" --threads "$(nproc)" "$@"
