#!/usr/bin/env bash
# Installs the Debian 12 packages Phantom builds against, only those missing.
# Used by the README commands and by .ci/run. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev  # Kokkos + Kokkos Kernels 3.4 (Serial, BLAS TPL)
  libopenblas0-serial                                    # fast single-threaded BLAS behind KokkosBlas
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev
  libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-h5py                                           # tests read checkpoints and data as users would
  gnuplot-nox                                            # phantom-plan --png draws the frontier
)
# --studies: also what perf/studies/run_studies.py needs to draw its plots.
if [ "${1:-}" = "--studies" ]; then
  packages+=(python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
