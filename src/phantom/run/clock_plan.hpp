// The modelled clock plan of a run (plan.profile, docs/phantom-plan.md) and,
// with plan.apply, its application through NVML locked clocks
// (phantom/plan/clock_controller.hpp).
//
// Applying: the phases are recognised from the profiling regions
// (phase_tracker.hpp); what runs between steps is unplanned and runs at the
// driver's default clocks. Without permission to lock clocks the controller
// reports the plan instead (its message says why); the clocks are reset at the
// end, on any error (destructor) and on SIGINT/SIGTERM (ClockSignalGuard).
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "phantom/energy/nvml_library.hpp"
#include "phantom/plan/advisor.hpp"
#include "phantom/plan/clock_controller.hpp"
#include "phantom/run/deck_config.hpp"
#include "phantom/run/phase_tracker.hpp"
#include "phantom/run/planned_clocks.hpp"

namespace phantom::run {

// Plan (a), or plan (b) within plan.time_bound_ms, for this run's network
// (with parallel.data = D: all D replicas, grid_plan.hpp).
struct ClockPlan {
  phantom::plan::Candidate candidate;
  phantom::plan::GridPlan chosen;
  std::string profile_name;
  PlannedClocks summary() const {
    return {profile_name,           chosen.time_s,            chosen.energy_j,
            chosen.baseline_time_s, chosen.baseline_energy_j, chosen.saving_j};
  }
};

inline ClockPlan make_clock_plan(const phantom::Deck& deck, int world_ranks) {
  phantom::plan::AdvisorInput in;
  in.network = phantom::run::cost_input(deck, world_ranks);
  in.device = phantom::cost::load_profile(deck.plan.profile);
  in.strategies = {in.network.strategy};
  in.ghosts = {in.network.ghost};
  in.ranks = {in.network.ranks};  // the model-parallel size
  in.slow_rank_factor = deck.plan.slow_rank;
  in.time_bound_s = 1e-3 * deck.plan.time_bound_ms;
  auto advice = phantom::plan::advise(in);
  if (advice.candidates.empty())
    throw phantom::DeckError("plan.profile: " + advice.skipped.front().why);
  ClockPlan p{std::move(advice.candidates.front()), {}, in.device.name};
  const auto& c = p.candidate;
  if (in.time_bound_s > 0 && !c.bounded)
    throw phantom::DeckError("plan.time_bound_ms = " + std::to_string(deck.plan.time_bound_ms) +
                             " is below the fastest modelled step on " + deck.plan.profile + " (" +
                             std::to_string(1e3 * c.fastest.time_s) + " ms)");
  if (deck.plan.apply && in.device.clocks_mhz.empty())
    throw phantom::DeckError("plan.apply: profile '" + deck.plan.profile +
                             "' has no GPU clocks to set");
  p.chosen = c.bounded ? *c.bounded : c.fastest;
  return p;
}

// plan.apply: this rank's schedule, applied phase by phase (phase_tracker.hpp).
class AppliedClocks {
 public:
  // world_rank picks this rank's schedule: ranks 0 .. p-1 are replica 0, the
  // others follow the other replicas' plan; with plan.slow_rank > 1 rank 0 is
  // the slow one (its profile's rank 0), its replica's others share profile
  // rank 1.
  AppliedClocks(const ClockPlan& plan, int world_rank, unsigned device_index, std::size_t layers,
                const std::string& nvml_library)
      : tracker_(layers, [this](const std::string& phase) { controller_->enter_phase(phase); }) {
    const int p = plan.candidate.costs.input.ranks;
    const bool replica0 = world_rank < p || !plan.chosen.others;
    const auto& mp = replica0 ? plan.candidate.profile : plan.candidate.other_replicas();
    const auto& chosen = replica0 ? plan.chosen.pace : *plan.chosen.others;
    const std::size_t profile_rank = mp.profile.ranks() > 1 && world_rank % p > 0 ? 1 : 0;
    auto schedule = phantom::plan::rank_clock_schedule(mp.profile, chosen, profile_rank);
    controller_ = std::make_unique<phantom::plan::ClockController>(nvml_library, device_index,
                                                                   std::move(schedule));
  }

  void begin_step() { tracker_.begin_step(); }
  void end_step() {
    tracker_.end_step();
    controller_->enter_phase("between steps");  // unplanned: the driver's default clocks
  }
  void finish() { controller_->reset(); }
  const phantom::plan::ClockController& controller() const { return *controller_; }

 private:
  PhaseTracker tracker_;
  std::unique_ptr<phantom::plan::ClockController> controller_;
};

}  // namespace phantom::run
