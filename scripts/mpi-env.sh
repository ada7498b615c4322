# Sourced by the scripts that run mpiexec: PHANTOM_MPIEXEC_FLAGS for Open MPI
# on a machine with fewer cores than ranks, and permission to run as root
# (CI and containers), which Open MPI otherwise refuses.
PHANTOM_MPIEXEC_FLAGS=()
if mpiexec --version 2>&1 | grep -q "Open MPI"; then
  PHANTOM_MPIEXEC_FLAGS+=(--oversubscribe)
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
fi
