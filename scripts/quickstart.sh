#!/usr/bin/env bash
# The README's main command: installs missing packages, builds, and runs the
# quick-start job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=${PHANTOM_JOBS:-2}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPHANTOM_ENABLE_TESTS=OFF -DPHANTOM_ENABLE_BENCHMARKS=OFF
cmake --build build -j"$jobs"
./build/apps/phantom-demo
