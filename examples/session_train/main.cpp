// Trains the network a phantom-train deck describes through the library's
// training session, with nothing from Phantom's apps/: the deck's data (the
// teacher problem or an HDF5 file) and held-out part, its schedule, clipping,
// checkpoints and restart. Prints the loss every train.log_every steps and the
// held-out loss at the end; exits 0 when the loss fell at least 4x, 2 on a bad
// deck or data file, 3 on a bad restart file.
//
//   mpiexec -n 2 session_train deck.toml [section.key=value ...]
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdio>
#include <phantom/phantom.hpp>
#include <phantom/run/deck_config.hpp>  // the deck -> the session (needs HDF5)
#include <string>
#include <vector>

namespace {

template <class Scalar>
bool train(const phantom::Deck& deck, phantom::Communicator& comm) {
  using Space = phantom::DefaultSpace;
  const bool root = comm.rank() == 0;
  const phantom::run::SessionConfig config = phantom::run::session_config(deck, comm.size());
  phantom::run::Session<Scalar, Space> session(comm, MPI_COMM_WORLD, config);
  if (!deck.checkpoint.restart.empty()) session.load(deck.checkpoint.restart);

  auto data = phantom::run::make_split_data<Scalar, Space>(deck, config.network.shape);
  const auto batch = std::size_t(deck.train.batch);
  session.set_data(std::move(data.train), batch, deck.data.shuffle, std::uint64_t(deck.data.seed));
  if (data.validation.size() > 0) session.set_validation(std::move(data.validation), batch);

  std::vector<double> losses;
  for (std::size_t step = session.step(); step < std::size_t(deck.train.steps); ++step) {
    const auto& s = session.train_step();
    losses.push_back(s.loss);
    if (root && session.step() % std::size_t(deck.train.log_every) == 0)
      std::printf("step %5zu  loss %.4e  lr %.2e  |g| %.3e  %.2f ms\n", session.step(), s.loss,
                  s.learning_rate, s.gradient_norm, 1e3 * s.seconds);
    session.save_if_due(false);
  }
  session.save_if_due(true);  // the last step's checkpoint, when checkpoint.path is set
  if (session.has_validation()) {
    const double held_out = session.validation_loss();
    if (root) std::printf("held-out loss %.4e\n", held_out);
  }
  if (losses.size() < 20) return true;  // too short a run to judge
  const auto mean = [](auto begin, auto end) {
    double sum = 0;
    for (auto it = begin; it != end; ++it) sum += *it;
    return sum / double(end - begin);
  };
  const double first = mean(losses.begin(), losses.begin() + 10);
  const double last = mean(losses.end() - 10, losses.end());
  if (root) std::printf("loss %.4e -> %.4e (%.1fx)\n", first, last, first / last);
  return last * 4 <= first;
}

}  // namespace

int main(int argc, char** argv) {
  phantom::apply_mpi_defaults();  // Open MPI settings Phantom prefers (docs/embedding.md)
  MPI_Init(&argc, &argv);
  int status = 1;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    auto comm = phantom::make_world_communicator();
    try {
      if (argc < 2)
        throw phantom::InvalidArgument("usage: session_train DECK.toml [section.key=value ...]");
      const phantom::Deck deck = phantom::load_deck(argv[1], {argv + 2, argv + argc});
      const bool fell =
          deck.train.precision == "double" ? train<double>(deck, *comm) : train<float>(deck, *comm);
      status = fell ? 0 : 1;
    } catch (const phantom::InvalidArgument& e) {  // bad deck or data: the same on every rank
      if (comm->rank() == 0) std::fprintf(stderr, "session_train: %s\n", e.what());
      status = 2;
    } catch (const phantom::CheckpointError& e) {
      if (comm->rank() == 0) std::fprintf(stderr, "session_train: %s\n", e.what());
      status = 3;
    }
  }
  MPI_Finalize();
  return status;
}
