#!/usr/bin/env bash
# On the GPU machine, from model/: the corpus carried to /tmp/corpus as token arrays in /tmp/data,
# once (a second call finds them and returns); log in /tmp/runs/data.log. Used by train_all.sh and launch.sh.
set -euo pipefail
[ -f /tmp/data/train.tokens.npy ] && exit 0
mkdir -p /tmp/runs
exec python3 data.py --tokenizer assets/tokenizer.json --out /tmp/data /tmp/corpus/train-*.jsonl.xz /tmp/corpus/val.jsonl.xz \
  > /tmp/runs/data.log 2>&1
