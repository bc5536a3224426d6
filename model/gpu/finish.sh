#!/usr/bin/env bash
# On the GPU machine, after train_all.sh: the evaluation (one process per model, spread over the
# GPUs, then one table), loss plot and logs in $OUT/results.tar.xz, and the float16 weights of
# the models to ship (SHIP="name ...", else the Flowformer and the better delta-rule run) as
# NAME.weights.pt in one tar split under 16 MiB (a call brings back at most 8 files: four models'
# weights fit in 6): $OUT/weights.tar.NN; here: cat weights.tar.* | tar x
#   [SHIP="a b"] bash model/gpu/finish.sh [evaluate.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
NGPU=$(nvidia-smi -L | wc -l)
mkdir -p $OUT /tmp/eval && rm -rf /tmp/ship
i=0
for r in /tmp/runs/*/; do
  n=$(basename $r); [ -f $r/ckpt.pt ] || continue
  CUDA_VISIBLE_DEVICES=$((i % NGPU)) python3 evaluate.py --data /tmp/data --out /tmp/eval/$n.md "$@" "$n=$r/ckpt.pt" \
    > /tmp/eval/$n.log 2>&1 &
  i=$((i + 1))
done
wait || true
python3 evaluate.py --merge /tmp/eval/*.json --out /tmp/eval/eval.md
python3 plot_loss.py --out /tmp/eval/loss.svg /tmp/runs/*/loss.csv || true
# the delta-rule variant to ship (when SHIP does not say): the better of the two by long-file bits per byte
best_delta=$(python3 -c "
import json; rows = {r['model']: r for f in ['deltanet', 'deltanet-dpfp'] for r in json.load(open(f'/tmp/eval/{f}.json'))}
print(min(rows, key=lambda n: rows[n]['val_long_bpb']))" 2>/dev/null || echo deltanet)
echo "delta-rule model to ship: $best_delta"
for n in ${SHIP:-flowformer $best_delta}; do
  python3 - "$n" <<'PY'
import sys, torch
n = sys.argv[1]
ck = torch.load(f"/tmp/runs/{n}/ckpt.pt", map_location="cpu")
torch.save({"config": ck["config"], "training": ck["training"], "model": {k: v.half() for k, v in ck["model"].items()}},
           f"/tmp/runs/{n}/weights.pt")
PY
  mkdir -p /tmp/ship && mv /tmp/runs/$n/weights.pt /tmp/ship/$n.weights.pt
done
tar cf - -C /tmp/ship . | split -b 15M -d - $OUT/weights.tar.
tar cf - -C /tmp eval $(cd /tmp && ls -d runs/*/loss.csv runs/*/train.log runs/*.log) | xz -9 > $OUT/results.tar.xz
ls -la $OUT
