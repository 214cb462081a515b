#!/usr/bin/env bash
# Starts, inspects and stops the 8-node demo mesh of deploy/demo/ on 127.0.0.1.
#
#   deploy/mesh.sh start  [--data DIR]   start every node not yet running; wait until all answer
#   deploy/mesh.sh status [--data DIR]   name, kind, region, address, pid, up/down of each node
#   deploy/mesh.sh stop   [--data DIR]   SIGTERM, wait up to 10 s, then SIGKILL
#
# DIR (default <repo>/var/demo) holds the nodes' SQLite files (each node gets --data_dir=DIR),
# logs/<node>.log and pids/<node>.pid. BUILD_DIR (default <repo>/build) holds the binaries;
# this script builds nothing. Environment: BUILD_DIR, YIDI_START_TIMEOUT_S (default 20),
# YIDI_STOP_TIMEOUT_S (default 10).
#
# Every link is mutual TLS: `start` first runs deploy/certs.sh, which keeps the development
# CA and certificates of <repo>/var/certs (the demo configs name them) or creates them. The
# probes use yidictl with the demo admin operator's certificate (YIDI_TLS_DIR).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO
readonly DEMO_DIR="${SCRIPT_DIR}/demo"
BUILD_DIR="${BUILD_DIR:-${REPO}/build}"
readonly START_TIMEOUT_S="${YIDI_START_TIMEOUT_S:-20}"
readonly STOP_TIMEOUT_S="${YIDI_STOP_TIMEOUT_S:-10}"

# name | binary (under BUILD_DIR) | kind | region | address. The config is demo/<name>.textproto.
readonly NODES=(
  "national|national/yidi-national|national|000000|127.0.0.1:17000"
  "provincial_500000|provincial/yidi-provincial|provincial|500000|127.0.0.1:17050"
  "provincial_360000|provincial/yidi-provincial|provincial|360000|127.0.0.1:17036"
  "provincial_210000|provincial/yidi-provincial|provincial|210000|127.0.0.1:17021"
  "municipal_500000|municipal/yidi-municipal|municipal|500000|127.0.0.1:17500"
  "municipal_360100|municipal/yidi-municipal|municipal|360100|127.0.0.1:17361"
  "municipal_360700|municipal/yidi-municipal|municipal|360700|127.0.0.1:17367"
  "municipal_210100|municipal/yidi-municipal|municipal|210100|127.0.0.1:17211"
)

usage() {
  echo "usage: $0 start|status|stop [--data DIR]" >&2
  exit 64
}

[[ $# -ge 1 ]] || usage
COMMAND="$1"
shift
DATA_DIR="${REPO}/var/demo"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) [[ $# -ge 2 ]] || usage; DATA_DIR="$2"; shift 2 ;;
    --data=*) DATA_DIR="${1#--data=}"; shift ;;
    *) usage ;;
  esac
done
DATA_DIR="$(realpath -m -- "${DATA_DIR}")"
readonly DATA_DIR LOG_DIR="${DATA_DIR}/logs" PID_DIR="${DATA_DIR}/pids"
readonly YIDICTL="${BUILD_DIR}/tools/yidictl"
readonly CERT_DIR="${REPO}/var/certs"
export YIDI_TLS_DIR="${CERT_DIR}"

# Milliseconds since the epoch (EPOCHREALTIME, whatever the locale's decimal separator).
now_ms() {
  local micros="${EPOCHREALTIME//[!0-9]/}"
  echo $((micros / 1000))
}

# Splits a NODES entry into the globals NODE_NAME NODE_BIN NODE_KIND NODE_REGION NODE_ADDR.
split_node() {
  IFS='|' read -r NODE_NAME NODE_BIN NODE_KIND NODE_REGION NODE_ADDR <<<"$1"
}

# Prints the pid of a running node started from DATA_DIR, or nothing. A pid file whose process
# is gone, or was reused by an unrelated program, counts as not running.
running_pid() {
  local name="$1" pid_file="${PID_DIR}/$1.pid" pid
  [[ -f "${pid_file}" ]] || return 0
  pid="$(cat "${pid_file}" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 0
  [[ -r "/proc/${pid}/cmdline" ]] || return 0
  # A zombie (exited, not yet reaped) is not running.
  if [[ "$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null || true)" == "Z" ]]; then
    return 0
  fi
  if tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q -- "--config=${DEMO_DIR}/${name}.textproto"; then
    echo "${pid}"
  fi
}

# True when a node answers `yidictl info` at the address.
answers() {
  "${YIDICTL}" --target="$1" --deadline_ms=1000 info >/dev/null 2>&1
}

print_log_tail() {
  local log="${LOG_DIR}/$1.log"
  echo "---- last lines of ${log} ----" >&2
  if [[ -f "${log}" ]]; then tail -n 30 "${log}" >&2; else echo "(no log)" >&2; fi
  echo "---- end of ${log} ----" >&2
}

check_binaries() {
  local missing=() entry
  for entry in "${NODES[@]}"; do
    split_node "${entry}"
    [[ -x "${BUILD_DIR}/${NODE_BIN}" ]] || missing+=("${BUILD_DIR}/${NODE_BIN}")
  done
  [[ -x "${YIDICTL}" ]] || missing+=("${YIDICTL}")
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "missing binaries:" >&2
    printf '%s\n' "${missing[@]}" | sort -u | sed 's/^/  /' >&2
    echo "build first:  cmake -S ${REPO} -B ${BUILD_DIR} -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
      "&& cmake --build ${BUILD_DIR} -j2   (or run deploy/quickstart.sh)" >&2
    exit 1
  fi
}

cmd_start() {
  check_binaries
  "${SCRIPT_DIR}/certs.sh" --out "${CERT_DIR}" >/dev/null ||
    { echo "deploy/certs.sh failed: no certificates in ${CERT_DIR}" >&2; exit 1; }
  mkdir -p "${DATA_DIR}" "${LOG_DIR}" "${PID_DIR}"
  # The demo configs name `sqlite://var/<node>.db`, resolved against --data_dir.
  mkdir -p "${DATA_DIR}/var"
  local entry pid started=() already=0
  for entry in "${NODES[@]}"; do
    split_node "${entry}"
    pid="$(running_pid "${NODE_NAME}")"
    if [[ -n "${pid}" ]]; then
      echo "${NODE_NAME}: already running (pid ${pid})"
      already=$((already + 1))
      continue
    fi
    rm -f "${PID_DIR}/${NODE_NAME}.pid"
    if answers "${NODE_ADDR}"; then
      echo "${NODE_NAME}: ${NODE_ADDR} already serves a node that was not started from" \
        "${DATA_DIR}; stop that mesh first (deploy/mesh.sh stop --data ITS_DIR)" >&2
      exit 1
    fi
    echo "==== $(date '+%F %T') starting ${NODE_NAME}" >>"${LOG_DIR}/${NODE_NAME}.log"
    nohup "${BUILD_DIR}/${NODE_BIN}" --config="${DEMO_DIR}/${NODE_NAME}.textproto" \
      --data_dir="${DATA_DIR}" </dev/null >>"${LOG_DIR}/${NODE_NAME}.log" 2>&1 &
    echo $! >"${PID_DIR}/${NODE_NAME}.pid"
    echo "${NODE_NAME}: started (pid $!), ${NODE_KIND} ${NODE_REGION} on ${NODE_ADDR}"
    started+=("${entry}")
  done
  if [[ ${already} -eq ${#NODES[@]} ]]; then
    echo "mesh already running (data ${DATA_DIR})"
    return 0
  fi

  # Wait until every node answers `info`, or the timeout passes.
  local deadline_ms=$(($(now_ms) + START_TIMEOUT_S * 1000)) pending=("${NODES[@]}") still=()
  while [[ ${#pending[@]} -gt 0 ]]; do
    still=()
    for entry in "${pending[@]}"; do
      split_node "${entry}"
      if answers "${NODE_ADDR}"; then
        continue
      fi
      if [[ -z "$(running_pid "${NODE_NAME}")" ]]; then
        echo "${NODE_NAME}: exited during start-up" >&2
        print_log_tail "${NODE_NAME}"
        echo "other nodes may still run: deploy/mesh.sh stop --data ${DATA_DIR}" >&2
        exit 1
      fi
      still+=("${entry}")
    done
    pending=("${still[@]+"${still[@]}"}")
    [[ ${#pending[@]} -gt 0 ]] || break
    if [[ $(now_ms) -ge ${deadline_ms} ]]; then
      for entry in "${pending[@]}"; do
        split_node "${entry}"
        echo "${NODE_NAME}: no answer to 'yidictl --target=${NODE_ADDR} info'" \
          "within ${START_TIMEOUT_S} s" >&2
        print_log_tail "${NODE_NAME}"
      done
      echo "other nodes may still run: deploy/mesh.sh stop --data ${DATA_DIR}" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "mesh up: ${#NODES[@]} nodes answer (data ${DATA_DIR}, logs ${LOG_DIR})"
}

cmd_status() {
  local entry pid state down=0
  printf '%-18s %-10s %-7s %-16s %-8s %s\n' NODE KIND REGION ADDRESS PID STATE
  for entry in "${NODES[@]}"; do
    split_node "${entry}"
    pid="$(running_pid "${NODE_NAME}")"
    if [[ -x "${YIDICTL}" ]] && answers "${NODE_ADDR}"; then
      state="up"
      [[ -n "${pid}" ]] || state="up (not started from ${DATA_DIR})"
    elif [[ -n "${pid}" ]]; then
      state="down (process ${pid} runs but does not answer)"
      down=$((down + 1))
    else
      state="down"
      down=$((down + 1))
    fi
    printf '%-18s %-10s %-7s %-16s %-8s %s\n' "${NODE_NAME}" "${NODE_KIND}" "${NODE_REGION}" \
      "${NODE_ADDR}" "${pid:--}" "${state}"
  done
  [[ -x "${YIDICTL}" ]] || echo "(${YIDICTL} is missing: up/down reflects processes only)"
  [[ ${down} -eq 0 ]]
}

# Waits up to $1 ms until none of the named nodes runs.
wait_for_exit() {
  local deadline_ms=$(($(now_ms) + $1)) name alive
  shift
  while :; do
    alive=0
    for name in "$@"; do
      [[ -z "$(running_pid "${name}")" ]] || alive=$((alive + 1))
    done
    [[ ${alive} -gt 0 && $(now_ms) -lt ${deadline_ms} ]] || return 0
    sleep 0.2
  done
}

cmd_stop() {
  local entry pid pids=() names=()
  for entry in "${NODES[@]}"; do
    split_node "${entry}"
    pid="$(running_pid "${NODE_NAME}")"
    if [[ -n "${pid}" ]]; then
      kill -TERM "${pid}" 2>/dev/null || true
      pids+=("${pid}")
      names+=("${NODE_NAME}")
      echo "${NODE_NAME}: SIGTERM sent (pid ${pid})"
    fi
  done
  if [[ ${#pids[@]} -eq 0 ]]; then
    echo "no node of ${DATA_DIR} is running"
  else
    wait_for_exit $((STOP_TIMEOUT_S * 1000)) "${names[@]}"
    local i killed=0
    for i in "${!names[@]}"; do
      if [[ -n "$(running_pid "${names[$i]}")" ]]; then
        echo "${names[$i]}: still running after ${STOP_TIMEOUT_S} s, SIGKILL (pid ${pids[$i]})"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        killed=1
      fi
    done
    [[ ${killed} -eq 0 ]] || wait_for_exit 2000 "${names[@]}"
    echo "mesh stopped"
  fi
  for entry in "${NODES[@]}"; do
    split_node "${entry}"
    rm -f "${PID_DIR}/${NODE_NAME}.pid"
  done
}

case "${COMMAND}" in
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  *) usage ;;
esac
