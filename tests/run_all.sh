#!/usr/bin/env bash
# Runs every test: installs what a fresh Debian 12 machine lacks, configures and builds
# (BUILD_DIR, default <repo>/build, -j2), then runs the whole CTest suite: unit tests, the
# in-process mesh tests and the multi-process end-to-end tests.
#
#   ./tests/run_all.sh            everything
#   ./tests/run_all.sh -R mesh    extra arguments go to ctest
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-${REPO}/build}"

if [[ "${YIDI_SKIP_PACKAGES:-0}" != "1" ]]; then
  "${REPO}/deploy/install_packages.sh"
fi
cmake -S "${REPO}" -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYIDI_BUILD_TESTS=ON
cmake --build "${BUILD_DIR}" -j2
ctest --test-dir "${BUILD_DIR}" --output-on-failure --timeout 300 "$@"
