#!/usr/bin/env bash
# Compiles Phantom for CUDA (Hopper, sm_90) the way a GPU user builds it:
# Kokkos 4.6.01 with Cuda + Serial through nvcc_wrapper and Kokkos Kernels
# with cuBLAS (scripts/build-kokkos.sh cuda, cached), Phantom with the NCCL
# communicator. Nothing runs (no GPU here): the point is that every kernel,
# lambda capture and host/device annotation gets through nvcc, and warnings
# from Phantom's own files are errors (-Werror for the host compiler,
# nvcc's cross-execution-space and lambda-capture warnings too).
#
#   scripts/check-cuda.sh            # everything: library, apps, tests, benchmarks
#   scripts/check-cuda.sh TARGET...  # only these targets
#
# Skips with a message (exit 0) where ../shared/vendor or nvcc is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PHANTOM_JOBS:-2}
cuda=${CUDA_HOME:-/usr/local/cuda}

status=0
prefix=$(bash scripts/build-kokkos.sh cuda) || status=$?
if [ "$status" -eq 3 ]; then
  echo "check-cuda: CUDA configuration skipped (see the message above)"
  exit 0
fi
[ "$status" -eq 0 ] || exit "$status"
for h in cuda_runtime.h nccl.h; do
  if [ ! -f "$cuda/include/$h" ]; then
    echo "check-cuda: CUDA configuration skipped: no $cuda/include/$h"
    exit 0
  fi
done
export PATH="$cuda/bin:$PATH"

cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCUDAToolkit_ROOT="$cuda" -DPHANTOM_ENABLE_NCCL=ON -DPHANTOM_WARNINGS_AS_ERRORS=ON \
  -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null  # ccache does not know nvcc_wrapper
if [ $# -gt 0 ]; then
  targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build build-cuda -j"$jobs" "${targets[@]}"
else
  cmake --build build-cuda -j"$jobs"
fi

# Device code made it into the programs (this CUDA has no cuobjdump to list it).
checked=0
while IFS= read -r exe; do
  # grep reads all of readelf's output: with -q, readelf could die of SIGPIPE
  # and pipefail would count that as a missing section.
  if ! readelf -S "$exe" 2>/dev/null | grep nv_fatbin >/dev/null; then
    echo "check-cuda: $exe carries no device code (.nv_fatbin)" >&2
    exit 1
  fi
  checked=$((checked + 1))
done < <(find build-cuda/tests build-cuda/apps -maxdepth 2 -type f -executable -name 'test_*' -o \
           -maxdepth 2 -type f -executable -name 'phantom-train' 2>/dev/null)
echo "check-cuda: built for CUDA ($prefix); $checked programs carry device code"
