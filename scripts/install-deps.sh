#!/usr/bin/env bash
# Installs the Debian 12 packages Phantom builds against, only those missing.
# Used by the README commands and by .ci/run. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev  # Kokkos + Kokkos Kernels 3.4 (Serial, BLAS TPL)
  libopenblas0-serial                                    # fast single-threaded BLAS behind KokkosBlas
  libopenmpi-dev openmpi-bin
  gfortran                                               # the Fortran module and its example
  libhdf5-openmpi-dev
  libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-h5py                                           # tests read checkpoints and data as users would
  gnuplot-nox                                            # phantom-plan --png draws the frontier
  clang libclang-rt-14-dev                               # the sanitizer build and libFuzzer
  ccache                                                 # rebuilds compile only what changed
)
# --studies: also what perf/studies/run_studies.py needs (plots, the digits data set).
# --openmp: Debian's OpenMP-threaded OpenBLAS, for the OpenMP configuration
# (scripts/build-kokkos.sh openmp links it explicitly).
openmp=0
for arg in "$@"; do
  case "$arg" in
    --studies) packages+=(python3-matplotlib python3-sklearn) ;;
    --openmp) packages+=(libopenblas0-openmp); openmp=1 ;;
    *) echo "install-deps: unknown option $arg (allowed: --studies, --openmp)" >&2; exit 2 ;;
  esac
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# Installing libopenblas0-openmp makes it the system's libblas.so.3 (it has the
# higher priority), which would give every single-threaded rank of the default
# configuration a threaded BLAS. Keep the serial one the system's choice.
pin_serial_blas() {
  [ "$openmp" -eq 1 ] || return 0
  local dir=/usr/lib/x86_64-linux-gnu
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    local name="$lib-x86_64-linux-gnu" serial="$dir/openblas-serial/$lib"
    if [ -e "$serial" ] && [ "$(readlink -f "$dir/$lib")" != "$(readlink -f "$serial")" ]; then
      $sudo update-alternatives --quiet --set "$name" "$serial"
    fi
  done
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  pin_serial_blas
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
pin_serial_blas
