// phantom-train: trains the distributed FFN an input deck describes.
//
//   mpiexec -n P phantom-train [DECK.toml] [--set section.key=value ...]
//
// With no deck it runs the embedded quick-start deck (inputs/quickstart.toml).
// --infer CHECKPOINT runs inference instead: the checkpoint's model over the
// deck's data set, reporting the loss and samples per second.
// Bad decks are reported on rank 0 with the key at fault, before anything is
// written, and the program exits with status 2; checkpoint errors (a corrupt
// restart file, a failed write) exit with 3; other failures with 1.
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "default_deck.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/comm/mpi_defaults.hpp"
#include "phantom/core/thread_binding.hpp"
#include "phantom/io/checkpoint_file.hpp"
#include "phantom/io/deck.hpp"
#include "trainer.hpp"

namespace {

const char* kUsage =
    "usage: phantom-train [DECK.toml] [--set section.key=value ...]\n"
    "       phantom-train [DECK.toml] [--set ...] --infer CHECKPOINT\n"
    "                                     forward-only: loss and samples/s over the data set\n"
    "       phantom-train --list-keys     every deck key, its type, default and meaning "
    "(Markdown)\n"
    "With no DECK the embedded quick-start deck (inputs/quickstart.toml) runs.\n";

struct Arguments {
  std::string deck_path, infer_checkpoint;
  std::vector<std::string> overrides;
  bool help = false, list_keys = false;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--list-keys") {
      a.list_keys = true;
    } else if (arg == "--infer") {
      if (i + 1 >= argc) throw phantom::DeckError("--infer needs a checkpoint file");
      a.infer_checkpoint = argv[++i];
    } else if (arg == "--set") {
      if (i + 1 >= argc) throw phantom::DeckError("--set needs section.key=value");
      a.overrides.push_back(argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      a.overrides.push_back(arg.substr(6));
    } else if (arg.rfind("--kokkos", 0) == 0) {
      // Kokkos' own options (already consumed by Kokkos::initialize in 4.x).
    } else if (!arg.empty() && arg[0] == '-') {
      throw phantom::DeckError("unknown option " + arg + "\n" + kUsage);
    } else if (a.deck_path.empty()) {
      a.deck_path = arg;
    } else {
      throw phantom::DeckError("more than one deck given: " + a.deck_path + " and " + arg);
    }
  }
  return a;
}

// A Markdown table: docs/deck.md holds this output (a test checks it does).
void list_keys() {
  std::printf("| key | type | default | meaning |\n|---|---|---|---|\n");
  for (const auto& k : phantom::deck_keys())
    std::printf("| `%s` | %s | `%s` | %s |\n", k.name.c_str(), k.type.c_str(),
                k.default_value.c_str(), k.meaning.c_str());
}

// Ranks whose host threads share cores run slower than with one thread: the
// lowest such rank says so (on stderr), once for the job.
void warn_about_thread_binding(int rank) {
  const int threads = Kokkos::DefaultHostExecutionSpace().concurrency();
  const std::string warning = phantom::thread_binding_warning(threads);
  int mine = warning.empty() ? 0 : 1, count = 0, lowest = INT_MAX;
  const int candidate = mine ? rank : INT_MAX;
  MPI_Allreduce(&mine, &count, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&candidate, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == lowest)
    std::fprintf(stderr, "phantom-train: warning: on %d rank%s: %s\n", count, count == 1 ? "" : "s",
                 warning.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  phantom::apply_mpi_defaults();  // overlapping buckets, no stale MPI-IO semaphores
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    try {
      const Arguments args = parse_arguments(argc, argv);
      if (args.help || args.list_keys) {
        if (rank == 0) args.help ? (void)std::fputs(kUsage, stdout) : list_keys();
      } else {
        const phantom::Deck deck =
            args.deck_path.empty()
                ? phantom::parse_deck(phantom_train::kDefaultDeck, "default deck", args.overrides)
                : phantom::load_deck(args.deck_path, args.overrides);
        auto comm = phantom::make_world_communicator();
        warn_about_thread_binding(rank);
        const bool dp = deck.train.precision == "double";
        if (!args.infer_checkpoint.empty())
          dp ? phantom_train::infer<double>(deck, *comm, args.infer_checkpoint)
             : phantom_train::infer<float>(deck, *comm, args.infer_checkpoint);
        else
          dp ? (void)phantom_train::train<double>(deck, *comm)
             : (void)phantom_train::train<float>(deck, *comm);
      }
    } catch (const phantom::InvalidArgument& e) {
      // A bad deck or data file: every rank read the same input and fails the
      // same way, before any output.
      if (rank == 0) std::fprintf(stderr, "phantom-train: error: %s\n", e.what());
      status = 2;
    } catch (const phantom::CheckpointError& e) {
      // Checkpoint I/O agrees on its errors across ranks (checkpoint_file.hpp).
      if (rank == 0) std::fprintf(stderr, "phantom-train: error: %s\n", e.what());
      status = 3;
      if (phantom::hdf5_file_left_open()) {  // a failed write: MPI_Finalize would crash
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, status);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "phantom-train: error on rank %d: %s\n", rank, e.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks may be inside a collective
    }
  }
  MPI_Finalize();
  return status;
}
