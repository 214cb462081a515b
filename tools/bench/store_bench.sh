#!/usr/bin/env bash
# store_bench.sh: one node's settlement throughput on each Store backend, by the same benchmark
# in one run on one machine. The node is municipal 360100 (Nanchang) of the demo, alone: the
# template (tools/bench/local_360100_template.textproto) is a Nanchang person at a Nanchang
# hospital, so the node is both entry and owner and settles locally: validation,
# classification, eligibility, policy, and one write transaction (record plus accumulators).
# yidi-load drives it with the same requests, concurrency and warmup on each backend:
#   sqlite           sqlite://..., WAL, synchronous=NORMAL (the default backend)
#   mysql            a throwaway MariaDB (tests/mysql/mariadb.sh), Debian's defaults:
#                    innodb_flush_log_at_trx_commit=1, a log flush at every commit
#   mysql-flush2     the same server with innodb_flush_log_at_trx_commit=2 (the log is
#                    written at commit and flushed once a second: durability like SQLite's
#                    synchronous=NORMAL, a server crash loses nothing, an OS crash up to 1 s)
# Prints each RESULT line and a summary.
#
# Usage: tools/bench/store_bench.sh [--requests=N] [--concurrency=C] [--pool=P]
#   BUILD_DIR  the build tree (default <repo>/build); build first. Needs mariadb-server.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-${REPO}/build}"
REQUESTS=5000
CONCURRENCY=32
POOL=8
for arg in "$@"; do
  case "${arg}" in
    --requests=*) REQUESTS="${arg#*=}" ;;
    --concurrency=*) CONCURRENCY="${arg#*=}" ;;
    --pool=*) POOL="${arg#*=}" ;;
    *) echo "unknown argument ${arg}" >&2; exit 2 ;;
  esac
done
# The node waits this long to answer after start (it migrates and seeds the demo persons).
readonly START_TIMEOUT_S=60
readonly TEMPLATE="${REPO}/tools/bench/local_360100_template.textproto"
readonly MARIADB=(bash "${REPO}/tests/mysql/mariadb.sh")

WORK="$(mktemp -d /tmp/yidi-store-bench-XXXXXX)"
STATE="${WORK}/mariadb"
NODE_PID=""
cleanup() {
  if [[ -n "${NODE_PID}" ]]; then kill -TERM "${NODE_PID}" 2>/dev/null || true; wait "${NODE_PID}" 2>/dev/null || true; fi
  "${MARIADB[@]}" stop "${STATE}" >/dev/null 2>&1 || true
  rm -rf "${WORK}"
}
trap cleanup EXIT

# The demo configuration, linked into WORK so that its relative paths (../calendar/...) still
# resolve; only the node's config is a copy, with its database URL replaced.
mkdir -p "${WORK}/demo" "${WORK}/data" "${WORK}/logs"
for entry in "${REPO}"/deploy/*; do
  [[ "$(basename "${entry}")" == "demo" ]] || ln -s "${entry}" "${WORK}/"
done
for entry in "${REPO}"/deploy/demo/*; do ln -s "${entry}" "${WORK}/demo/"; done
rm "${WORK}/demo/municipal_360100.textproto"
CONFIG="${WORK}/demo/municipal_360100.textproto"
TARGET="$(sed -n 's/^listen_address: "\(.*\)"/\1/p' "${REPO}/deploy/demo/municipal_360100.textproto")"

"${MARIADB[@]}" start "${STATE}"
# shellcheck disable=SC1091
source "${STATE}/env"  # DATA_ROOT, PORT
root_sql() { mariadb --no-defaults --socket="${DATA_ROOT}/mysqld.sock" -uroot -e "$1"; }

# run_backend NAME DATABASE_URL: starts the node on DATABASE_URL, drives it, stops it.
run_backend() {
  local name="$1" url="$2"
  sed "s|^database_url: .*|database_url: \"${url}\"|" \
    "${REPO}/deploy/demo/municipal_360100.textproto" >"${CONFIG}"
  YIDI_LOG_LEVEL=warning "${BUILD_DIR}/municipal/yidi-municipal" --config="${CONFIG}" \
    --data_dir="${WORK}/data" >"${WORK}/logs/${name}.log" 2>&1 &
  NODE_PID=$!
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until "${BUILD_DIR}/tools/yidictl" --target="${TARGET}" info >/dev/null 2>&1; do
    if ! kill -0 "${NODE_PID}" 2>/dev/null || ((SECONDS >= deadline)); then
      echo "the node did not start on ${name}:" >&2
      tail -20 "${WORK}/logs/${name}.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "== ${name}: ${url//:yidi@/:***@}" >&2
  local line
  line="$("${BUILD_DIR}/tools/bench/yidi-load" --target="${TARGET}" --requests="${REQUESTS}" \
    --concurrency="${CONCURRENCY}" --warmup=500 --templates="${TEMPLATE}" \
    --id_prefix="B${#RESULTS[@]}$(date +%s)" | tee /dev/stderr | grep '^RESULT')"
  kill -TERM "${NODE_PID}"
  wait "${NODE_PID}" 2>/dev/null || true
  NODE_PID=""
  RESULTS+=("${name}: ${line}")
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB; MariaDB $(mariadbd --version | awk '{print $3}')," \
  "SQLite $(sqlite3 --version 2>/dev/null | awk '{print $1}' || echo '(cli not installed)')" >&2
RESULTS=()
run_backend sqlite "sqlite://store_bench.db"
for flush in 1 2; do
  root_sql "SET GLOBAL innodb_flush_log_at_trx_commit = ${flush}"
  database="yidi_bench_flush${flush}"
  mariadb --no-defaults -h127.0.0.1 -P"${PORT}" -uyidi -pyidi \
    -e "CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  label="mysql"
  [[ "${flush}" == "2" ]] && label="mysql-flush2"
  run_backend "${label}" "mysql://yidi:yidi@127.0.0.1:${PORT}/${database}?pool=${POOL}"
done

echo
echo "requests=${REQUESTS} concurrency=${CONCURRENCY} pool=${POOL}"
for result in "${RESULTS[@]}"; do echo "${result}"; done
