#!/usr/bin/env bash
# Installs the Debian 12 packages Yidi builds and tests with, when any is missing. Used by
# deploy/quickstart.sh, tests/run_all.sh and .ci/run. Uses `sudo -n` when not root, so it never
# waits for a password (no TTY needed). Prints what it does; exits non-zero on failure.
set -euo pipefail

readonly PACKAGES=(
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev cmake g++ pkg-config openssl
  libmysqlcppconn-dev mariadb-server
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "${pkg}" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("${pkg}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all ${#PACKAGES[@]} Debian packages are installed"
  exit 0
fi
echo "installing: ${missing[*]}"
as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "not root and no sudo: install as root: ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo -n)
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
