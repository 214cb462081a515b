#!/usr/bin/env bash
# mariadb.sh: a throwaway MariaDB server for the MySQL tests and benchmarks, on 127.0.0.1 with
# its own data folder under /tmp and a free port. Runs as root (or as any user: --user is then
# that user); needs mariadb-server (deploy/install_packages.sh installs it). No systemd, no
# /etc/mysql: every server option is on the command line (--no-defaults).
#
#   mariadb.sh start STATE_DIR         a fresh server; writes STATE_DIR/url, node_url, runtime_url
#   mariadb.sh stop STATE_DIR          stops it and removes its data
#   mariadb.sh server-stop STATE_DIR [--kill]
#                                      stops the server process only (SIGTERM, or SIGKILL: a
#                                      crash), keeping data and port, for restart tests
#   mariadb.sh server-start STATE_DIR  starts it again on the same data and port
#   mariadb.sh url STATE_DIR           prints the test URL
#
# STATE_DIR (for example <build>/mariadb-test) holds only small files: `env` (data folder and
# port) and the three URL files. The data folder itself is under /tmp, so that the Unix
# socket path stays under the 108-byte limit whatever the build folder's path.
#
# Users, for TCP on 127.0.0.1 only (with --skip-name-resolve a user's host must be 127.0.0.1):
#   yidi / yidi            ALL on databases `yidi\_%`: tests create and drop their databases.
#   yidi_node / yidi-node  only what a node needs (docs/DEPLOY.md): CREATE, ALTER, INDEX,
#                          SELECT, INSERT, UPDATE, DELETE on databases `yidi\_node\_%`.
#   yidi_runtime / yidi-runtime
#                          the runtime half of a split (docs/DEPLOY.md): SELECT, INSERT,
#                          UPDATE, DELETE on `yidi\_node\_%`, no DDL.
# url         = mysql://yidi:yidi@127.0.0.1:PORT/   (the tests append a database name)
# node_url    = mysql://yidi_node:yidi-node@127.0.0.1:PORT/
# runtime_url = mysql://yidi_runtime:yidi-runtime@127.0.0.1:PORT/
set -euo pipefail

# Every wait is bounded. A fresh server is ready in about 0.1 s here; crash recovery after a
# SIGKILL takes longer; a loaded CI machine longer still.
readonly READY_TIMEOUT_S=60
readonly STOP_TIMEOUT_S=60
readonly PORT_ATTEMPTS_MAX=8
# Ports below Linux's ephemeral range (32768-60999), so no client connection holds one.
readonly PORT_MIN=20000
readonly PORT_SPAN=12000

usage() {
  sed -n "2,14p" "$0" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
COMMAND="$1"
STATE_DIR="$2"
shift 2

log() { echo "mariadb.sh: $*" >&2; }

server_user() { id -un; }

load_state() {
  if [[ ! -f "${STATE_DIR}/env" ]]; then
    log "no server state in ${STATE_DIR} (run: $0 start ${STATE_DIR})"
    exit 1
  fi
  # shellcheck disable=SC1091
  source "${STATE_DIR}/env"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_pid() {
  [[ -f "${DATA_ROOT}/mysqld.pid" ]] && cat "${DATA_ROOT}/mysqld.pid" 2>/dev/null || true
}

# True while process $1 exists and is not a zombie.
alive() {
  local pid="$1"
  [[ -n "${pid}" && -d "/proc/${pid}" ]] || return 1
  local state
  state="$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null || echo Z)"
  [[ "${state}" != "Z" ]]
}

ping_server() {
  mariadb-admin --no-defaults --socket="${DATA_ROOT}/mysqld.sock" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

# Starts mariadbd on DATA_ROOT and PORT, detached (own session, no inherited descriptors, so
# CTest does not wait for it), and waits until it answers. Fails when it exits first.
launch() {
  rm -f "${DATA_ROOT}/mysqld.pid"
  : >"${DATA_ROOT}/error.log"
  # $! is not necessarily mariadbd (setsid forks when its caller leads a process group), so
  # the server is followed through its pid file and its error log, never through $!.
  setsid mariadbd --no-defaults --user="$(server_user)" --datadir="${DATA_ROOT}/data" \
    --bind-address=127.0.0.1 --port="${PORT}" --socket="${DATA_ROOT}/mysqld.sock" \
    --pid-file="${DATA_ROOT}/mysqld.pid" --log-error="${DATA_ROOT}/error.log" \
    --skip-name-resolve --innodb-buffer-pool-size=64M --max-connections=300 \
    </dev/null >/dev/null 2>&1 &
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  local pid=""
  while ((SECONDS < deadline)); do
    if ping_server; then
      return 0
    fi
    [[ -n "${pid}" ]] || pid="$(server_pid)"
    if [[ -n "${pid}" ]] && ! alive "${pid}"; then
      return 1  # it started and exited: a bind failure or a bad data folder (error.log)
    fi
    if grep -q "\[ERROR\] Aborting" "${DATA_ROOT}/error.log" 2>/dev/null; then
      [[ -z "${pid}" ]] || wait_gone "${pid}"
      return 1
    fi
    sleep 0.05
  done
  log "server did not answer within ${READY_TIMEOUT_S} s; last lines of ${DATA_ROOT}/error.log:"
  tail -20 "${DATA_ROOT}/error.log" >&2 || true
  return 1
}

# Waits (bounded) until process $1 is gone or a zombie.
wait_gone() {
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "$1" && ((SECONDS < deadline)); do sleep 0.05; done
}

stop_server() {
  local signal="${1:-TERM}"
  local pid
  pid="$(server_pid)"
  [[ -n "${pid}" ]] || return 0
  kill "-${signal}" "${pid}" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "${pid}" && ((SECONDS < deadline)); do sleep 0.05; done
  if alive "${pid}"; then
    log "server ${pid} still ran ${STOP_TIMEOUT_S} s after SIG${signal}: SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    while alive "${pid}"; do sleep 0.05; done
  fi
  rm -f "${DATA_ROOT}/mysqld.pid"
}

root_sql() {
  mariadb --no-defaults --socket="${DATA_ROOT}/mysqld.sock" -uroot -e "$1"
}

# Installs a data folder under /tmp and starts a server on a free port. Sets DATA_ROOT and
# PORT; returns non-zero (data folder removed, nothing left running) on failure.
install_and_launch() {
  DATA_ROOT="$(mktemp -d /tmp/yidi-mariadb-XXXXXX)"
  mkdir -p "${DATA_ROOT}/data"
  if ! mariadb-install-db --no-defaults --user="$(server_user)" --datadir="${DATA_ROOT}/data" \
      --auth-root-authentication-method=socket --skip-test-db \
      >"${DATA_ROOT}/install.log" 2>&1; then
    log "mariadb-install-db failed:"
    tail -20 "${DATA_ROOT}/install.log" >&2
    rm -rf "${DATA_ROOT}"
    return 1
  fi
  local attempt
  for ((attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt++)); do
    PORT=$((PORT_MIN + RANDOM % PORT_SPAN))
    port_in_use "${PORT}" && continue
    launch && return 0
    if grep -q "Bind on TCP/IP port\|Address already in use" "${DATA_ROOT}/error.log"; then
      log "port ${PORT} was taken meanwhile; trying another"
      continue
    fi
    log "mariadbd failed to start; last lines of ${DATA_ROOT}/error.log:"
    tail -20 "${DATA_ROOT}/error.log" >&2 || true
    stop_server KILL
    rm -rf "${DATA_ROOT}"
    return 1
  done
  log "no free port found in ${PORT_ATTEMPTS_MAX} attempts"
  stop_server KILL
  rm -rf "${DATA_ROOT}"
  return 1
}

cmd_start() {
  if [[ -f "${STATE_DIR}/env" ]]; then
    log "a server from an earlier run is recorded in ${STATE_DIR}: stopping it first"
    cmd_stop || true
  fi
  mkdir -p "${STATE_DIR}"
  # One more attempt after a failure: a loaded CI machine may fail a start once; a second
  # failure is reported.
  if ! install_and_launch; then
    log "start failed; trying once more"
    install_and_launch || exit 1
  fi
  cat >"${STATE_DIR}/env" <<EOF
DATA_ROOT=${DATA_ROOT}
PORT=${PORT}
EOF
  root_sql "
    CREATE USER 'yidi'@'127.0.0.1' IDENTIFIED BY 'yidi';
    GRANT ALL PRIVILEGES ON \`yidi\\_%\`.* TO 'yidi'@'127.0.0.1';
    CREATE USER 'yidi_node'@'127.0.0.1' IDENTIFIED BY 'yidi-node';
    GRANT CREATE, ALTER, INDEX, SELECT, INSERT, UPDATE, DELETE
      ON \`yidi\\_node\\_%\`.* TO 'yidi_node'@'127.0.0.1';
    CREATE USER 'yidi_runtime'@'127.0.0.1' IDENTIFIED BY 'yidi-runtime';
    GRANT SELECT, INSERT, UPDATE, DELETE
      ON \`yidi\\_node\\_%\`.* TO 'yidi_runtime'@'127.0.0.1';"
  echo "mysql://yidi:yidi@127.0.0.1:${PORT}/" >"${STATE_DIR}/url"
  echo "mysql://yidi_node:yidi-node@127.0.0.1:${PORT}/" >"${STATE_DIR}/node_url"
  echo "mysql://yidi_runtime:yidi-runtime@127.0.0.1:${PORT}/" >"${STATE_DIR}/runtime_url"
  log "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:${PORT}, data ${DATA_ROOT}"
}

cmd_stop() {
  load_state
  stop_server TERM
  rm -rf "${DATA_ROOT}"
  rm -f "${STATE_DIR}/env" "${STATE_DIR}/url" "${STATE_DIR}/node_url" "${STATE_DIR}/runtime_url"
}

case "${COMMAND}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  server-stop)
    load_state
    if [[ "${1:-}" == "--kill" ]]; then stop_server KILL; else stop_server TERM; fi
    ;;
  server-start)
    load_state
    if ping_server; then
      log "already running"
      exit 0
    fi
    launch || {
      log "restart failed; last lines of ${DATA_ROOT}/error.log:"
      tail -20 "${DATA_ROOT}/error.log" >&2 || true
      exit 1
    }
    ;;
  url)
    load_state
    cat "${STATE_DIR}/url"
    ;;
  *) usage ;;
esac
