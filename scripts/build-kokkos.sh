#!/usr/bin/env bash
# Builds Kokkos and Kokkos Kernels 4.6.01 from the vendored release tarballs
# (../shared/vendor, or PHANTOM_VENDOR_DIR) for one backend configuration and
# installs them into a cache outside the clone, keyed by version and options, so
# each configuration is built once per machine. Prints the install prefix as the
# last line of stdout; everything else goes to stderr.
#
#   scripts/build-kokkos.sh openmp   # Serial + OpenMP, BLAS TPL = Debian's OpenMP OpenBLAS
#   scripts/build-kokkos.sh serial   # Serial only, BLAS TPL = Debian's serial OpenBLAS (gpu-check dry run)
#   scripts/build-kokkos.sh cuda     # Serial + Cuda (Hopper, sm_90), cuBLAS TPL, nvcc_wrapper
#
# Exit status 3 (with a message): the vendored tarballs are absent, as in a
# user's clone; the caller skips the configuration. A user builds Kokkos their
# own way (Spack, a module); docs/building.md shows the equivalent commands.
#
# Environment: PHANTOM_DEPS_CACHE (default ~/.cache/phantom-deps), PHANTOM_JOBS
# (default 2), CUDA_HOME (default /usr/local/cuda), PHANTOM_CUDA_ARCH (default
# HOPPER90, a Kokkos_ARCH_* name).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=${1:-}
vendor=${PHANTOM_VENDOR_DIR:-$here/../../shared/vendor}
cache=${PHANTOM_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phantom-deps}
jobs=${PHANTOM_JOBS:-2}
version=4.6.01
log() { echo "build-kokkos: $*" >&2; }

case "$config" in
  openmp | serial | cuda) ;;
  *) log "usage: $0 openmp|serial|cuda"; exit 2 ;;
esac
if [ ! -f "$vendor/kokkos-$version.tar.gz" ] || [ ! -f "$vendor/kokkos-kernels-$version.tar.gz" ]; then
  log "skipped: no kokkos-$version.tar.gz and kokkos-kernels-$version.tar.gz in $vendor" \
    "(a user's clone has no ../shared/vendor; bring your own Kokkos, see docs/building.md)"
  exit 3
fi
vendor=$(cd "$vendor" && pwd)

# Kokkos Kernels: the BLAS component only, float and double, LayoutLeft, the
# enabled spaces; tests, examples and the other TPLs off.
kokkos_opts=(-DCMAKE_BUILD_TYPE=Release -DKokkos_ENABLE_SERIAL=ON)
kernels_opts=(-DCMAKE_BUILD_TYPE=Release
  -DKokkosKernels_ENABLE_ALL_COMPONENTS=OFF -DKokkosKernels_ENABLE_COMPONENT_BLAS=ON
  -DKokkosKernels_INST_FLOAT=ON -DKokkosKernels_INST_DOUBLE=ON
  -DKokkosKernels_INST_LAYOUTLEFT=ON -DKokkosKernels_INST_LAYOUTRIGHT=OFF
  -DKokkosKernels_ENABLE_TPL_LAPACK=OFF -DKokkosKernels_ENABLE_TESTS=OFF
  -DKokkosKernels_ENABLE_EXAMPLES=OFF -DKokkosKernels_ENABLE_BENCHMARK=OFF)
patch_file=""
blas_lib=""
case "$config" in
  openmp | serial)
    # OpenBLAS, which also carries the LAPACK routines (crot_, zrot_) that Kokkos
    # Kernels' BLAS TPL calls. openmp: Debian's OpenMP build for threaded GEMMs
    # (the same libgomp as Kokkos' threads), reached through a folder of links so
    # this build alone uses it while the system's libblas.so.3 stays the serial one.
    variant=serial
    if [ "$config" = openmp ]; then
      variant=openmp
      kokkos_opts+=(-DKokkos_ENABLE_OPENMP=ON)
    fi
    blas_lib=/usr/lib/x86_64-linux-gnu/openblas-$variant/libopenblas.so.0
    if [ ! -f "$blas_lib" ]; then
      log "no $blas_lib: install libopenblas0-$variant (scripts/install-deps.sh --openmp)"
      exit 1
    fi
    ;;
  cuda)
    cuda=${CUDA_HOME:-/usr/local/cuda}
    if [ ! -x "$cuda/bin/nvcc" ]; then
      log "skipped: no nvcc under $cuda (set CUDA_HOME)"
      exit 3
    fi
    export PATH="$cuda/bin:$PATH"
    arch=${PHANTOM_CUDA_ARCH:-HOPPER90}
    kokkos_opts+=(-DKokkos_ENABLE_CUDA=ON "-DKokkos_ARCH_$arch=ON" -DKokkos_ENABLE_CUDA_CONSTEXPR=ON)
    kernels_opts+=(-DKokkosKernels_ENABLE_TPL_CUBLAS=ON -DKokkosKernels_ENABLE_TPL_CUSPARSE=OFF
      -DKokkosKernels_ENABLE_TPL_CUSOLVER=OFF -DKokkosKernels_INST_EXECSPACE_SERIAL=OFF
      -DKokkosKernels_INST_MEMSPACE_CUDAUVMSPACE=OFF)
    # Kokkos 4.6.01's CUDA backend needs this patch for CUDA 13 (vendor README).
    patch_file=$vendor/kokkos-$version-cuda13.patch
    [ -f "$patch_file" ] || { log "no $patch_file"; exit 1; }
    ;;
esac

key_text="$version $config ${kokkos_opts[*]} ${kernels_opts[*]} $blas_lib"
key_text+=" $(sha256sum "$vendor/kokkos-$version.tar.gz" "$vendor/kokkos-kernels-$version.tar.gz" \
  ${patch_file:+"$patch_file"} | cut -c1-16 | tr '\n' ' ')"
if [ "$config" = cuda ]; then key_text+=" $("$cuda/bin/nvcc" --version | tail -1)"; fi
key=$(printf '%s' "$key_text" | sha256sum | cut -c1-12)
prefix=$cache/kokkos-$version-$config-$key

if [ -f "$prefix/.complete" ]; then
  log "cached: $prefix"
  echo "$prefix"
  exit 0
fi

log "building Kokkos and Kokkos Kernels $version ($config) into $prefix, -j$jobs"
mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-$config-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Installed straight into the final prefix (Kokkos' CMake files record it);
# .complete is written last, so an interrupted build is redone next time.
rm -rf "$prefix"
staging=$prefix
tar -xzf "$vendor/kokkos-$version.tar.gz" -C "$work"
tar -xzf "$vendor/kokkos-kernels-$version.tar.gz" -C "$work"
if [ -n "$patch_file" ]; then
  patch -d "$work/kokkos-$version" -p1 -s <"$patch_file"
fi

if [ -n "$blas_lib" ]; then
  # libopenblas.so for the link, libopenblas.so.0 for the loader (the build
  # tree's RUNPATH names this folder), both the OpenMP variant.
  mkdir -p "$prefix.blas"
  ln -sf "$blas_lib" "$prefix.blas/libopenblas.so"
  ln -sf "$blas_lib" "$prefix.blas/libopenblas.so.0"
  kernels_opts+=(-DKokkosKernels_ENABLE_TPL_BLAS=ON -DBLAS_LIBRARIES=openblas
    "-DBLAS_LIBRARY_DIRS=$prefix.blas")
fi

compiler=()
if [ "$config" = cuda ]; then
  compiler=("-DCMAKE_CXX_COMPILER=$work/kokkos-$version/bin/nvcc_wrapper")
fi

start=$SECONDS
cmake -S "$work/kokkos-$version" -B "$work/kokkos-build" "${compiler[@]}" \
  -DCMAKE_INSTALL_PREFIX="$staging" "${kokkos_opts[@]}" >"$work/kokkos-configure.log" 2>&1 ||
  { cat "$work/kokkos-configure.log" >&2; exit 1; }
cmake --build "$work/kokkos-build" -j"$jobs" >"$work/kokkos-build.log" 2>&1 ||
  { tail -50 "$work/kokkos-build.log" >&2; exit 1; }
cmake --install "$work/kokkos-build" >/dev/null
log "Kokkos built in $((SECONDS - start)) s"

start=$SECONDS
compiler=()
if [ "$config" = cuda ]; then compiler=("-DCMAKE_CXX_COMPILER=$staging/bin/nvcc_wrapper"); fi
cmake -S "$work/kokkos-kernels-$version" -B "$work/kernels-build" "${compiler[@]}" \
  -DKokkos_ROOT="$staging" -DCMAKE_INSTALL_PREFIX="$staging" "${kernels_opts[@]}" \
  >"$work/kernels-configure.log" 2>&1 || { cat "$work/kernels-configure.log" >&2; exit 1; }
cmake --build "$work/kernels-build" -j"$jobs" >"$work/kernels-build.log" 2>&1 ||
  { tail -50 "$work/kernels-build.log" >&2; exit 1; }
cmake --install "$work/kernels-build" >/dev/null
log "Kokkos Kernels built in $((SECONDS - start)) s"

touch "$prefix/.complete"
log "installed: $prefix"
echo "$prefix"
