#!/usr/bin/env bash
# On the GPU machine (data from train_all.sh in /tmp/data): short A/B runs of training recipes,
# one per GPU, then their mean training loss at common token counts, side by side.
#   bash model/gpu/ab.sh MINUTES TOKENS "name|args" "name|args" ...
# e.g. bash model/gpu/ab.sh 4 5e7 "lr2e-3|--arch flowformer --local-layers 2,5" "lr1e-3|--arch flowformer --local-layers 2,5 --lr 1e-3"
# TOKENS fixes the learning-rate schedule of every variant (set it to what they reach in MINUTES).
set -euo pipefail
MINUTES=$1; TOKENS=$2; shift 2
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
NGPU=$(nvidia-smi -L | wc -l)
i=0; names=()
for spec in "$@"; do
  IFS='|' read -r name args <<< "$spec"
  mkdir -p /tmp/ab/$name; names+=("$name")
  CUDA_VISIBLE_DEVICES=$((i % NGPU)) python3 train.py ${SIZE:---d-model 256 --layers 8 --heads 8} $args --data ${DATA:-/tmp/data} \
    --tokens $TOKENS --minutes $MINUTES --save-minutes 1e9 --out /tmp/ab/$name > /tmp/ab/$name/train.log 2>&1 &
  i=$((i + 1))
done
wait || true
python3 - "${names[@]}" <<'PY'
import csv, sys
runs = {n: list(csv.DictReader(open(f"/tmp/ab/{n}/loss.csv"))) for n in sys.argv[1:]}
def at(rows, tokens, k=5):   # mean loss of the k logged points nearest below `tokens`
    below = [float(r["loss"]) for r in rows if int(r["tokens"]) <= tokens][-k:]
    return sum(below) / len(below) if below else float("nan")
reach = min(int(rows[-1]["tokens"]) for rows in runs.values())
marks = [int(reach * f) for f in (0.25, 0.5, 0.75, 1.0)]
print("| variant | tokens/s | " + " | ".join(f"loss @{m / 1e6:.0f}M" for m in marks) + " |")
print("|---|---|" + "---|" * len(marks))
for n, rows in runs.items():
    rate = float(rows[-1]["tokens"]) / float(rows[-1]["elapsed_s"])
    print(f"| {n} | {rate / 1e3:.0f}k | " + " | ".join(f"{at(rows, m):.3f}" for m in marks) + " |")
PY
