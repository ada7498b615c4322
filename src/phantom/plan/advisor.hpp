// The advisor behind phantom-plan: for a network, a device profile and the
// candidate strategies, ghost counts and rank counts (or GPU counts, as
// D replicas x p model-parallel ranks), predicts each candidate's step time,
// energy per step and memory per rank with the cost model, plans its GPU
// clocks (planner.hpp on model_profile.hpp's profile; D replicas:
// grid_plan.hpp), and picks the candidate with the least energy per step whose
// step time fits the bound. Everything it returns is modelled.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phantom/cost/device_profile.hpp"
#include "phantom/cost/network_costs.hpp"
#include "phantom/cost/step_time.hpp"
#include "phantom/plan/grid_plan.hpp"
#include "phantom/plan/model_profile.hpp"

namespace phantom::plan {

struct AdvisorInput {
  // Strategy, ghost and ranks (with `gpus`, data_parallel too) are set per
  // candidate; network.data_parallel replicas of each model-parallel group.
  cost::CostInput network;
  cost::DeviceProfile device;
  std::vector<Strategy> strategies{Strategy::pp, Strategy::tp, Strategy::megatron};
  std::vector<std::size_t> ghosts{16};
  std::vector<int> ranks{1};  // model-parallel sizes p
  // GPU counts G: when not empty, every shape D x p = G (p dividing G) is a
  // candidate, instead of `ranks` with the network's D.
  std::vector<int> gpus;
  // Compressors tried for tp and megatron (docs/compression.md); empty: the
  // network's own. pp and dense never compress.
  std::vector<CompressionConfig> compressions;
  double time_bound_s = 0;       // 0: no bound
  double slow_rank_factor = 1;   // one rank's compute that much slower (rank 0 of replica 0)
  // Plans slower than a candidate's fastest step (plan (b), and with D > 1 the
  // replicas that wait for replica 0) round phase times up to this fraction
  // of that step while planning (planner.hpp: time_quantum_s): their frontiers
  // grow with the slack, and large groups take minutes exactly. 0: exact.
  double quantum_fraction = 0;
  ClockModel clocks;
};

struct Candidate {
  cost::NetworkCosts costs;
  cost::StepPrediction top_clock;  // every phase at the highest clock
  ModelProfile profile;            // replica 0's (the slow rank's)
  ModelProfile others;             // each other replica's (D > 1 with a slow rank)
  GridPlan fastest;                // plan (a): least energy at the fastest step time
  std::optional<GridPlan> bounded; // plan (b) at the time bound, when it is reachable
  bool fits_memory = true;
  // The energy per step this candidate is ranked by: plan (b)'s step energy
  // within a bound, else plan (a)'s.
  double ranked_energy_j() const;
  double ranked_time_s() const;
  bool feasible(double bound_s) const;
  std::string label() const;  // "pp k=16", "tp", "tp+int8", "pp k=16 D=4", ...
  int replicas() const { return costs.input.data_parallel; }
  // The profile of every replica but 0: replica 0's when no rank is slow.
  const ModelProfile& other_replicas() const {
    return others.profile.ranks() > 0 ? others : profile;
  }
  int gpus() const { return costs.input.ranks * costs.input.data_parallel; }
};

struct Skipped {
  std::string what, why;
};

struct Advice {
  std::vector<Candidate> candidates;
  std::vector<Skipped> skipped;
  // Index into candidates of the least-energy feasible one; none if no
  // candidate fits the memory and the bound.
  std::optional<std::size_t> best;
};

Advice advise(const AdvisorInput& input);

}  // namespace phantom::plan
