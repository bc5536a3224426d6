#!/usr/bin/env bash
# On the GPU machine: tokenise the corpus carried to /tmp/corpus, time every model of the
# evaluation for a few steps, give them all the same token budget (what the slowest reaches in
# MINUTES), and train them in the background, spread over the GPUs (one process per model).
#   bash model/gpu/train_all.sh MINUTES
set -euo pipefail
MINUTES=${1:-16}
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
NGPU=$(nvidia-smi -L | wc -l)
SIZE="--d-model 256 --layers 8 --heads 8"
LOCAL="--local-layers 2,5 --window 64"
# name | slot | arguments (slot modulo the GPU count picks the GPU)
RUNS=(
  "flowformer|0|--arch flowformer $LOCAL"
  "deltanet|1|--arch deltanet --delta-feature silu_l2 $LOCAL"
  "transformer|2|--arch transformer"
  "fastformer|2|--arch fastformer"
  "deltanet-dpfp|3|--arch deltanet --delta-feature dpfp --dpfp-nu 1 $LOCAL"
  "flowformer-pure|3|--arch flowformer"
)
mkdir -p /tmp/runs
bash gpu/tokenise.sh &
data_pid=$!
for r in "${RUNS[@]}"; do          # probes run side by side, as the real runs will
  IFS='|' read -r name slot args <<< "$r"
  CUDA_VISIBLE_DEVICES=$((slot % NGPU)) python3 train.py $SIZE $args --probe 12 > /tmp/runs/probe-$name.log 2>&1 &
done
wait $(jobs -p | grep -v "^${data_pid:-x}$") || true
grep -H PROBE /tmp/runs/probe-*.log
slowest=$(cat /tmp/runs/probe-*.log | awk '/PROBE/{print $2}' | sort -n | head -1)
TOKENS=$(python3 -c "print(int($slowest * $MINUTES * 60 * 0.93))")
echo "slowest $slowest tokens/s: every model trains on $TOKENS tokens"
[ -z "${data_pid:-}" ] || wait $data_pid
for r in "${RUNS[@]}"; do
  IFS='|' read -r name slot args <<< "$r"
  mkdir -p /tmp/runs/$name
  CUDA_VISIBLE_DEVICES=$((slot % NGPU)) setsid nohup python3 train.py $SIZE $args --data /tmp/data \
    --tokens $TOKENS --minutes $((MINUTES + 2)) --out /tmp/runs/$name --resume /tmp/runs/$name/ckpt.pt \
    > /tmp/runs/$name/train.log 2>&1 < /dev/null &
done
sleep 30
tail -n 2 /tmp/runs/*/train.log
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv
