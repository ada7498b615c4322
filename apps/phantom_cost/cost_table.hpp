// The rows phantom-cost prints: one per (strategy, k, p) of the sweep, each
// the cost model's figures for the deck's network on a device profile.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "phantom/run/deck_config.hpp"
#include "phantom/cost/step_time.hpp"
#include "phantom/io/deck.hpp"

namespace phantom_cost {

struct Sweep {
  std::vector<std::string> strategies;  // empty: the deck's
  std::vector<int> ranks{1};
  std::vector<std::size_t> ghosts;      // empty: the deck's
  std::vector<std::string> compressors;  // tp/megatron; empty: the deck's
};

struct Row {
  phantom::cost::NetworkCosts costs;
  phantom::cost::StepPrediction time;
};

struct Skipped {
  std::string what, why;
};

inline std::vector<Row> evaluate(const phantom::Deck& deck, const Sweep& sweep,
                                 const phantom::cost::DeviceProfile& profile,
                                 std::vector<Skipped>& skipped) {
  const auto base = phantom::run::cost_input(deck);
  std::vector<phantom::Strategy> strategies;
  for (const auto& name : sweep.strategies) strategies.push_back(phantom::parse_strategy(name));
  if (strategies.empty()) strategies.push_back(base.strategy);
  std::vector<Row> rows;
  for (const auto& in : phantom::cost::sweep_inputs(
           base, strategies, sweep.ghosts,
           phantom::run::compression_variants(deck, sweep.compressors), sweep.ranks)) {
    try {
      Row r{phantom::cost::network_costs(in), {}};
      r.time = phantom::cost::predict_step(r.costs, profile);
      rows.push_back(r);
    } catch (const phantom::InvalidArgument& e) {
      skipped.push_back({phantom::cost::label(in) + " p=" + std::to_string(in.ranks), e.what()});
    }
  }
  return rows;
}

inline std::string label(const Row& r) { return phantom::cost::label(r.costs.input); }

inline void print_table(const std::vector<Row>& rows, const phantom::cost::DeviceProfile& profile) {
  std::printf("profile %s: %s\n  source: %s\n", profile.name.c_str(), profile.description.c_str(),
              profile.source.c_str());
  std::printf("%-16s %5s %13s %11s %10s %10s %11s %9s %9s %9s %10s %11s\n", "strategy", "p",
              "params", "params/rank", "MiB/rank", "GFLOP/rk", "bytes/rank", "gemm ms", "mem ms",
              "comm ms", "step ms", "J/step(mod)");
  for (const auto& r : rows) {
    const auto& c = r.costs;
    std::printf("%-16s %5d %13.0f %11.0f %10.2f %10.4f %11.0f %9.3f %9.3f %9.3f %10.3f %11.4g%s\n",
                label(r).c_str(), c.input.ranks, c.parameters_global, c.parameters_rank,
                c.memory_bytes() / 1048576.0, c.flops / 1e9, c.bytes, 1e3 * r.time.gemm_s,
                1e3 * r.time.memory_s, 1e3 * r.time.comm_s, 1e3 * r.time.step_s(),
                r.time.energy_j, r.time.fits_memory ? "" : "  (does not fit in memory)");
  }
}

inline const char* kCsvHeader =
    "profile,strategy,ghost,compression,ranks,width,depth,batch,parameters,parameters_per_rank,"
    "weight_bytes,gradient_bytes,optimizer_bytes,activation_bytes,memory_bytes,flops_per_step,"
    "bytes_per_step,gemm_s,memory_s,comm_s,step_s,energy_j,energy_source,fits_memory,"
    "data_parallel,data_parallel_bytes,data_parallel_s";

inline void write_csv_row(std::ostream& out, const Row& r, const std::string& profile) {
  const auto& c = r.costs;
  const bool pp = c.input.strategy == phantom::Strategy::pp;
  out << profile << ',' << phantom::to_string(c.input.strategy) << ','
      << (pp ? std::to_string(c.input.ghost) : std::string()) << ','
      << (c.input.compression.enabled() ? phantom::cost::label(c.input) : std::string("none")) << ','
      << c.input.ranks << ','
      << c.input.width << ',' << c.input.depth << ',' << c.input.batch << ','
      << c.parameters_global << ',' << c.parameters_rank << ',' << c.weight_bytes << ','
      << c.gradient_bytes << ',' << c.optimizer_bytes << ',' << c.activation_bytes << ','
      << c.memory_bytes() << ',' << c.flops << ',' << c.bytes << ',' << r.time.gemm_s << ','
      << r.time.memory_s << ',' << r.time.comm_s << ',' << r.time.step_s() << ','
      << r.time.energy_j << ",model," << (r.time.fits_memory ? 1 : 0) << ','
      << c.input.data_parallel << ',' << c.data_parallel_bytes << ',' << r.time.data_parallel_s
      << '\n';
}

}  // namespace phantom_cost
