#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run). Installs the missing
# Debian packages, then for each configuration builds and tests:
#   serial  Debian's Kokkos 3.4 (Serial): the whole suite (MPI tests at 1-4 ranks)
#   openmp  Kokkos 4.6.01 Serial + OpenMP (built once from ../shared/vendor
#           into ~/.cache/phantom-deps): the whole suite, every backend test on
#           Serial and on OpenMP with OMP_NUM_THREADS=2
#   cuda    Kokkos 4.6.01 Cuda (Hopper) + Kokkos Kernels with cuBLAS, NCCL:
#           compiled only, warnings as errors (scripts/check-cuda.sh); no GPU here
#   sanitize clang with AddressSanitizer + UndefinedBehaviorSanitizer, Debian's
#           Kokkos: the suite, then each libFuzzer target for 60 s
#           (scripts/sanitize.sh)
# Compilations go through ccache where it is installed (~/.cache/ccache), so
# a rerun recompiles only what changed (not the CUDA configuration's).
# openmp and cuda are skipped with a message where ../shared/vendor is absent (a
# user's clone); there the NCCL communicator is still compiled and linked with
# the host compiler. PHANTOM_TEST_CONFIGS="serial openmp" picks configurations.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PHANTOM_JOBS:-2}
configs=${PHANTOM_TEST_CONFIGS:-serial openmp cuda sanitize}
vendor=${PHANTOM_VENDOR_DIR:-../shared/vendor}
cuda=${CUDA_HOME:-/usr/local/cuda}

deps=()
[ -d "$vendor" ] && deps+=(--openmp)
bash scripts/install-deps.sh "${deps[@]}"
if command -v ccache >/dev/null; then
  # Paths relative to the clone, and no build directory in the hash: another
  # clone of the same sources hits the cache.
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
fi

summary=()
section() {  # section NAME COMMAND...: runs it, timing it for the summary
  local name=$1 start=$SECONDS
  shift
  echo
  echo "=== $name"
  "$@"
  summary+=("$(printf '%-52s %5d s' "$name" $((SECONDS - start)))")
}

serial() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs"
  ctest --test-dir build --output-on-failure -j"$jobs"
}

openmp() {
  local status=0 prefix
  prefix=$(bash scripts/build-kokkos.sh openmp) || status=$?
  if [ "$status" -eq 3 ]; then
    echo "openmp configuration skipped (see the message above)"
    return 0
  fi
  [ "$status" -eq 0 ] || return "$status"
  cmake -S . -B build-openmp -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build build-openmp -j"$jobs"
  OMP_NUM_THREADS=2 ctest --test-dir build-openmp --output-on-failure -j"$jobs"
}

nccl_host_compiler() {
  # Where the CUDA configuration cannot be built, the NCCL communicator and its
  # test are still compiled and linked with the host compiler.
  if [ ! -f "$cuda/include/nccl.h" ] || [ ! -f "$cuda/include/cuda_runtime.h" ]; then
    echo "NCCL configuration skipped: no nccl.h and cuda_runtime.h under $cuda"
    return 0
  fi
  cmake -S . -B build-nccl -DCMAKE_BUILD_TYPE=Release -DPHANTOM_ENABLE_NCCL=ON \
    -DCUDAToolkit_ROOT="$cuda" -DPHANTOM_ENABLE_BENCHMARKS=OFF -DPHANTOM_ENABLE_APPS=OFF >/dev/null
  cmake --build build-nccl -j"$jobs" --target test_comm_nccl
  ctest --test-dir build-nccl -R test_comm_nccl --output-on-failure
}

for config in $configs; do
  case "$config" in
    serial) section "serial: Kokkos 3.4 (Debian), build + suite" serial ;;
    openmp) section "openmp: Kokkos 4.6.01 Serial+OpenMP, build + suite" openmp ;;
    cuda)
      if [ -d "$vendor" ]; then
        section "cuda: Kokkos 4.6.01 Cuda + NCCL, compile only" bash scripts/check-cuda.sh
      else
        section "nccl: NCCL communicator with the host compiler" nccl_host_compiler
      fi
      ;;
    sanitize) section "sanitize: clang ASan+UBSan, suite + fuzzers" bash scripts/sanitize.sh ;;
    *) echo "test.sh: unknown configuration '$config' (serial, openmp, cuda, sanitize)" >&2; exit 2 ;;
  esac
done

echo
echo "=== test.sh summary"
printf '  %s\n' "${summary[@]}"
