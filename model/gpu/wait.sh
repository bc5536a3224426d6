#!/usr/bin/env bash
# On the GPU machine: wait until the runs launch.sh started have ended (at most MAX seconds,
# default 570, under one device call's 600 s), printing each run's last log line every minute.
# The machine is given back when no call runs for ~30 s, so a session polls with this, call after
# call. The pattern is anchored: the call's own command line (bash -c "... train.py ...") must
# not count as a run (the interpreter may be any path: pyenv shims resolve to one).
#   bash model/gpu/wait.sh [MAX]
shopt -s nullglob
MAX=${1:-570}
start=$SECONDS
while pgrep -f '^[^ ]*python[0-9.]* train[.]py' > /dev/null; do
  if (( SECONDS - start >= MAX )); then echo "still training after ${MAX}s"; exit 3; fi
  sleep 5
  if (( (SECONDS - start) % 60 < 5 )); then
    for log in /tmp/runs/*/train.log; do echo "$(basename "$(dirname "$log")"): $(tail -n 1 "$log")"; done
  fi
done
echo "no run left after $((SECONDS - start))s"
for log in /tmp/runs/*/train.log; do echo "$(basename "$(dirname "$log")"): $(tail -n 1 "$log")"; done
