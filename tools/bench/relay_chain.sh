#!/usr/bin/env bash
# relay_chain.sh: the bare five-hop relay chain the settlement mesh is measured against
# (ARCHITECTURE.md section 10). Starts five yidi-relay processes on 127.0.0.1, chained
# 1 -> 2 -> 3 -> 4 -> 5 like treatment municipal -> treatment provincial -> national ->
# insured provincial -> insured municipal, runs yidi-load against hop 1 and stops them all.
#
# Usage: relay_chain.sh [--base_port=N] [yidi-load flags...]
#   --base_port=N  (first argument only) hops listen on N..N+4; default 18001..18005.
#   Every other argument goes to yidi-load unchanged; --target is set to hop 1.
#   BUILD_DIR      where the build tree is; default <repository>/build.
# Exit status: yidi-load's (0 when every measured call succeeded), or 1 if the chain fails.
set -euo pipefail

readonly HOP_COUNT=5
# A relay is up in well under a second; ten seconds means it will not come up at all.
readonly READY_TIMEOUT_SECONDS=10
readonly FORWARD_DEADLINE_MS=2000

BUILD_DIR="${BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}"
RELAY="$BUILD_DIR/tools/bench/yidi-relay"
LOAD="$BUILD_DIR/tools/bench/yidi-load"
for binary in "$RELAY" "$LOAD"; do
  if [[ ! -x "$binary" ]]; then
    echo "relay_chain.sh: $binary not built (make yidi-relay yidi-load)" >&2
    exit 1
  fi
done

base_port=18001
if [[ $# -gt 0 && "$1" == --base_port=* ]]; then
  base_port="${1#--base_port=}"
  shift
fi
if ! [[ "$base_port" =~ ^[0-9]+$ ]] ||
    (( base_port < 1024 || base_port + HOP_COUNT - 1 > 65535 )); then
  echo "relay_chain.sh: --base_port must be in 1024..$((65536 - HOP_COUNT))" >&2
  exit 1
fi

log_dir="$(mktemp -d /tmp/yidi-relay-chain.XXXXXX)"
pids=()
load_pid=""
# shellcheck disable=SC2317  # reached through the trap
stop_chain() {
  local pid
  if [[ -n "$load_pid" ]]; then kill -TERM "$load_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$log_dir"
}
trap stop_chain EXIT
# A signal ends the script through exit, so the EXIT trap stops the chain in every case.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# Start from the last hop so that every hop's next one is already coming up.
for (( hop = HOP_COUNT; hop >= 1; hop-- )); do
  port=$(( base_port + hop - 1 ))
  next=""
  if (( hop < HOP_COUNT )); then next="127.0.0.1:$(( port + 1 ))"; fi
  "$RELAY" --listen="127.0.0.1:$port" --next="$next" \
    --forward_deadline_ms="$FORWARD_DEADLINE_MS" 2>"$log_dir/hop$hop.log" &
  pids+=("$!")
done

# Wait until every hop has printed "listening"; a hop that died (port taken) fails at once.
deadline=$(( SECONDS + READY_TIMEOUT_SECONDS ))
for (( hop = 1; hop <= HOP_COUNT; hop++ )); do
  until grep -q "listening" "$log_dir/hop$hop.log"; do
    pid="${pids[$(( HOP_COUNT - hop ))]}"
    if ! kill -0 "$pid" 2>/dev/null || (( SECONDS >= deadline )); then
      echo "relay_chain.sh: hop $hop did not come up:" >&2
      cat "$log_dir/hop$hop.log" >&2
      exit 1
    fi
    sleep 0.05
  done
done
echo "relay_chain.sh: $HOP_COUNT hops on 127.0.0.1:$base_port..$(( base_port + HOP_COUNT - 1 ))" >&2

# In the background and waited for, so that a signal to this script is handled at once (bash
# runs traps only between foreground commands).
"$LOAD" "$@" --target="127.0.0.1:$base_port" &
load_pid=$!
status=0
wait "$load_pid" || status=$?
load_pid=""
exit "$status"
