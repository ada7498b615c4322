#include "phantom/comm/mpi_defaults.hpp"

#include <cstdlib>

namespace phantom {

void prefer_overlapping_collectives() {
  setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
}

}  // namespace phantom
