#!/usr/bin/env bash
# Development certificate authority for the demo mesh (docs/SECURITY.md). Creates, with the
# OpenSSL of Debian, EC P-256 keys and:
#   ca.crt / ca.key                         the development CA (10 years)
#   <node>.crt / .key                       every node of deploy/demo (the config stems:
#                                           national, provincial_360000, municipal_360100, ...),
#                                           SAN URI yidi://node/<kind>/<region code>
#   institution_<code>.crt / .key           every institution of deploy/demo/directory.textproto,
#                                           SAN URI yidi://institution/<code>
#   operator_<role>.crt / .key              demo operators with roles admin, clearing, service,
#                                           auditor and no region: yidi://operator/demo-<role>?role=<role>
# Every leaf also names DNS:localhost and IP:127.0.0.1 and is valid for DAYS days (default 825).
#
#   deploy/certs.sh [--out DIR] [--days N] [--force]
#
# DIR defaults to <repo>/var/certs (where deploy/demo/*.textproto and yidictl look). Existing
# files are kept unless --force, so mesh.sh can call this on every start. Keys are mode 0600.
# This is a DEVELOPMENT CA: a deployment issues from the agencies' own CA (docs/SECURITY.md).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO
OUT="${REPO}/var/certs"
DAYS=825
FORCE=0
usage() {
  echo "usage: $0 [--out DIR] [--days N] [--force]" >&2
  exit 64
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || usage; OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    --days) [[ $# -ge 2 ]] || usage; DAYS="$2"; shift 2 ;;
    --days=*) DAYS="${1#--days=}"; shift ;;
    --force) FORCE=1; shift ;;
    *) usage ;;
  esac
done
[[ "${DAYS}" =~ ^[0-9]+$ ]] || usage
command -v openssl >/dev/null || { echo "openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "${OUT}"
chmod 700 "${OUT}"
umask 077

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

if [[ ${FORCE} -eq 1 || ! -f "${OUT}/ca.crt" || ! -f "${OUT}/ca.key" ]]; then
  rm -f "${OUT}"/*.crt "${OUT}"/*.key
  new_key "${OUT}/ca.key"
  openssl req -x509 -new -key "${OUT}/ca.key" -sha256 -days 3650 \
    -subj "/O=Yidi development/CN=Yidi development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "${OUT}/ca.crt"
  echo "created the development CA: ${OUT}/ca.crt"
fi

issued=0
# issue STEM URI
issue() {
  local stem="$1" uri="$2"
  [[ -f "${OUT}/${stem}.crt" && -f "${OUT}/${stem}.key" ]] && return 0
  local ext
  ext="$(mktemp)"
  cat >"${ext}" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:${uri},DNS:localhost,IP:127.0.0.1
EXT
  new_key "${OUT}/${stem}.key"
  openssl req -new -key "${OUT}/${stem}.key" -subj "/O=Yidi development/CN=${stem}" \
    -out "${OUT}/${stem}.csr"
  openssl x509 -req -in "${OUT}/${stem}.csr" -CA "${OUT}/ca.crt" -CAkey "${OUT}/ca.key" \
    -CAcreateserial -days "${DAYS}" -sha256 -extfile "${ext}" -out "${OUT}/${stem}.crt" \
    2>/dev/null
  rm -f "${OUT}/${stem}.csr" "${ext}"
  issued=$((issued + 1))
}

# Nodes: every deploy/demo/<stem>.textproto with a `kind:` line.
for config in "${SCRIPT_DIR}"/demo/national.textproto "${SCRIPT_DIR}"/demo/provincial_*.textproto \
  "${SCRIPT_DIR}"/demo/municipal_*.textproto; do
  stem="$(basename "${config}" .textproto)"
  kind="$(sed -n 's/^kind: NODE_KIND_\([A-Z]*\).*/\1/p' "${config}" | tr 'A-Z' 'a-z')"
  region="$(sed -n 's/^region_code: "\([0-9]*\)".*/\1/p' "${config}")"
  [[ -n "${kind}" && -n "${region}" ]] || { echo "${config}: no kind/region_code" >&2; exit 1; }
  issue "${stem}" "yidi://node/${kind}/${region}"
done

# Institutions of the demo directory.
awk '/^institutions[[:space:]]*\{/ {inside=1} inside && /^[[:space:]]*code:/ {
       gsub(/.*code:[[:space:]]*"|".*/, ""); print; inside=0 }' \
  "${SCRIPT_DIR}/demo/directory.textproto" | while read -r code; do
  [[ -n "${code}" ]] && issue "institution_${code}" "yidi://institution/${code}"
done

for role in admin clearing service auditor; do
  issue "operator_${role}" "yidi://operator/demo-${role}?role=${role}"
done

echo "certificates in ${OUT}: $(ls "${OUT}"/*.crt | wc -l) (CA, nodes, institutions, operators)"
