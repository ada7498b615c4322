// phantom-plan: which strategy, ghost count k and rank count spend the least
// energy per training step, and at which GPU clocks (docs/energy.md, "phantom-plan").
//
//   phantom-plan [DECK.toml] [--set section.key=value ...] [--profile NAME|FILE]
//                [--ranks 8,16,32 | --gpus 64,128] [--strategies pp,tp,megatron]
//                [--ghosts 8,16,32]
//                [--compressors none,int8,fp16,topk,ae]
//                [--time-bound-ms T] [--slow-rank F] [--quantum Q] [--csv FILE]
//                [--frontier-csv FILE] [--png FILE]
//   phantom-plan --step-profile FILE [--time-bound-ms T] [--frontier-csv FILE] [--png FILE]
//
// The deck gives the network and batch (phantom-train's decks; with none, the
// quick-start deck) and the replicas D (parallel.data) of each candidate's
// p ranks; --gpus tries every D x p instead. Everything printed is modelled (cost model + clock
// model), and says so. Exit status 2 on bad input.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "cli_io.hpp"
#include "cost_table.hpp"
#include "default_deck.hpp"
#include "phantom/plan/advisor.hpp"
#include "phantom/run/deck_config.hpp"

namespace {

const char* kUsage =
    "usage: phantom-plan [DECK.toml] [--set section.key=value ...] [--profile NAME|FILE]\n"
    "                    [--ranks LIST | --gpus LIST] [--strategies LIST] [--ghosts LIST]\n"
    "                    [--compressors LIST]\n"
    "                    [--time-bound-ms T] [--slow-rank F] [--quantum Q] [--csv FILE]\n"
    "                    [--frontier-csv FILE] [--png FILE]\n"
    "       phantom-plan --step-profile FILE [--time-bound-ms T] [--frontier-csv FILE] [--png FILE]\n"
    "                    plan a measured step profile (phantom-train --set plan.measure=FILE)\n"
    "Defaults: --profile h100-sxm --ranks 8 --strategies pp,tp,megatron, the deck's k,\n"
    "compression and parallel.data (D replicas of each p ranks).\n"
    "--gpus LIST: for each GPU count G, every D replicas x p model-parallel ranks = G.\n"
    "--compressors (none, int8, int4, int2, fp16, bf16, topk, ae): tp/megatron.\n"
    "--slow-rank F: one rank computes F times slower (a straggler inside replica 0;\n"
    "with D > 1 the other replicas wait for it at the gradient all-reduce).\n"
    "--quantum Q (default 1e-5): plans slower than the fastest step round phase times up\n"
    "to Q x the step while planning (bounded planning cost); 0: exact.\n"
    "--png needs gnuplot (Debian: gnuplot-nox).\n";

struct Arguments {
  std::string deck_path, profile = "h100-sxm", csv, frontier_csv, png, step_profile;
  std::vector<std::string> overrides, strategies{"pp", "tp", "megatron"}, compressors;
  std::vector<int> ranks{8}, gpus;
  bool ranks_given = false;
  std::vector<std::size_t> ghosts;
  double time_bound_s = 0, slow_rank = 1, quantum = 1e-5;
  bool help = false;
};


double number(const std::string& s, const std::string& option, double minimum) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || !(v >= minimum))
    throw phantom::InvalidArgument(option + ": '" + s + "' is not a number >= " +
                                   (std::ostringstream() << minimum).str());
  return v;
}

// A positive integer that fits an int (rank counts, ghost counts).
long count(const std::string& s, const std::string& option) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(s, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || v < 1 || v > std::numeric_limits<int>::max())
    throw phantom::InvalidArgument(option + ": '" + s + "' is not an integer from 1 to " +
                                   std::to_string(std::numeric_limits<int>::max()));
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
    else if (arg == "--set") a.overrides.push_back(value(i, arg));
    else if (arg == "--profile") a.profile = value(i, arg);
    else if (arg == "--csv") a.csv = value(i, arg);
    else if (arg == "--frontier-csv") a.frontier_csv = value(i, arg);
    else if (arg == "--png") a.png = value(i, arg);
    else if (arg == "--step-profile") a.step_profile = value(i, arg);
    else if (arg == "--time-bound-ms") a.time_bound_s = 1e-3 * number(value(i, arg), arg, 0);
    else if (arg == "--slow-rank") a.slow_rank = number(value(i, arg), arg, 1);
    else if (arg == "--quantum") a.quantum = number(value(i, arg), arg, 0);
    else if (arg == "--ranks") {
      a.ranks.clear();
      a.ranks_given = true;
      for (const auto& s : phantom_cli::split_list(value(i, arg))) a.ranks.push_back(int(count(s, arg)));
    } else if (arg == "--gpus") {
      for (const auto& s : phantom_cli::split_list(value(i, arg))) a.gpus.push_back(int(count(s, arg)));
      if (a.gpus.empty()) throw phantom::InvalidArgument("--gpus needs at least one count");
    } else if (arg == "--ghosts") {
      for (const auto& s : phantom_cli::split_list(value(i, arg))) a.ghosts.push_back(std::size_t(count(s, arg)));
    } else if (arg == "--compressors") {
      a.compressors = phantom_cli::split_list(value(i, arg));
      for (const auto& s : a.compressors) phantom::parse_compression_method(s);
    } else if (arg == "--strategies") {
      a.strategies = phantom_cli::split_list(value(i, arg));
      for (const auto& s : a.strategies) phantom::parse_strategy(s);
    } else if (!arg.empty() && arg[0] == '-') {
      throw phantom::InvalidArgument("unknown option " + arg + "\n" + kUsage);
    } else if (a.deck_path.empty()) {
      a.deck_path = arg;
    } else {
      throw phantom::InvalidArgument("more than one deck given: " + a.deck_path + " and " + arg);
    }
  }
  if (a.ranks.empty()) throw phantom::InvalidArgument("--ranks needs at least one count");
  if (a.ranks_given && !a.gpus.empty())
    throw phantom::InvalidArgument("--ranks and --gpus both given: --gpus tries every D x p = G");
  if (!a.step_profile.empty() && (!a.deck_path.empty() || !a.overrides.empty() || !a.csv.empty() ||
                                  a.slow_rank != 1 || !a.compressors.empty() || !a.gpus.empty()))
    throw phantom::InvalidArgument(
        "--step-profile plans the profile file as it is: a deck, --set, --csv, --slow-rank, "
        "--gpus and --compressors do not apply");
  if (a.strategies.empty()) throw phantom::InvalidArgument("--strategies needs at least one");
  return a;
}


// Energies are the whole grid's (D x p ranks), memory one rank's.
void print_candidates(const phantom::plan::Advice& advice, double bound_s) {
  std::printf("%-18s %5s %5s %10s %12s %10s %12s %9s %12s %s\n", "strategy", "D", "p", "step ms",
              "J/step", "MiB/rank", "plan(a) J", "saving", bound_s > 0 ? "plan(b) J" : "", "");
  for (std::size_t i = 0; i < advice.candidates.size(); ++i) {
    const auto& c = advice.candidates[i];
    const double base = c.fastest.baseline_energy_j;
    std::string bounded = bound_s > 0 ? (c.bounded ? "" : "too slow") : "";
    char buf[32];
    if (c.bounded) {
      std::snprintf(buf, sizeof buf, "%.4g", c.bounded->energy_j);
      bounded = buf;
    }
    // The baseline is the planner's: every phase at the top clock, waits included.
    std::printf("%-18s %5d %5d %10.3f %12.4g %10.1f %12.4g %8.2f%% %12s %s%s\n",
                c.label().c_str(), c.replicas(), c.costs.input.ranks,
                1e3 * c.fastest.baseline_time_s, c.fastest.baseline_energy_j,
                c.costs.memory_bytes() / 1048576.0, c.fastest.energy_j,
                base > 0 ? 100 * c.fastest.saving_j / base : 0.0, bounded.c_str(),
                c.fits_memory ? "" : "does not fit in memory ",
                advice.best && *advice.best == i ? "<- least energy" : "");
  }
  for (const auto& s : advice.skipped) std::printf("skipped %s: %s\n", s.what.c_str(), s.why.c_str());
}

// The chosen plan's clock per phase and rank class, phases in step order.
// multiplicity: the real ranks each profile rank stands for (empty: one each);
// whose: "" or which replicas they are in.
void print_clocks(const phantom::plan::StepProfile& prof, const std::vector<int>& multiplicity,
                  const phantom::plan::Plan& plan, const std::string& whose = "") {
  for (std::size_t r = 0; r < prof.ranks(); ++r) {
    if (multiplicity.empty()) {
      std::printf("  clocks of rank %zu:", r);
    } else {
      const int n = multiplicity[r];
      std::printf("  clocks of %s (%d rank%s%s):",
                  prof.ranks() > 1 && r == 0 ? "the slow rank" : "the ranks", n, n == 1 ? "" : "s",
                  whose.c_str());
    }
    int last = -1, shown = 0;
    for (std::size_t s = 0; s < prof.stages(); ++s)
      for (std::size_t ph = 0; ph < prof.phases[r][s].size(); ++ph) {
        const int clock = plan.plan.clock_mhz[r][s][ph];
        if (clock == last) continue;  // print where the clock changes
        std::printf("%s %s %d MHz", shown++ % 3 ? "," : "\n   ", prof.phases[r][s][ph].name.c_str(),
                    clock);
        last = clock;
      }
    std::printf("\n");
  }
}

// --frontier-csv / --png: the whole time-energy frontier (far dearer than
// plans (a) and (b), so only on request).
void write_frontier(const Arguments& args, const phantom::plan::StepProfile& profile,
                    const std::string& title) {
  if (args.frontier_csv.empty() && args.png.empty()) return;
  const auto points = phantom::plan::frontier(profile);
  std::printf("frontier: %zu plans from %.3f ms to %.3f ms\n", points.size(),
              1e3 * points.front().time_s, 1e3 * points.back().time_s);
  const std::string path = args.frontier_csv.empty() ? args.png + ".csv" : args.frontier_csv;
  const char* source = profile.phases.empty() || profile.phases[0].empty() ||
                               profile.phases[0][0].empty()
                           ? "model"
                           : profile.phases[0][0][0].options[0].source.c_str();
  phantom_cli::write_atomically(path, [&](std::ostream& out) {
    out << "time_s,energy_j,source\n";
    for (const auto& pt : points) out << pt.time_s << ',' << pt.energy_j << ',' << source << '\n';
  });
  if (args.png.empty()) return;
  const std::string script = args.png + ".gp";
  phantom_cli::write_atomically(script, [&](std::ostream& out) {
    out << "set terminal pngcairo size 800,500\nset output '" << args.png << "'\n"
        << "set datafile separator ','\nset key off\nset grid\n"
        << "set xlabel 'step time (ms)'\nset ylabel 'energy per step (J, " << source << ")'\n"
        << "set title 'Time-energy frontier: " << title << "'\n"
        << "plot '" << path << "' every ::1 using ($1*1000):2 with linespoints pt 7\n";
  });
  const std::string cmd = "gnuplot '" + script + "'";
  if (std::system(cmd.c_str()) != 0)
    throw phantom::Error("--png: '" + cmd + "' failed (is gnuplot installed? Debian: gnuplot-nox)");
  std::remove(script.c_str());
  if (args.frontier_csv.empty()) std::remove(path.c_str());
}

// --step-profile: plan (a), and (b) within --time-bound-ms, on a profile file.
void run_step_profile(const Arguments& args) {
  const auto profile = phantom::plan::read_step_profile(args.step_profile);
  const std::string source = profile.phases[0][0].empty() ? "?" : profile.phases[0][0][0].options[0].source;
  std::printf("phantom-plan on %s (%zu ranks, %zu stages; options from '%s')\n",
              args.step_profile.c_str(), profile.ranks(), profile.stages(), source.c_str());
  const auto a = phantom::plan::plan_fastest(profile);
  const auto report = [](const char* what, const phantom::plan::Plan& p) {
    std::printf("%s: %.3f ms and %.4g J per step at its clocks; all at the top clock %.3f ms and "
                "%.4g J; saving %.4g J (%.2f%%) over %.3f ms\n",
                what, 1e3 * p.plan.time_s, p.plan.energy_j, 1e3 * p.baseline.time_s,
                p.baseline.energy_j, p.saving_j,
                p.baseline_energy_j > 0 ? 100 * p.saving_j / p.baseline_energy_j : 0.0,
                1e3 * p.window_s);
  };
  report("plan (a), fastest step", a);
  const phantom::plan::Plan* chosen = &a;
  phantom::plan::Plan b;
  if (args.time_bound_s > 0) {
    b = phantom::plan::plan_for_deadline(profile, args.time_bound_s);
    report("plan (b), within the bound", b);
    chosen = &b;
  }
  print_clocks(profile, {}, *chosen);
  write_frontier(args, profile, args.step_profile);
}

void run(const Arguments& args) {
  const phantom::Deck deck =
      args.deck_path.empty()
          ? phantom::parse_deck(phantom_train::kDefaultDeck, "default deck", args.overrides)
          : phantom::load_deck(args.deck_path, args.overrides);
  phantom::plan::AdvisorInput in;
  in.network = phantom::run::cost_input(deck);
  in.device = phantom::cost::load_profile(args.profile);
  in.strategies.clear();
  for (const auto& s : args.strategies) in.strategies.push_back(phantom::parse_strategy(s));
  in.ghosts = args.ghosts;
  in.compressions = phantom::run::compression_variants(deck, args.compressors);
  in.ranks = args.ranks;
  in.gpus = args.gpus;
  in.quantum_fraction = args.quantum;
  in.time_bound_s = args.time_bound_s;
  in.slow_rank_factor = args.slow_rank;
  const auto advice = phantom::plan::advise(in);

  std::printf("phantom-plan (modelled: cost model + clock model, docs/energy.md)\n");
  std::printf("profile %s: %s\n", in.device.name.c_str(), in.device.description.c_str());
  if (in.device.clocks_mhz.empty())
    std::printf("  this profile has no controllable clock: plans keep the clock as it is\n");
  if (args.slow_rank > 1)
    std::printf("one rank computes %.3gx slower (with D > 1 replicas: in replica 0)\n",
                args.slow_rank);
  print_candidates(advice, args.time_bound_s);
  if (!advice.best) {
    std::printf("no candidate fits the memory%s\n", args.time_bound_s > 0 ? " and the time bound" : "");
  } else {
    const auto& c = advice.candidates[*advice.best];
    const auto& plan = c.bounded ? *c.bounded : c.fastest;
    const std::string shape = c.replicas() > 1 ? std::to_string(c.replicas()) + " x " +
                                                     std::to_string(c.costs.input.ranks) + " ranks"
                                               : std::to_string(c.costs.input.ranks) + " ranks";
    std::printf(
        "least energy: %s on %s, %.3f ms and %.4g J per step at its planned clocks "
        "(all at the top clock: %.3f ms, %.4g J; saving %.4g J = %.2f%% over %.3f ms, model)\n",
        c.label().c_str(), shape.c_str(), 1e3 * plan.time_s, plan.energy_j,
        1e3 * plan.baseline_time_s, plan.baseline_energy_j, plan.saving_j,
        plan.baseline_window_energy_j > 0 ? 100 * plan.saving_j / plan.baseline_window_energy_j
                                          : 0.0,
        1e3 * plan.window_s);
    if (!plan.others) {
      print_clocks(c.profile.profile, c.profile.multiplicity, plan.pace);
    } else {
      print_clocks(c.profile.profile, c.profile.multiplicity, plan.pace, " of replica 0");
      print_clocks(c.other_replicas().profile, c.other_replicas().multiplicity, *plan.others,
                   c.replicas() == 2 ? " of the other replica"
                                     : " of each of the other " +
                                           std::to_string(c.replicas() - 1) + " replicas");
    }
    write_frontier(args, c.profile.profile,
                   c.label() + (c.replicas() > 1 ? ", replica 0," : "") + " on " +
                       std::to_string(c.costs.input.ranks) + " x " + in.device.name);
  }
  if (!args.csv.empty())
    phantom_cli::write_atomically(args.csv, [&](std::ostream& out) {
      out << "profile,strategy,ghost,compression,ranks,data_parallel,gpus,step_s,energy_j,"
             "memory_bytes,fits_memory,"
             "plan_a_time_s,plan_a_energy_j,plan_a_saving_j,plan_b_time_s,plan_b_energy_j,"
             "plan_b_saving_j,"
             "least_energy,source\n";
      for (std::size_t i = 0; i < advice.candidates.size(); ++i) {
        const auto& c = advice.candidates[i];
        out << in.device.name << ',' << phantom::to_string(c.costs.input.strategy) << ','
            << (c.costs.input.strategy == phantom::Strategy::pp ? std::to_string(c.costs.input.ghost) : "")
            << ',' << (c.costs.input.compression.enabled() ? c.label() : std::string("none"))
            << ',' << c.costs.input.ranks << ',' << c.replicas() << ',' << c.gpus() << ','
            << c.fastest.baseline_time_s << ',' << c.fastest.baseline_energy_j << ','
            << c.costs.memory_bytes() << ',' << c.fits_memory << ',' << c.fastest.time_s << ','
            << c.fastest.energy_j << ',' << c.fastest.saving_j << ',';
        if (c.bounded)
          out << c.bounded->time_s << ',' << c.bounded->energy_j << ',' << c.bounded->saving_j;
        else
          out << ",,";
        out << ',' << (advice.best && *advice.best == i) << ",model\n";
      }
    });
}

}  // namespace

// No MPI and no Kokkos: the advisor is arithmetic on the cost model.
int main(int argc, char** argv) {
  try {
    const Arguments args = parse_arguments(argc, argv);
    if (args.help)
      std::fputs(kUsage, stdout);
    else if (!args.step_profile.empty())
      run_step_profile(args);
    else
      run(args);
  } catch (const phantom::InvalidArgument& e) {
    std::fprintf(stderr, "phantom-plan: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "phantom-plan: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
