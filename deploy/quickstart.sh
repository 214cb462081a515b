#!/usr/bin/env bash
# Quickstart: from a fresh Debian 12 machine to a demo mesh that has settled the scripted cases.
#
#   1. installs the missing Debian packages (apt-get; sudo -n when not root)
#   2. configures and builds into BUILD_DIR (default <repo>/build) with -j2
#   3. starts the 8-node demo mesh (deploy/mesh.sh) on a fresh data dir, <repo>/var/quickstart
#   4. drives the workload of deploy/demo/workload/ through yidictl, each case at its treatment
#      region's municipal node with the certificate of the case's hospital (mutual TLS, made by
#      deploy/certs.sh); then files, retries, checks (from the national index) and cancels a
#      filing through yidictl; shows the refusals of a hospital acting outside its rights and
#      the audit log that recorded them
#   5. prints every node's info (settlement records by state)
#   6. stops the mesh, also on failure (the data dir and its logs stay for inspection)
#
# Needs no TTY. Environment: BUILD_DIR; YIDI_SKIP_PACKAGES=1 skips step 1, YIDI_SKIP_BUILD=1
# skips step 2 (the binaries must then exist); YIDI_DEADLINE_MS (default 10000) per call.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO
export BUILD_DIR="${BUILD_DIR:-${REPO}/build}"
readonly DATA_DIR="${REPO}/var/quickstart"
readonly WORKLOAD="${SCRIPT_DIR}/demo/workload"
readonly MESH="${SCRIPT_DIR}/mesh.sh"
readonly YIDICTL="${BUILD_DIR}/tools/yidictl"
readonly DEADLINE_MS="${YIDI_DEADLINE_MS:-10000}"
# yidictl's certificates (deploy/certs.sh; mesh.sh start creates them); the default identity
# is the demo admin operator, a hospital's calls pass --identity=institution_<code>.
export YIDI_TLS_DIR="${REPO}/var/certs"

# Node addresses in mesh order, for the final info; and the municipal node of each
# treatment region, where the hospitals of that region send their requests.
readonly NODE_ADDRS=(
  "national|127.0.0.1:17000"
  "provincial_500000|127.0.0.1:17050"
  "provincial_360000|127.0.0.1:17036"
  "provincial_210000|127.0.0.1:17021"
  "municipal_500000|127.0.0.1:17500"
  "municipal_360100|127.0.0.1:17361"
  "municipal_360700|127.0.0.1:17367"
  "municipal_210100|127.0.0.1:17211"
)
municipal_address() {
  case "$1" in
    500000) echo "127.0.0.1:17500" ;;
    360100) echo "127.0.0.1:17361" ;;
    360700) echo "127.0.0.1:17367" ;;
    210100) echo "127.0.0.1:17211" ;;
    *) fail "no demo municipal node for region '$1'" ;;
  esac
}

section() {
  printf '\n==================== %s ====================\n' "$*"
}
step() {
  printf '\n---- %s\n' "$*"
}
fail() {
  echo "QUICKSTART FAILED: $*" >&2
  exit 1
}

# Prints the value of a string field `name: "value"` of a text-format file (first match).
field() {
  sed -n "s/^[[:space:]]*$2:[[:space:]]*\"\\(.*\\)\"[[:space:]]*\$/\\1/p" "$1" | head -n 1
}

# yidictl against ADDR; prints its output; the caller sees yidictl's exit status.
ctl() {
  local addr="$1"
  shift
  printf '$ yidictl --target=%s --deadline_ms=%s' "${addr}" "${DEADLINE_MS}"
  printf ' %q' "$@"
  printf '\n'
  "${YIDICTL}" --target="${addr}" --deadline_ms="${DEADLINE_MS}" "$@"
}

# Settles (or pre-settles, with --pre) a workload file at its treatment municipal node.
settle_case() {
  local file="${WORKLOAD}/$1"
  shift
  [[ -f "${file}" ]] || fail "missing workload file ${file}"
  local addr
  addr="$(municipal_address "$(field "${file}" treatment_region)")"
  local rc=0
  ctl "${addr}" --identity="institution_$(field "${file}" institution_code)" settle \
    --request="${file}" "$@" || rc=$?
  [[ ${rc} -eq 0 ]] || fail "settle $* of ${file##*/} failed (yidictl exit ${rc})"
}

# ---------------------------------------------------------------------------------------------
install_packages() {
  section "1. Debian packages"
  if [[ "${YIDI_SKIP_PACKAGES:-0}" == "1" ]]; then
    echo "skipped (YIDI_SKIP_PACKAGES=1)"
    return 0
  fi
  "${SCRIPT_DIR}/install_packages.sh" || fail "could not install the Debian packages"
}

build() {
  section "2. Build (${BUILD_DIR})"
  if [[ "${YIDI_SKIP_BUILD:-0}" == "1" ]]; then
    echo "skipped (YIDI_SKIP_BUILD=1)"
    return 0
  fi
  cmake -S "${REPO}" -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "${BUILD_DIR}" -j2
}

MESH_STARTED=0
on_exit() {
  local status=$?
  if [[ ${MESH_STARTED} -eq 1 ]]; then
    section "6. Stop the mesh"
    "${MESH}" stop --data "${DATA_DIR}" || true
  fi
  if [[ ${status} -ne 0 ]]; then
    echo "quickstart failed (exit ${status}); node logs: ${DATA_DIR}/logs/" >&2
  fi
  exit "${status}"
}

start_mesh() {
  section "3. Start the demo mesh (data ${DATA_DIR})"
  # A mesh left over from an earlier run on the same data dir is stopped before the wipe.
  "${MESH}" stop --data "${DATA_DIR}" >/dev/null 2>&1 || true
  case "${DATA_DIR}" in
    "${REPO}/var/"?*) rm -rf -- "${DATA_DIR}" ;;
    *) fail "refusing to wipe ${DATA_DIR}" ;;
  esac
  mkdir -p "${DATA_DIR}"
  MESH_STARTED=1
  "${MESH}" start --data "${DATA_DIR}"
}

run_workload() {
  section "4. Scripted workload"
  local out rc

  step "Identity check (1101): a Nanchang relocated retiree asks at a Chongqing hospital"
  ctl "$(municipal_address 500000)" person --id_number=360102195604120138 \
    --insured_region=360100 --treatment_region=500000 --date=2026-10-08 ||
    fail "person query failed"

  step "Case 01: cross-province inpatient (Nanchang retiree filed to Chongqing, level-3 hospital)"
  settle_case 01_cross_province_inpatient.textproto

  step "Case 02: cross-province outpatient (Shenyang traveller filed to Nanchang)"
  settle_case 02_cross_province_outpatient.textproto

  step "Case 03: intra-province inpatient (Ganzhou -> Nanchang, no filing needed in Jiangxi)"
  settle_case 03_intra_province_inpatient.textproto

  step "Case 04: emergency without filing (Chongqing person at a Shenyang hospital): deemed filed"
  settle_case 04_emergency_unfiled.textproto

  step "Case 05: unfiled, non-emergency (Shenyang person at a Chongqing hospital): must be refused"
  local file05="${WORKLOAD}/05_refused_unfiled.textproto"
  local inst05
  inst05="institution_$(field "${file05}" institution_code)"
  echo "\$ yidictl --target=$(municipal_address 500000) --deadline_ms=${DEADLINE_MS}" \
    "--identity=${inst05} settle --request=${file05}"
  rc=0
  out="$("${YIDICTL}" --target="$(municipal_address 500000)" --deadline_ms="${DEADLINE_MS}" \
    --identity="${inst05}" settle --request="${file05}" 2>&1)" || rc=$?
  printf '%s\n' "${out}"
  [[ ${rc} -ne 0 ]] || fail "case 05 was settled, but an unfiled non-emergency stay must be refused"
  grep -q 'FAILED_PRECONDITION' <<<"${out}" ||
    fail "case 05 was refused with exit ${rc}, but not with FAILED_PRECONDITION"
  echo "refused as expected (FAILED_PRECONDITION)"

  step "Case 06: cross-province inpatient (Chongqing referred patient at a Shenyang hospital)"
  settle_case 06_reversal_inpatient.textproto

  step "Case 06: reverse it (撤销)"
  local file06="${WORKLOAD}/06_reversal_inpatient.textproto" inst06
  inst06="$(field "${file06}" institution_code)"
  ctl "$(municipal_address "$(field "${file06}" treatment_region)")" \
    --identity="institution_${inst06}" reverse \
    --settlement_id="${inst06}-20261123-R0001" \
    --original="$(field "${file06}" settlement_id)" \
    --insured_region="$(field "${file06}" insured_region)" \
    --treatment_region="$(field "${file06}" treatment_region)" \
    --institution="${inst06}" --reason="quickstart: patient refund" ||
    fail "reversal of case 06 failed"

  step "Retry of case 01 with the same settlement_id: the stored result comes back"
  settle_case 01_cross_province_inpatient.textproto

  step "Case 07: resident insurance, big bill: pre-settle (nothing committed)"
  settle_case 07_resident_big_bill.textproto --pre

  step "Case 07: settle"
  settle_case 07_resident_big_bill.textproto

  step "Case 08: employee, several funds pay one slip (pooled fund to its cap, large expense," \
    "civil servant, supplementary, personal account)"
  settle_case 08_employee_several_funds.textproto

  step "Case 09: 门诊共济, a child's outpatient paid from his mother's account"
  settle_case 09_family_account_outpatient.textproto

  step "The national node's own record of case 01"
  ctl 127.0.0.1:17000 get \
    --settlement_id="$(field "${WORKLOAD}/01_cross_province_inpatient.textproto" settlement_id)" ||
    fail "get at the national node failed"
}

# Polls `yidictl "$@"` (at most ~10 s) until its output contains PATTERN; prints the last output.
ctl_until() {
  local pattern="$1" addr="$2" out="" i
  shift 2
  for i in $(seq 1 50); do
    out="$("${YIDICTL}" --target="${addr}" --deadline_ms="${DEADLINE_MS}" "$@" 2>&1)" || true
    if grep -q -- "${pattern}" <<<"${out}"; then
      printf '$ yidictl --target=%s' "${addr}"
      printf ' %q' "$@"
      printf '\n%s\n' "${out}"
      return 0
    fi
    sleep 0.2
  done
  printf '%s\n' "${out}"
  return 1
}

# Filings (备案, docs/FILING.md): file, retry, ask the national index, refuse bad input, cancel.
run_filings() {
  section "4b. Filings through yidictl"
  local c5=500103201109150795 out rc filing_id today
  today="$(TZ=Asia/Shanghai date +%F)"

  step "C5, a Chongqing student, files as a temporary traveller to Shenyang (1 year by Chongqing's rules)"
  out="$(ctl "$(municipal_address 500000)" filing create --request_id=quickstart-c5 \
    --id_number="${c5}" --insured_region=500000 --category=other_temporary_traveller \
    --treatment_region=210100 --materials=identity,filing_form)" || fail "filing create failed"
  printf '%s\n' "${out}"
  filing_id="$(grep -o 'F500000-[0-9]*-[0-9]*' <<<"${out}" | head -n 1)"
  [[ -n "${filing_id}" ]] || fail "no filing id in the answer"

  step "The same request again (same request_id): the stored answer comes back"
  out="$(ctl "$(municipal_address 500000)" filing create --request_id=quickstart-c5 \
    --id_number="${c5}" --insured_region=500000 --category=other_temporary_traveller \
    --treatment_region=210100 --materials=identity,filing_form)" || fail "filing retry failed"
  printf '%s\n' "${out}"
  grep -q 'replayed' <<<"${out}" || fail "the retry was not answered from the stored result"

  step "A Shenyang hospital asks whether C5 is filed there: answered by the national index"
  ctl_until "FILED  answered by national" "$(municipal_address 210100)" filing check \
    --id_number="${c5}" --insured_region=500000 --treatment_region=210100 --date="${today}" \
    --from_index || fail "the national index never showed the filing"

  step "A hospital is never a treatment region: refused with the reason, nothing stored"
  rc=0
  out="$("${YIDICTL}" --target="$(municipal_address 500000)" --deadline_ms="${DEADLINE_MS}" \
    filing create --request_id=quickstart-bad --id_number="${c5}" --insured_region=500000 \
    --category=other_temporary_traveller --treatment_region=H21010000001 \
    --materials=identity,filing_form 2>&1)" || rc=$?
  printf '%s\n' "${out}"
  [[ ${rc} -ne 0 ]] && grep -q 'INVALID_ARGUMENT' <<<"${out}" ||
    fail "a filing to a hospital was not refused with INVALID_ARGUMENT"

  step "C5 cancels the filing"
  ctl "$(municipal_address 500000)" filing cancel --request_id=quickstart-c5-cancel \
    --filing_id="${filing_id}" --id_number="${c5}" --insured_region=500000 \
    --reason=requested || fail "filing cancel failed"

  step "The national index learns the cancellation (version 2)"
  ctl_until "CANCELLED" "127.0.0.1:17000" filing list --id_number="${c5}" \
    --insured_region=500000 --from_index || fail "the national index never showed the cancellation"

  step "Filing outboxes and indexes"
  local entry name addr
  for entry in "${NODE_ADDRS[@]}"; do
    IFS='|' read -r name addr <<<"${entry}"
    ctl "${addr}" filing status || fail "filing status of ${name} failed"
  done
}

# Security (docs/SECURITY.md): a hospital outside its rights is refused, and the node's audit
# log shows the refusals next to the settlements.
run_security() {
  section "4c. Mutual TLS, authorization and the audit log"
  local out rc file01="${WORKLOAD}/01_cross_province_inpatient.textproto"

  step "A Nanchang hospital's certificate calling the Chongqing node: PERMISSION_DENIED"
  rc=0
  out="$("${YIDICTL}" --target="$(municipal_address 500000)" --deadline_ms="${DEADLINE_MS}" \
    --identity=institution_H36010000001 settle --request="${file01}" 2>&1)" || rc=$?
  printf '%s\n' "${out}"
  [[ ${rc} -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"${out}" ||
    fail "a hospital of another region was not refused with PERMISSION_DENIED"

  step "Another Chongqing hospital settling case 01 under the first one's code: PERMISSION_DENIED"
  rc=0
  out="$("${YIDICTL}" --target="$(municipal_address 500000)" --deadline_ms="${DEADLINE_MS}" \
    --identity=institution_H50000000002 settle --request="${file01}" 2>&1)" || rc=$?
  printf '%s\n' "${out}"
  [[ ${rc} -ne 0 ]] && grep -q 'PERMISSION_DENIED' <<<"${out}" ||
    fail "settling as another institution was not refused with PERMISSION_DENIED"

  step "Plaintext to a TLS node: no connection"
  rc=0
  out="$("${YIDICTL}" --target="$(municipal_address 500000)" --deadline_ms=2000 --plaintext \
    info 2>&1)" || rc=$?
  printf '%s\n' "${out}"
  [[ ${rc} -ne 0 ]] || fail "a plaintext call to a TLS node was answered"

  step "The Chongqing node's audit log (auditor certificate)"
  ctl "$(municipal_address 500000)" --identity=operator_auditor audit ||
    fail "audit listing failed"
}

print_info() {
  section "5. Node info (settlement records by state)"
  "${MESH}" status --data "${DATA_DIR}" || fail "a node is down"
  local entry name addr
  for entry in "${NODE_ADDRS[@]}"; do
    IFS='|' read -r name addr <<<"${entry}"
    step "${name}"
    ctl "${addr}" info || fail "info of ${name} failed"
  done
}

main() {
  cd "${REPO}"
  install_packages
  build
  [[ -x "${YIDICTL}" ]] || fail "${YIDICTL} is missing after the build"
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start_mesh
  run_workload
  run_filings
  run_security
  print_info
  section "Done"
  echo "quickstart finished: all cases behaved as expected"
}

main "$@"
