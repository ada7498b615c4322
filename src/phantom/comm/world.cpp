// make_world_communicator(): declared in communicator.hpp.
#include "phantom/comm/communicator.hpp"
#include "phantom/comm/single_rank_communicator.hpp"

#ifdef PHANTOM_HAVE_MPI
#include "phantom/comm/mpi_communicator.hpp"
#endif

namespace phantom {

std::unique_ptr<Communicator> make_world_communicator() {
#ifdef PHANTOM_HAVE_MPI
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) return std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
#endif
  return std::make_unique<SingleRankCommunicator>();
}

}  // namespace phantom
