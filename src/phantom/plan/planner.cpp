#include "phantom/plan/planner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "phantom/core/error.hpp"

namespace phantom::plan {
namespace {

std::string seconds(double t) {
  std::ostringstream os;
  os << t << " s";
  return os.str();
}

// All the composition computed, kept so that each step frontier point can be
// read back as one clock per (rank, stage, phase).
struct Composition {
  // chains[r][s][k]: rank r's Pareto set in stage s over its first k phases
  // (k = 0: the empty chain); a = index at k - 1, b = option index of phase k - 1.
  std::vector<std::vector<std::vector<std::vector<ParetoPoint>>>> chains;
  // stages[s]: the stage's Pareto set; time = stage time (ranks: best_within).
  std::vector<std::vector<ParetoPoint>> stages;
  // steps[s]: the Pareto set of stages 0..s-1; a = index in steps[s - 1],
  // b = index in stages[s - 1].
  std::vector<std::vector<ParetoPoint>> steps;
};

// The phase time the planner works with: the real one, or rounded up to the
// quantum (less a hair, so round-off cannot push an exact multiple up one).
double planned_time(double t, double quantum) {
  if (quantum <= 0) return t;
  return std::max(0.0, std::ceil(t / quantum - 1e-9)) * quantum;
}

void check_options(const PlannerOptions& o) {
  const auto bad = [](double v) { return !std::isfinite(v) || v < 0; };
  if (bad(o.tolerance.time_s) || bad(o.tolerance.energy_j))
    throw InvalidArgument("planner: tolerances must be finite and >= 0 (time " +
                          seconds(o.tolerance.time_s) + ", energy " +
                          std::to_string(o.tolerance.energy_j) + " J)");
  if (bad(o.time_quantum_s))
    throw InvalidArgument("planner: time_quantum_s must be finite and >= 0, got " +
                          seconds(o.time_quantum_s));
}

// The fastest each stage can run: its slowest rank with every phase at its
// fastest option.
std::vector<double> fastest_stage_times(const StepProfile& profile, double quantum) {
  std::vector<double> fastest(profile.stages(), 0.0);
  for (std::size_t s = 0; s < profile.stages(); ++s)
    for (std::size_t r = 0; r < profile.ranks(); ++r) {
      double busy = 0;
      for (const Phase& ph : profile.phases[r][s]) {
        double t = std::numeric_limits<double>::infinity();
        for (const ClockOption& o : ph.options) t = std::min(t, planned_time(o.time_s, quantum));
        busy += t;
      }
      fastest[s] = std::max(fastest[s], busy);
    }
  return fastest;
}

double sum(const std::vector<double>& v) {
  double total = 0;
  for (double x : v) total += x;
  return total;
}

// The chains, the stages and the step frontier up to `deadline` (infinity:
// all of it). Nothing slower can be part of a plan within the deadline: stage
// s gets at most the deadline less the other stages' fastest times, and a
// partial chain only grows, so everything slower is dropped as it is formed
// (exact, and it is what keeps plan_fastest cheap).
Composition compose(const StepProfile& profile, const PlannerOptions& options, double deadline) {
  const Tolerance& tol = options.tolerance;
  const double quantum = options.time_quantum_s;
  const std::vector<double> fastest = fastest_stage_times(profile, quantum);
  // Points within the time tolerance count as equally fast, so each series
  // step may keep a point up to tol.time_s slower than the fastest: a chain of
  // n compositions can drift n tolerances past the sum of the fastest options
  // (seen with phases 1e-10 s apart). The caps allow that drift, so the
  // fastest plan is never cut off by its own deadline.
  std::size_t compositions = profile.stages();
  for (std::size_t r = 0; r < profile.ranks(); ++r) {
    std::size_t n = profile.stages();
    for (const auto& phases : profile.phases[r]) n += phases.size();
    compositions = std::max(compositions, n);
  }
  if (std::isfinite(deadline)) deadline += double(compositions) * tol.time_s;
  std::vector<double> cap(profile.stages(), deadline);
  if (std::isfinite(deadline))
    for (std::size_t s = 0; s < profile.stages(); ++s)
      cap[s] = deadline - (sum(fastest) - fastest[s]);
  Composition c;
  c.chains.resize(profile.ranks());
  for (std::size_t r = 0; r < profile.ranks(); ++r) {
    const double idle = profile.idle[r].watts;
    for (std::size_t s = 0; s < profile.stages(); ++s) {
      const std::vector<Phase>& phases = profile.phases[r][s];
      std::vector<std::vector<ParetoPoint>> levels{{ParetoPoint{}}};
      for (const Phase& ph : phases) {
        // The phase's options as (time, excess) with b = option index.
        std::vector<ParetoPoint> opts;
        for (std::size_t i = 0; i < ph.options.size(); ++i) {
          const double t = planned_time(ph.options[i].time_s, quantum);
          opts.push_back({t, ph.options[i].energy_j - idle * t, 0, i});
        }
        opts = prune(std::move(opts), tol);
        std::vector<ParetoPoint> next = series(levels.back(), opts, tol, cap[s]);
        for (ParetoPoint& p : next) p.b = opts[p.b].b;
        levels.push_back(std::move(next));
      }
      c.chains[r].push_back(std::move(levels));
    }
  }
  c.steps.push_back({ParetoPoint{}});
  for (std::size_t s = 0; s < profile.stages(); ++s) {
    std::vector<std::vector<ParetoPoint>> ranks;
    for (std::size_t r = 0; r < profile.ranks(); ++r) ranks.push_back(c.chains[r][s].back());
    c.stages.push_back(parallel(ranks, tol));
    c.steps.push_back(series(c.steps.back(), c.stages.back(), tol, deadline));
  }
  return c;
}

// Fills a[r][s] for every rank: the clocks behind stage time `stage_time`.
void read_stage(const StepProfile& profile, const Composition& c, std::size_t s, double stage_time,
                const Tolerance& tol, Assignment& a) {
  for (std::size_t r = 0; r < profile.ranks(); ++r) {
    const auto& levels = c.chains[r][s];
    const std::vector<Phase>& phases = profile.phases[r][s];
    a[r][s].resize(phases.size());
    std::size_t k = best_within(levels.back(), stage_time, tol);
    for (std::size_t ph = phases.size(); ph-- > 0;) {
      const ParetoPoint& q = levels[ph + 1][k];
      a[r][s][ph] = phases[ph].options[q.b].clock_mhz;
      k = q.a;
    }
  }
}

Assignment empty_assignment(const StepProfile& profile) {
  return Assignment(profile.ranks(), std::vector<std::vector<int>>(profile.stages()));
}

// The clocks behind point `index` of the step frontier.
Assignment read_back(const StepProfile& profile, const Composition& c, std::size_t index,
                     const Tolerance& tol) {
  Assignment a = empty_assignment(profile);
  for (std::size_t s = profile.stages(); s-- > 0;) {
    const ParetoPoint& p = c.steps[s + 1][index];
    read_stage(profile, c, s, c.stages[s][p.b].time, tol, a);
    index = p.a;
  }
  return a;
}

// evaluate() on a profile already validated.
PlanPoint evaluate_valid(const StepProfile& profile, const Assignment& clock_mhz) {
  if (clock_mhz.size() != profile.ranks())
    throw InvalidArgument("evaluate: the assignment has " + std::to_string(clock_mhz.size()) +
                          " ranks but the profile " + std::to_string(profile.ranks()));
  PlanPoint point{0, 0, clock_mhz};
  for (std::size_t s = 0; s < profile.stages(); ++s) {
    std::vector<double> busy(profile.ranks(), 0.0);
    for (std::size_t r = 0; r < profile.ranks(); ++r) {
      const std::vector<Phase>& phases = profile.phases[r][s];
      if (clock_mhz[r].size() != profile.stages() || clock_mhz[r][s].size() != phases.size())
        throw InvalidArgument("evaluate: the assignment's shape at rank " + std::to_string(r) +
                              " stage " + std::to_string(s) + " differs from the profile's");
      for (std::size_t ph = 0; ph < phases.size(); ++ph) {
        const auto& opts = phases[ph].options;
        const int want = clock_mhz[r][s][ph];
        const auto o = std::find_if(opts.begin(), opts.end(),
                                    [want](const ClockOption& x) { return x.clock_mhz == want; });
        if (o == opts.end())
          throw InvalidArgument("evaluate: rank " + std::to_string(r) + " stage " +
                                std::to_string(s) + " phase '" + phases[ph].name +
                                "' has no clock " + std::to_string(want) + " MHz in the profile");
        busy[r] += o->time_s;
        point.energy_j += o->energy_j;
      }
    }
    const double stage_time = *std::max_element(busy.begin(), busy.end());
    for (std::size_t r = 0; r < profile.ranks(); ++r)
      point.energy_j +=
          profile.idle[r].watts * (stage_time - busy[r]);  // waiting at the collective
    point.time_s += stage_time;
  }
  return point;
}

Plan compare_with_baseline(const StepProfile& profile, PlanPoint chosen, double window_s) {
  Plan plan;
  plan.baseline = evaluate_valid(profile, max_clock_assignment(profile));
  plan.window_s = std::max(window_s, plan.baseline.time_s);
  const double idle = profile.idle_watts();
  plan.energy_j = chosen.energy_j + idle * (plan.window_s - chosen.time_s);
  plan.baseline_energy_j = plan.baseline.energy_j + idle * (plan.window_s - plan.baseline.time_s);
  plan.saving_j = plan.baseline_energy_j - plan.energy_j;
  plan.plan = std::move(chosen);
  return plan;
}

}  // namespace

PlanPoint evaluate(const StepProfile& profile, const Assignment& clock_mhz) {
  profile.validate();
  return evaluate_valid(profile, clock_mhz);
}

Assignment max_clock_assignment(const StepProfile& profile) {
  profile.validate();
  Assignment a(profile.ranks());
  for (std::size_t r = 0; r < profile.ranks(); ++r)
    for (const std::vector<Phase>& phases : profile.phases[r]) {
      a[r].emplace_back();
      for (const Phase& ph : phases)
        a[r].back().push_back(std::max_element(ph.options.begin(), ph.options.end(),
                                               [](const ClockOption& x, const ClockOption& y) {
                                                 return x.clock_mhz < y.clock_mhz;
                                               })
                                  ->clock_mhz);
    }
  return a;
}

std::vector<PlanPoint> frontier(const StepProfile& profile, const PlannerOptions& options) {
  profile.validate();
  check_options(options);
  const Composition c = compose(profile, options, std::numeric_limits<double>::infinity());
  const std::vector<ParetoPoint>& step = c.steps.back();
  // Read every point back and report its real time and energy. Exact planning
  // reproduces the composed values up to round-off; with a quantum the real
  // values can reorder, so the set is pruned once more on them.
  std::vector<PlanPoint> plans;
  std::vector<ParetoPoint> real;
  const double idle = profile.idle_watts();
  for (std::size_t i = 0; i < step.size(); ++i) {
    plans.push_back(evaluate_valid(profile, read_back(profile, c, i, options.tolerance)));
    real.push_back({plans.back().time_s, plans.back().energy_j - idle * plans.back().time_s, i, 0});
  }
  std::vector<PlanPoint> out;
  for (const ParetoPoint& p : prune(std::move(real), options.tolerance))
    out.push_back(std::move(plans[p.a]));
  return out;
}

// The least-energy plan within `deadline` (planned times): the slowest point
// of the step frontier up to it.
PlanPoint best_within_deadline(const StepProfile& profile, const PlannerOptions& options,
                               double deadline) {
  Composition c = compose(profile, options, deadline);
  // compose() let the caps drift by the tolerance of each composition; where
  // phases are as short as the tolerance itself (1 ns), points within it of
  // each other chain and the drift can exceed that allowance, leaving nothing
  // under the caps: then compose without a deadline. Take the slowest point
  // within the deadline itself, or, when the drift pushed even the fastest
  // past it, the fastest.
  if (c.steps.back().empty()) c = compose(profile, options, std::numeric_limits<double>::infinity());
  const std::vector<ParetoPoint>& step = c.steps.back();
  if (step.empty()) throw Error("planner: no plan within " + seconds(deadline) + " (internal)");
  std::size_t last = 0;
  while (last + 1 < step.size() && step[last + 1].time <= deadline + options.tolerance.time_s)
    ++last;
  return evaluate_valid(profile, read_back(profile, c, last, options.tolerance));
}

Plan plan_fastest(const StepProfile& profile, const PlannerOptions& options) {
  profile.validate();
  check_options(options);
  // Always exact: a quantum could lengthen the step, which (a) must not, and
  // with chains capped at each stage's fastest time exact planning is cheap.
  PlannerOptions exact = options;
  exact.time_quantum_s = 0;
  PlanPoint fastest = best_within_deadline(profile, exact, sum(fastest_stage_times(profile, 0)));
  const double time = fastest.time_s;
  return compare_with_baseline(profile, std::move(fastest), time);
}

Plan plan_for_deadline(const StepProfile& profile, double deadline_s,
                       const PlannerOptions& options) {
  profile.validate();
  check_options(options);
  if (!std::isfinite(deadline_s))
    throw InvalidArgument("plan_for_deadline: deadline " + seconds(deadline_s) + " is not finite");
  const double fastest = sum(fastest_stage_times(profile, 0));
  if (deadline_s < fastest - options.tolerance.time_s)
    throw InvalidArgument("plan_for_deadline: deadline " + seconds(deadline_s) +
                          " is below the fastest step time " + seconds(fastest));
  // Planned times are never below real ones, so a plan that fits in planned
  // time fits in real time. A deadline below the quantised fastest time is
  // planned exactly (capped near the fastest time, that is cheap).
  PlannerOptions planning = options;
  if (deadline_s < sum(fastest_stage_times(profile, options.time_quantum_s)))
    planning.time_quantum_s = 0;
  return compare_with_baseline(profile, best_within_deadline(profile, planning, deadline_s),
                               deadline_s);
}

}  // namespace phantom::plan
