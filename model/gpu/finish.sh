#!/usr/bin/env bash
# On the GPU machine, after train_all.sh: evaluation table, loss plots and the checkpoints of the
# shipped models (weights only, float16, split under 16 MiB) into $OUT.
#   bash model/gpu/finish.sh [--max-files N]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
mkdir -p $OUT
models=()
for r in /tmp/runs/*/; do n=$(basename $r); [ -f $r/ckpt.pt ] && models+=("$n=$r/ckpt.pt"); done
python3 evaluate.py --data /tmp/data --out $OUT/eval.md "$@" "${models[@]}"
python3 plot_loss.py --out $OUT/loss.png /tmp/runs/*/loss.csv
for n in flowformer deltanet deltanet-dpfp; do
  python3 - "$n" <<'PY'
import sys, torch
n = sys.argv[1]
ck = torch.load(f"/tmp/runs/{n}/ckpt.pt", map_location="cpu")
torch.save({"config": ck["config"], "training": ck["training"], "model": {k: v.half() for k, v in ck["model"].items()}},
           f"/tmp/runs/{n}/weights.pt")
PY
done
tar cf - -C /tmp/runs $(cd /tmp/runs && ls -d */loss.csv */train.log) | xz -9 > $OUT/logs.tar.xz
