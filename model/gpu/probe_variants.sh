#!/usr/bin/env bash
# On the GPU machine: each variant's training speed and peak GPU memory, one after the other
# (train.py --probe: 20 steps of 32 x 2,048 random tokens, nothing saved), to plan side-by-side
# runs (their memory must fit the GPU together). No corpus needed.
#   bash model/gpu/probe_variants.sh "name|train.py args" ...
set -uo pipefail
cd "$(dirname "$0")/.."
for spec in "$@"; do
  IFS='|' read -r name args <<< "$spec"
  echo "== $name: $args"
  timeout 150 python3 train.py $args --probe 20 2>&1 | grep -E "parameters|PROBE|Error" | tail -3
done
