// Clock plans for D replicas of one model-parallel group (data parallelism).
//
// The replicas meet once a step, at the gradient all-reduce; between two of
// them each replica runs its own chain of stages (its step profile,
// model_profile.hpp, the all-reduce's transfer included). So the grid's step
// is a fork-join of the replicas' chains: it takes T = the slowest replica's
// step time, and a replica that is done early waits at the all-reduce drawing
// its idle power. For a step time T each replica independently takes its
// least-energy plan within T (plan_for_deadline): exact, for the reason the
// planner's fork-join over ranks is (energy above idle is additive over
// replicas, the only coupling is each replica's time <= T; planner.hpp).
//
// Perseus' extrinsic bloat on this structure: when replica 0 straggles (it
// holds the slow rank of model_profile.hpp), the grid's fastest step is
// replica 0's fastest, and plan (a) slows the other replicas' phases to that
// step instead of letting them idle at the all-reduce. Plan (b), within a
// bound T at least that long, gives every replica T. Identical replicas are
// planned once and counted D - 1 times (as identical ranks are folded).
#pragma once

#include <optional>

#include "phantom/plan/planner.hpp"
#include "phantom/plan/step_profile.hpp"

namespace phantom::plan {

struct GridPlan {
  int replicas = 1;
  Plan pace;                   // replica 0: it sets the step time
  std::optional<Plan> others;  // each of the other D - 1 replicas (D > 1)
  // The whole grid, all D replicas, waits at the all-reduce included:
  double time_s = 0, energy_j = 0;                    // the step at the planned clocks
  double baseline_time_s = 0, baseline_energy_j = 0;  // every phase at the top clock
  // Both over the common window (the slower step, or the bound), each
  // replica drawing idle power after its step; saving = their difference.
  double window_s = 0, window_energy_j = 0, baseline_window_energy_j = 0, saving_j = 0;
};

// replica0: replica 0's profile; others: each other replica's (the same
// network; they differ only by the slow rank; pass replica0 itself when no
// rank is slow, and it is planned once). deadline_s = 0: plan (a), the
// least energy at the grid's fastest step; > 0: plan (b) within it. Throws
// InvalidArgument for replicas < 1, or a deadline below the grid's fastest
// step time.
GridPlan plan_grid(const StepProfile& replica0, const StepProfile& others, int replicas,
                   double deadline_s = 0, const PlannerOptions& options = {});

}  // namespace phantom::plan
