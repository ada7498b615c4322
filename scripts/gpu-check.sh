#!/usr/bin/env bash
# One command for a GPU (docs/gpu.md). On a machine with an NVIDIA GPU, nvcc
# and CMake but no MPI and no Kokkos (the lent device: H200, CUDA 13, 16 cores)
# it builds Kokkos and Kokkos Kernels (CUDA, cuBLAS) from the vendored
# tarballs, Phantom for CUDA against them, then runs on the GPU:
#   1. the test suite (every backend test on Cuda and on Serial; MPI tests at
#      1-4 ranks sharing the GPU);
#   2. the quick-start deck on one GPU with energy.meter = "nvml";
#   3. bench_gpu_layers: rank 0's work of an 8-rank pp and tp layer at widths
#      4096..16384, TFLOP/s against cuBLAS on the same GEMM shapes, NVML joules
#      per step;
# and writes every log, CSV and JSON into one results folder.
#
#   scripts/gpu-check.sh --prepare           # here: fill device-carry/ (git-ignored)
#   scripts/gpu-check.sh [--out DIR]         # on the GPU machine
#   scripts/gpu-check.sh --dry-run [--out DIR]
#                                            # here: the same flow on the Serial
#                                            # backend, model meter, small widths
#
# What the GPU machine lacks travels in device-carry/: the Kokkos tarballs and
# patch, and Debian 12's Open MPI, parallel HDF5, toml++, GoogleTest and Google
# Benchmark packages, unpacked into a private root (Open MPI relocates through
# OPAL_PREFIX). Nothing is installed system-wide. PHANTOM_GPU_WORK (default
# /tmp/phantom-gpu-check) holds the builds; PHANTOM_JOBS defaults to nproc.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/device-carry
mode=check
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry-run ;;
    --out) out=$2; shift ;;
    *) echo "gpu-check: unknown option $1 (--prepare, --dry-run, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "gpu-check: $*" >&2; }

# Debian 12 packages the device has no equivalent of; --prepare adds every
# package whose libraries they load.
debs=(openmpi-bin openmpi-common libopenmpi3 libopenmpi-dev libhdf5-openmpi-103-1
  libhdf5-openmpi-dev libtomlplusplus-dev libtomlplusplus3 libgtest-dev googletest
  libbenchmark-dev libbenchmark1debian)

if [ "$mode" = prepare ]; then
  vendor=${PHANTOM_VENDOR_DIR:-$repo/../shared/vendor}
  [ -d "$vendor" ] || { log "no $vendor: nothing to carry"; exit 1; }
  mkdir -p "$carry/vendor" "$carry/debs"
  cp "$vendor"/kokkos-4.6.01.tar.gz "$vendor"/kokkos-kernels-4.6.01.tar.gz \
    "$vendor"/kokkos-4.6.01-cuda13.patch "$carry/vendor/"
  download() {  # apt-get warns that root downloads unsandboxed; nothing else is dropped
    (cd "$carry/debs" && apt-get download "$@" 2>&1 >/dev/null | grep -v "unsandboxed as root" >&2 || true)
  }
  rm -f "$carry"/debs/*.deb
  download "${debs[@]}"
  # The packages whose libraries those load (ldd over the unpacked files, resolved
  # on this machine), except the C and C++ runtimes every Linux has: the GPU
  # machine's own copies of the rest may be missing or named otherwise.
  scratch=$(mktemp -d)
  for deb in "$carry"/debs/*.deb; do dpkg -x "$deb" "$scratch"; done
  libs=$scratch/usr/lib/x86_64-linux-gnu
  mapfile -t closure < <(find "$scratch" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    LD_LIBRARY_PATH="$libs:$libs/openmpi/lib:$libs/hdf5/openmpi" xargs -0 ldd 2>/dev/null |
    awk '$3 ~ /^\// {print $3}' | grep -v "^$scratch" | sort -u |
    while read -r so; do dpkg -S "$(readlink -f "$so")" 2>/dev/null || dpkg -S "$so" 2>/dev/null; done |
    cut -d: -f1 | sort -u | grep -Ev '^(libc6|libgcc-s1|libstdc\+\+6)$')
  rm -rf "$scratch"
  download "${closure[@]}"
  expected=$(( ${#debs[@]} + ${#closure[@]} ))
  [ "$(ls "$carry"/debs/*.deb | wc -l)" -eq "$expected" ] ||
    { log "apt-get download gave $(ls "$carry"/debs/*.deb | wc -l) of $expected packages"; exit 1; }
  log "prepared $carry ($(du -sh "$carry" | cut -f1)); carry it with the run (carry: [\"device-carry\"])"
  exit 0
fi

[ -d "$carry/vendor" ] && [ -d "$carry/debs" ] ||
  { log "no $carry: run scripts/gpu-check.sh --prepare on a machine with ../shared/vendor first"; exit 1; }
work=${PHANTOM_GPU_WORK:-/tmp/phantom-gpu-check}
out=${out:-$work/results}
jobs=${PHANTOM_JOBS:-$(nproc)}
cuda=${CUDA_HOME:-/usr/local/cuda}
mkdir -p "$work" "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
start=$SECONDS
stamp() { echo "$((SECONDS - start)) s"; }

if [ "$mode" = check ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
  [ -x "$cuda/bin/nvcc" ] || { log "no nvcc under $cuda (set CUDA_HOME)"; exit 1; }
  kokkos_config=cuda
  meter=nvml
  widths=4096,8192,16384
  batch=1024
  reps=20
else
  kokkos_config=serial
  meter=model
  widths=512,1024
  batch=128
  reps=3
fi
note "gpu-check ($mode) on $(hostname), $jobs jobs, results in $out"

# --- a private root with MPI, HDF5, toml++, GoogleTest, Google Benchmark -------
sysroot=$work/sysroot
if [ ! -f "$sysroot/.complete" ]; then
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  for deb in "$carry"/debs/*.deb; do dpkg -x "$deb" "$sysroot"; done
  # HDF5's compiler wrapper names its prefix; point it at the private root.
  sed -i "s|^prefix=\"/usr\"|prefix=\"$sysroot/usr\"|" "$sysroot/usr/bin/h5pcc.openmpi"
  touch "$sysroot/.complete"
fi
lib=$sysroot/usr/lib/x86_64-linux-gnu
export OPAL_PREFIX=$sysroot/usr
export PATH="$sysroot/usr/bin:$cuda/bin:$PATH"
export LD_LIBRARY_PATH="$lib:$lib/openmpi/lib:$lib/hdf5/openmpi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
mpiexec=$sysroot/usr/bin/mpiexec.openmpi
"$mpiexec" -n 1 true || { log "the carried Open MPI does not start here"; exit 1; }

# --- Kokkos and Kokkos Kernels --------------------------------------------------
t0=$SECONDS
prefix=$(PHANTOM_VENDOR_DIR=$carry/vendor PHANTOM_DEPS_CACHE=$work/deps PHANTOM_JOBS=$jobs \
  bash "$repo/scripts/build-kokkos.sh" "$kokkos_config")
note "kokkos ($kokkos_config): $prefix, $((SECONDS - t0)) s"

# --- Phantom ----------------------------------------------------------------------
t0=$SECONDS
build=$work/build-$kokkos_config
cmake_args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$prefix;$sysroot/usr"
  "-DMPI_CXX_COMPILER=$sysroot/usr/bin/mpicxx.openmpi" "-DMPI_C_COMPILER=$sysroot/usr/bin/mpicc.openmpi"
  "-DMPIEXEC_EXECUTABLE=$mpiexec" "-DHDF5_C_COMPILER_EXECUTABLE=$sysroot/usr/bin/h5pcc.openmpi"
  "-DGTest_DIR=$lib/cmake/GTest" "-Dbenchmark_DIR=$lib/cmake/benchmark"
  "-Dtomlplusplus_DIR=$lib/cmake/tomlplusplus")
if [ "$kokkos_config" = cuda ]; then
  cmake_args+=("-DCMAKE_CXX_COMPILER=$prefix/bin/nvcc_wrapper" "-DCUDAToolkit_ROOT=$cuda")
  if [ -f "$cuda/include/nccl.h" ]; then cmake_args+=(-DPHANTOM_ENABLE_NCCL=ON); fi
fi
cmake -S "$repo" -B "$build" "${cmake_args[@]}" >"$out/configure.log" 2>&1 ||
  { tail -30 "$out/configure.log"; exit 1; }
# The build must have taken MPI and HDF5 from the private root, not from a system copy.
for var in MPI_mpi_LIBRARY MPI_CXX_HEADER_DIR HDF5_C_LIBRARY_hdf5; do
  value=$(grep "^$var:" "$build/CMakeCache.txt" | cut -d= -f2- || true)
  case "$value" in
    "$sysroot"/*) ;;
    *) log "$var is '$value', not under $sysroot"; exit 1 ;;
  esac
done
cmake --build "$build" -j"$jobs" >"$out/build.log" 2>&1 || { grep -m20 -B2 -A10 "error" "$out/build.log"; exit 1; }
note "phantom build: $((SECONDS - t0)) s"

# --- 1. the suite -----------------------------------------------------------------
t0=$SECONDS
suite=passed
# The test scripts read checkpoints with h5py: the first python3 that has it
# (on the GPU machine the one on PATH). phantom-plan's test draws with gnuplot,
# which the GPU machine lacks; it runs no device code.
for python in "${PHANTOM_TEST_PYTHON:-}" "$(command -v python3)" /usr/bin/python3; do
  [ -n "$python" ] && "$python" -c "import h5py, numpy" 2>/dev/null && break
done
note "test python: $python"
PHANTOM_TEST_PYTHON=$python OMP_PROC_BIND=false \
  ctest --test-dir "$build" --output-on-failure -j4 --timeout 300 -E '^phantom-plan[.]end-to-end$' \
  >"$out/ctest.log" 2>&1 || suite=FAILED
note "suite: $suite, $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1), $((SECONDS - t0)) s"

# --- 2. the quick-start on one device with the meter ------------------------------
t0=$SECONDS
quick=passed
"$mpiexec" -n 1 "$build/apps/phantom-train" --set energy.meter="$meter" \
  --set output.summary="$out/quickstart.json" --set output.metrics="$out/quickstart.csv" \
  >"$out/quickstart.log" 2>&1 || quick=FAILED
note "quick-start (energy.meter = $meter): $quick, $(grep -m1 'step time (median)' "$out/quickstart.log" | sed 's/  */ /g'), $((SECONDS - t0)) s"
grep -m1 '  energy ' "$out/quickstart.log" | sed 's/^ *//' | tee -a "$summary" || true

# --- 3. the layer benchmark ---------------------------------------------------------
t0=$SECONDS
bench=passed
"$build/perf/bench_gpu_layers" --ranks 8 --widths "$widths" --batch "$batch" --reps "$reps" \
  --meter "$meter" >"$out/bench_gpu_layers.txt" 2>&1 || bench=FAILED
sed -n '/^csv:/,$p' "$out/bench_gpu_layers.txt" | tail -n +2 >"$out/bench_gpu_layers.csv"
note "bench_gpu_layers: $bench, $((SECONDS - t0)) s"
sed -n '1,/^csv:/p' "$out/bench_gpu_layers.txt" | grep -v '^csv:' | tee -a "$summary"

note "gpu-check done in $(stamp)"
[ "$suite" = passed ] && [ "$quick" = passed ] && [ "$bench" = passed ]
