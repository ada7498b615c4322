#include "phantom/comm/mpi_defaults.hpp"

#include <cstdlib>

namespace phantom {

void prefer_overlapping_collectives() {
  setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
}

void avoid_stale_file_semaphores() { setenv("OMPI_MCA_sharedfp", "^sm", /*overwrite=*/0); }

void apply_mpi_defaults() {
  prefer_overlapping_collectives();
  avoid_stale_file_semaphores();
}

}  // namespace phantom
