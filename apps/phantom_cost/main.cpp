// phantom-cost: the cost model of a deck's network (docs/cost-model.md).
//
//   phantom-cost [DECK.toml] [--set section.key=value ...] [--profile NAME|FILE]
//                [--ranks 1,2,4] [--strategies pp,tp,megatron] [--ghosts 8,16,32]
//                [--compressors none,int8,topk] [--csv FILE]
//   mpiexec -n P phantom-cost --calibrate FILE   measures this machine's profile
//   phantom-cost --list-profiles
//
// For each (strategy, k, p) it prints parameters, memory per rank, GEMM FLOPs
// and bytes per rank and step (the figures phantom-train counts), and the
// predicted step time and modelled energy on the profile. With no deck it
// uses phantom-train's embedded quick-start deck. Exit status 2 on bad input.
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <limits>

#include "cli_io.hpp"
#include "cost_table.hpp"
#include "default_deck.hpp"
#include "phantom/cost/calibration.hpp"

namespace {

const char* kUsage =
    "usage: phantom-cost [DECK.toml] [--set section.key=value ...] [--profile NAME|FILE]\n"
    "                    [--ranks LIST] [--strategies LIST] [--ghosts LIST]\n"
    "                    [--compressors LIST] [--csv FILE]\n"
    "       mpiexec -n P phantom-cost --calibrate FILE   measure this machine (TOML profile)\n"
    "       phantom-cost --list-profiles\n"
    "LISTs are comma-separated (e.g. --ranks 1,2,4). --compressors (none, int8, int4, int2,\n"
    "fp16, bf16, topk, ae) applies to tp and megatron. With no DECK the quick-start deck is used.\n";

struct Arguments {
  std::string deck_path, profile = "this-cpu", csv, calibrate;
  std::vector<std::string> overrides;
  phantom_cost::Sweep sweep;
  bool help = false, list_profiles = false;
};


long positive_integer(const std::string& s, const std::string& option) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(s, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || v < 1 || v > std::numeric_limits<int>::max())
    throw phantom::InvalidArgument(option + ": '" + s + "' is not a positive integer (at most " +
                                   std::to_string(std::numeric_limits<int>::max()) + ")");
  return v;
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments a;
  auto value = [&](int& i, const std::string& option) -> std::string {
    if (i + 1 >= argc) throw phantom::InvalidArgument(option + " needs a value\n" + kUsage);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") a.help = true;
    else if (arg == "--list-profiles") a.list_profiles = true;
    else if (arg == "--set") a.overrides.push_back(value(i, arg));
    else if (arg == "--profile") a.profile = value(i, arg);
    else if (arg == "--csv") a.csv = value(i, arg);
    else if (arg == "--calibrate") a.calibrate = value(i, arg);
    else if (arg == "--ranks") {
      a.sweep.ranks.clear();
      for (const auto& s : phantom_cli::split_list(value(i, arg))) a.sweep.ranks.push_back(int(positive_integer(s, arg)));
    } else if (arg == "--ghosts") {
      for (const auto& s : phantom_cli::split_list(value(i, arg))) a.sweep.ghosts.push_back(positive_integer(s, arg));
    } else if (arg == "--compressors") {
      for (const auto& s : phantom_cli::split_list(value(i, arg))) {
        phantom::parse_compression_method(s);  // names the allowed ones
        a.sweep.compressors.push_back(s);
      }
    } else if (arg == "--strategies") {
      for (const auto& s : phantom_cli::split_list(value(i, arg))) {
        phantom::parse_strategy(s);  // names the allowed ones
        a.sweep.strategies.push_back(s);
      }
    } else if (arg.rfind("--kokkos", 0) == 0) {
    } else if (!arg.empty() && arg[0] == '-') {
      throw phantom::InvalidArgument("unknown option " + arg + "\n" + kUsage);
    } else if (a.deck_path.empty()) {
      a.deck_path = arg;
    } else {
      throw phantom::InvalidArgument("more than one deck given: " + a.deck_path + " and " + arg);
    }
  }
  if (a.sweep.ranks.empty()) throw phantom::InvalidArgument("--ranks needs at least one count");
  return a;
}

void run(const Arguments& args, int rank) {
  if (!args.calibrate.empty()) {
    auto comm = phantom::make_world_communicator();
    const auto profile = phantom::cost::calibrate_profile(*comm);
    if (rank == 0) {
      phantom::cost::save_profile(profile, args.calibrate);
      std::printf("calibrated on %d rank(s): GEMM %.1f GFLOP/s (half-dim %.1f), memory %.1f GB/s,"
                  " all-gather alpha %.2f us, %.2f GB/s -> %s\n",
                  comm->size(), profile.gemm_flops_s / 1e9, profile.gemm_half_dim,
                  profile.memory_bytes_s / 1e9, 1e6 * profile.intra_node.alpha_s,
                  profile.intra_node.bandwidth_bytes_s / 1e9, args.calibrate.c_str());
    }
    return;
  }
  if (rank != 0) return;
  if (args.list_profiles) {
    for (const auto& p : phantom::cost::builtin_profiles())
      std::printf("%-11s %s\n            %s\n", p.name.c_str(), p.description.c_str(),
                  p.source.c_str());
    return;
  }
  const phantom::Deck deck =
      args.deck_path.empty()
          ? phantom::parse_deck(phantom_train::kDefaultDeck, "default deck", args.overrides)
          : phantom::load_deck(args.deck_path, args.overrides);
  const auto profile = phantom::cost::load_profile(args.profile);
  std::vector<phantom_cost::Skipped> skipped;
  const auto rows = phantom_cost::evaluate(deck, args.sweep, profile, skipped);
  phantom_cost::print_table(rows, profile);
  for (const auto& s : skipped) std::printf("skipped %s: %s\n", s.what.c_str(), s.why.c_str());
  if (!args.csv.empty())
    phantom_cli::write_atomically(args.csv, [&](std::ostream& out) {
      out << phantom_cost::kCsvHeader << '\n';
      for (const auto& r : rows) phantom_cost::write_csv_row(out, r, profile.name);
    });
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    try {
      const Arguments args = parse_arguments(argc, argv);
      if (args.help) {
        if (rank == 0) std::fputs(kUsage, stdout);
      } else {
        run(args, rank);
      }
    } catch (const phantom::InvalidArgument& e) {
      if (rank == 0) std::fprintf(stderr, "phantom-cost: error: %s\n", e.what());
      status = 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "phantom-cost: error on rank %d: %s\n", rank, e.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  MPI_Finalize();
  return status;
}
