#!/usr/bin/env bash
# bench_mesh.sh: the mesh's settlement throughput against the bare five-hop relay chain, in one
# run on one machine (ARCHITECTURE.md section 10). Both are driven by yidi-load with the same
# cross-province template (Shenyang insured, treated in Chongqing: five hops), the same request
# count and the same concurrency. Prints both RESULT lines and the ratio.
#
# Usage: tools/bench/bench_mesh.sh [--requests=N] [--concurrency=C]
#   BUILD_DIR  the build tree (default <repo>/build); build first (deploy/quickstart.sh does).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export BUILD_DIR="${BUILD_DIR:-${REPO}/build}"
REQUESTS=20000
CONCURRENCY=64
for arg in "$@"; do
  case "${arg}" in
    --requests=*) REQUESTS="${arg#*=}" ;;
    --concurrency=*) CONCURRENCY="${arg#*=}" ;;
    *) echo "unknown argument ${arg}" >&2; exit 2 ;;
  esac
done
TEMPLATE="${REPO}/deploy/demo/workload/load_template_a.textproto"
# The template's treatment region is Chongqing: its municipal node is the hospitals' entry.
TARGET="127.0.0.1:17500"
DATA="${REPO}/var/bench"
LOAD=("${BUILD_DIR}/tools/bench/yidi-load" --requests="${REQUESTS}" --concurrency="${CONCURRENCY}"
      --templates="${TEMPLATE}" --warmup=1000)
# The mesh is mutual TLS: the load presents the template's hospital certificate (deploy/certs.sh,
# run by mesh.sh start). The bare relay chain stays plaintext.
CERTS="${REPO}/var/certs"
INSTITUTION="$(sed -n 's/^[[:space:]]*institution_code:[[:space:]]*"\(.*\)".*/\1/p' "${TEMPLATE}" | head -n 1)"
TLS=(--tls_cert="${CERTS}/institution_${INSTITUTION}.crt"
     --tls_key="${CERTS}/institution_${INSTITUTION}.key" --tls_ca="${CERTS}/ca.crt")

rm -rf "${DATA}"
"${REPO}/deploy/mesh.sh" stop --data "${DATA}" >/dev/null 2>&1 || true
trap '"${REPO}/deploy/mesh.sh" stop --data "${DATA}" >/dev/null 2>&1 || true' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== mesh (8 nodes, 5 hops per settlement, SQLite WAL at every hop)"
YIDI_LOG_LEVEL=warning "${REPO}/deploy/mesh.sh" start --data "${DATA}" >/dev/null
mesh_line="$("${LOAD[@]}" "${TLS[@]}" --target="${TARGET}" | tee /dev/stderr | grep '^RESULT')"
"${REPO}/deploy/mesh.sh" stop --data "${DATA}" >/dev/null
echo "== bare relay chain (5 hops, no work at any hop)"
chain_line="$("${REPO}/tools/bench/relay_chain.sh" "${LOAD[@]:1}" | tee /dev/stderr | grep '^RESULT')"

rate() { sed -n 's/.*settlements_per_s=\([0-9.]*\).*/\1/p' <<<"$1"; }
echo
echo "mesh:  ${mesh_line}"
echo "chain: ${chain_line}"
awk -v m="$(rate "${mesh_line}")" -v c="$(rate "${chain_line}")" \
  'BEGIN { printf "mesh / chain throughput: %.2f (goal: at least 0.50)\n", m / c }'
