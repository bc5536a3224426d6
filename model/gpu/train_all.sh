#!/usr/bin/env bash
# On the GPU machine: tokenise the corpus carried to /tmp/corpus, then train every model of the
# evaluation at once on one GPU (each is small; together they fill it), in the background.
#   bash model/gpu/train_all.sh MINUTES
set -euo pipefail
MINUTES=${1:-16}
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
if [ ! -f /tmp/data/train.tokens.npy ]; then
  python3 data.py --tokenizer assets/tokenizer.json --out /tmp/data /tmp/corpus/train-*.jsonl.xz /tmp/corpus/val.jsonl.xz
fi
COMMON="--d-model 256 --layers 8 --heads 8 --data /tmp/data --minutes $MINUTES --tokens 4e8"
launch() {  # name, args...
  local name=$1; shift
  mkdir -p /tmp/runs/$name
  setsid nohup python3 train.py $COMMON --out /tmp/runs/$name --resume /tmp/runs/$name/ckpt.pt "$@" \
    > /tmp/runs/$name/train.log 2>&1 < /dev/null &
}
launch flowformer --arch flowformer
launch deltanet --arch deltanet --delta-feature silu_l2 --batch 4
launch deltanet-dpfp --arch deltanet --delta-feature dpfp --dpfp-nu 1 --batch 4
launch transformer --arch transformer --seq 2048 --batch 32
launch fastformer --arch fastformer --batch 4
sleep 20
tail -n 3 /tmp/runs/*/train.log
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv
