// Restarting from a checkpoint (restart = ..., --infer, phantom_load): the
// bytes of a small valid checkpoint of the session below (seeds in
// corpus/fuzz_checkpoint, written by `fuzz_checkpoint -write_seed=PATH`),
// mutated, loaded into that session. A malformed or corrupt file must end in
// a phantom::Error naming it, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_input.hpp"
#include "phantom/comm/single_rank_communicator.hpp"
#include "phantom/run/session.hpp"

namespace {

using Session = phantom::run::Session<float>;
std::unique_ptr<phantom::SingleRankCommunicator> comm;
std::unique_ptr<Session> session;

phantom::run::SessionConfig config() {
  phantom::run::SessionConfig c;
  c.network.shape = {3, 6, 2, 2};
  c.network.strategy = phantom::Strategy::pp;
  c.network.ghost = 2;
  c.optimizer.kind = phantom::OptimizerKind::adam;
  c.seed = 5;
  c.meter_energy = false;
  c.description = "[model]\nwidth = 6\n";
  return c;
}

}  // namespace

PHANTOM_FUZZ_HDF5_ALLOCATOR_OPTIONS()

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  phantom_fuzz::init_mpi_and_kokkos(argc, argv);
  comm = std::make_unique<phantom::SingleRankCommunicator>();
  session = std::make_unique<Session>(*comm, MPI_COMM_SELF, config());
  for (int i = 1; i < *argc; ++i)  // -write_seed=PATH: write a valid checkpoint and stop
    if (std::strncmp((*argv)[i], "-write_seed=", 12) == 0) {
      session->save((*argv)[i] + 12);
      std::exit(0);
    }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = phantom_fuzz::write_input(data, size, "checkpoint.h5");
  try {
    session->load(path);
  } catch (const phantom::Error&) {
  }
  return 0;
}
