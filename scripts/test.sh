#!/usr/bin/env bash
# The README's test command: installs missing packages, builds everything,
# checks that the NCCL communicator compiles and links (it cannot run without
# a GPU), then runs the whole suite under ctest (MPI tests at 1-4 ranks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=${PHANTOM_JOBS:-2}

cuda=${CUDA_HOME:-/usr/local/cuda}
if [ -f "$cuda/include/nccl.h" ] && [ -f "$cuda/include/cuda_runtime.h" ]; then
  echo "=== NCCL configuration (build only: no GPU here)"
  cmake -S . -B build-nccl -DCMAKE_BUILD_TYPE=Release -DPHANTOM_ENABLE_NCCL=ON \
    -DCUDAToolkit_ROOT="$cuda" -DPHANTOM_ENABLE_TESTS=OFF -DPHANTOM_ENABLE_BENCHMARKS=OFF \
    -DPHANTOM_ENABLE_APPS=OFF
  cmake --build build-nccl -j"$jobs"
else
  echo "=== NCCL configuration skipped: no nccl.h and cuda_runtime.h under $cuda"
fi

echo "=== default configuration"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
