#include "phantom/plan/grid_plan.hpp"

#include <algorithm>
#include <string>

#include "phantom/core/error.hpp"

namespace phantom::plan {
namespace {

// A replica's step energy stretched to `until` (it idles after its step).
double stretched(const PlanPoint& p, double idle_watts, double until) {
  return p.energy_j + idle_watts * (until - p.time_s);
}

}  // namespace

GridPlan plan_grid(const StepProfile& replica0, const StepProfile& others, int replicas,
                   double deadline_s, const PlannerOptions& options) {
  if (replicas < 1)
    throw InvalidArgument("plan_grid: replicas must be >= 1, got " + std::to_string(replicas));
  GridPlan g;
  g.replicas = replicas;
  // The grid's fastest step: the slowest replica's fastest.
  const Plan fastest0 = plan_fastest(replica0, options);
  double pace = fastest0.plan.time_s;
  // Replicas alike (one profile object for all) are planned once.
  const bool alike = &others == &replica0;
  std::optional<Plan> fastest_others;
  if (replicas > 1) {
    fastest_others = alike ? fastest0 : plan_fastest(others, options);
    pace = std::max(pace, fastest_others->plan.time_s);
  }
  if (deadline_s > 0 && deadline_s < pace - options.tolerance.time_s)
    throw InvalidArgument("plan_grid: deadline " + std::to_string(deadline_s) +
                          " s is below the fastest step of the replicas, " + std::to_string(pace) +
                          " s");
  const double T = deadline_s > 0 ? deadline_s : pace;
  g.pace = T > fastest0.plan.time_s ? plan_for_deadline(replica0, T, options) : fastest0;
  if (replicas > 1)
    g.others = alike                             ? g.pace
               : T > fastest_others->plan.time_s ? plan_for_deadline(others, T, options)
                                                 : *fastest_others;

  const double idle0 = replica0.idle_watts(), idle_others = others.idle_watts();
  const double n = double(replicas - 1);
  g.time_s = g.pace.plan.time_s;
  g.baseline_time_s = g.pace.baseline.time_s;
  if (g.others) {
    g.time_s = std::max(g.time_s, g.others->plan.time_s);
    g.baseline_time_s = std::max(g.baseline_time_s, g.others->baseline.time_s);
  }
  const auto grid_energy = [&](const PlanPoint& p0, const PlanPoint* po, double until) {
    double e = stretched(p0, idle0, until);
    if (po) e += n * stretched(*po, idle_others, until);
    return e;
  };
  const PlanPoint* op = g.others ? &g.others->plan : nullptr;
  const PlanPoint* ob = g.others ? &g.others->baseline : nullptr;
  g.energy_j = grid_energy(g.pace.plan, op, g.time_s);
  g.baseline_energy_j = grid_energy(g.pace.baseline, ob, g.baseline_time_s);
  g.window_s = std::max({g.time_s, g.baseline_time_s, deadline_s});
  g.window_energy_j = grid_energy(g.pace.plan, op, g.window_s);
  g.baseline_window_energy_j = grid_energy(g.pace.baseline, ob, g.window_s);
  g.saving_j = g.baseline_window_energy_j - g.window_energy_j;
  return g;
}

}  // namespace phantom::plan
