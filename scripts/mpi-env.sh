# Sourced by the scripts that run mpiexec: PHANTOM_MPIEXEC_FLAGS for Open MPI
# on a machine with fewer cores than ranks, and permission to run as root
# (CI and containers), which Open MPI otherwise refuses.
PHANTOM_MPIEXEC_FLAGS=()
# Open MPI's mpiexec says "mpiexec (OpenRTE) 4.1.4" (4.x) or "(Open MPI)" (5.x).
if mpiexec --version 2>&1 | grep -qE "OpenRTE|Open MPI|open-mpi"; then
  PHANTOM_MPIEXEC_FLAGS+=(--oversubscribe)
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
fi
