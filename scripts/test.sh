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
  # Builds and links the NCCL communicator and its test; without a GPU per
  # rank the test skips itself (a GPU machine runs it).
  echo "=== NCCL configuration (compiles and links; no GPU here)"
  cmake -S . -B build-nccl -DCMAKE_BUILD_TYPE=Release -DPHANTOM_ENABLE_NCCL=ON \
    -DCUDAToolkit_ROOT="$cuda" -DPHANTOM_ENABLE_BENCHMARKS=OFF -DPHANTOM_ENABLE_APPS=OFF
  cmake --build build-nccl -j"$jobs" --target test_comm_nccl
  ctest --test-dir build-nccl -R test_comm_nccl --output-on-failure
else
  echo "=== NCCL configuration skipped: no nccl.h and cuda_runtime.h under $cuda"
fi

echo "=== default configuration"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
