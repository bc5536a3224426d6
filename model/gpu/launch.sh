#!/usr/bin/env bash
# On the GPU machine: tokenise the corpus carried to /tmp/corpus (once), then train the given
# variants side by side, one process each (the n-th on GPU n modulo the GPU count), checkpoints
# every 4 minutes in /tmp/runs/NAME (resumed when there). Start it in the background (setsid):
# the runs outlive the call, so they run from a copy of model/ in /tmp/fs.
#   bash model/gpu/launch.sh MINUTES "name|train.py args" ...
# Then poll with `bash model/gpu/wait.sh` call after call (the machine goes when idle ~30 s).
# TOKENS=N stops each run at N training tokens (the learning rate anneals over them), as for a
# comparison at equal tokens; without it the time budget alone anneals the learning rate.
set -euo pipefail
MINUTES=$1; shift
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf /tmp/fs && mkdir -p /tmp/fs/models /tmp/runs
cp -r "$repo/model" /tmp/fs/ && cp "$repo/models/contract.json" /tmp/fs/models/
cd /tmp/fs/model
export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
NGPU=$(nvidia-smi -L | wc -l)
bash gpu/tokenise.sh
i=0
for spec in "$@"; do
  IFS='|' read -r name args <<< "$spec"
  mkdir -p /tmp/runs/$name
  # without TOKENS, --tokens far beyond reach: the time budget alone anneals the learning rate (train.lr_at)
  CUDA_VISIBLE_DEVICES=$((i % NGPU)) python3 train.py $args --data /tmp/data --tokens ${TOKENS:-1e10} --minutes $MINUTES \
    --out /tmp/runs/$name --resume /tmp/runs/$name/ckpt.pt > /tmp/runs/$name/train.log 2>&1 < /dev/null &
  i=$((i + 1))
done
wait
