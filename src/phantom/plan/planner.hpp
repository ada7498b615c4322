// The energy planner (Perseus, Chung et al., SOSP 2024): work off a step's
// critical path can run at a lower GPU clock without slowing the step. Given a
// StepProfile it computes, exactly, every clock assignment worth running: the
// time-energy Pareto frontier of the step.
//
// Model. A plan x picks one clock per (rank, stage, phase). Stage s takes
// T_s = max_r tau_rs, tau_rs the sum of rank r's phase times in s; rank r then
// waits T_s - tau_rs at the collective drawing its idle power P_r. The step
// takes T = sum_s T_s and uses
//   E = sum over phases of e  +  sum_{r,s} P_r (T_s - tau_rs)
//     = P T  +  sum over phases (e - P_r t),          P = sum_r P_r.
// So E - P T (the energy above idle, "excess") is additive over phases and
// independent of who waits. Two plans are compared over the same wall-clock
// window: a plan that finishes early idles until the other finishes. Plan y is
// then no worse than x iff T_y <= T_x and E_y + P (T_x - T_y) <= E_x, i.e.
// iff it is no slower and its excess is no larger. The frontier is the
// plans no other plan beats in that sense: sorted by time, the excess falls
// strictly, so less time never costs less energy over a common window. (The
// step energy E alone can rise along it: a slower plan can spend more in the
// step and still less than a faster one that then idles. With P = 0 the two
// coincide.) Comparing E alone would be wrong here: a phase option that is
// slower and dearer than another can still be the better one, because the
// faster option's rank would spend the difference idling.
//
// Method: exact composition over a series-parallel graph. A step whose every
// collective spans the whole group is a chain of stages, each a fork-join of
// per-rank phase chains: series-parallel. Per phase the options are reduced to
// their Pareto set in (time, excess); a rank's stage frontier is the pruned
// Minkowski sum of its phases' sets (pareto.hpp: series); a stage's frontier
// is the fork-join (pareto.hpp: parallel): for each candidate stage time T,
// each rank independently takes its cheapest point no slower than T; the step
// frontier is the pruned Minkowski sum of the stages' frontiers. Exactness, by
// induction on the series-parallel structure: (1) series: time and excess add,
// so a combination using a dominated part is dominated by the same
// combination with the dominating part: the Pareto set of a sum is inside the
// sum of the Pareto sets; (2) fork-join: for a stage time T the ranks'
// choices are independent (excess is additive, the only coupling is
// tau_rs <= T), so per-rank minimisation is optimal at each T, and the
// optimum only changes when T reaches some rank's frontier time, so those
// times are the only candidates. Nothing is approximated; floating-point
// comparisons use Tolerance (pareto.hpp).
//
// Why not Phillips-Dessouky (Perseus's min-cut method): it solves the
// time-cost trade-off on a general DAG, one min cut per unit of step time, and
// Perseus runs it on time quantised into small units, so its frontier is
// exact only up to the quantum. On a series-parallel graph composition is
// exact over the discrete clocks themselves, and simpler.
//
// Cost. The series step is quadratic in frontier sizes (pairs are pruned as
// they are formed, so memory is not), and exact frontiers of measured
// profiles grow large: a little noise makes most combinations Pareto-optimal
// (8 ranks x 4 stages x 4 phases x 20 clocks: 38,042 step points). Two
// things keep the answers users ask for cheap. (1) A deadline caps every
// partial chain (a stage gets at most the deadline less the other stages'
// fastest times), exactly; plan_fastest is the tightest deadline and takes
// milliseconds to a fraction of a second where the full frontier takes
// seconds. (2) PlannerOptions::time_quantum_s rounds every phase time up to a
// multiple of the quantum while planning, as Perseus does, bounding frontier
// sizes by span / quantum; a plan's real time is then at most its planned
// time, and reported times and energies are always the real ones.
// docs/energy.md ("Planner") has measurements.
//
// Scope: collectives over the whole group only. Replicas of a group that
// meet once a step (data parallelism) are a fork-join of such steps:
// grid_plan.hpp. Collectives over other overlapping subgroups make general
// DAGs; they need Phillips-Dessouky, are outside this planner, and
// StepProfile cannot express them.
#pragma once

#include <vector>

#include "phantom/plan/pareto.hpp"
#include "phantom/plan/step_profile.hpp"

namespace phantom::plan {

struct PlannerOptions {
  Tolerance tolerance;
  // 0: exact. > 0: phase times are rounded up to multiples of this (seconds)
  // while planning, bounding every frontier by (span / quantum) points; plans
  // then meet their deadline but may use a little more energy than the exact
  // ones. plan_fastest ignores it.
  double time_quantum_s = 0;
};

// clock_mhz[rank][stage][phase]: the clock each phase runs at.
using Assignment = std::vector<std::vector<std::vector<int>>>;

// One plan: its step time and step energy (all ranks, waits at collectives
// included, nothing after the step), and its clocks.
struct PlanPoint {
  double time_s = 0;
  double energy_j = 0;
  Assignment clock_mhz;
};

// The step time and energy of an assignment (the model above). Throws
// InvalidArgument if its shape differs from the profile's or a clock is not
// one of the phase's options.
PlanPoint evaluate(const StepProfile& profile, const Assignment& clock_mhz);

// Every phase at its highest clock: today's default and the baseline.
Assignment max_clock_assignment(const StepProfile& profile);

// The frontier, fastest first: times strictly increasing, and for consecutive
// points i < j, energy_i + P (time_j - time_i) > energy_j (beyond tolerance).
std::vector<PlanPoint> frontier(const StepProfile& profile, const PlannerOptions& options = {});

// A chosen plan against the all-max-clock baseline. Both energies are over
// the window [0, window_s], window_s = max(plan time or deadline, baseline
// time), each plan's ranks drawing idle power after its step ends.
struct Plan {
  PlanPoint plan;
  PlanPoint baseline;
  double window_s = 0;
  double energy_j = 0;           // the plan over the window
  double baseline_energy_j = 0;  // the baseline over the window
  double saving_j = 0;           // baseline_energy_j - energy_j
};

// (a) Intrinsic bloat: the least energy at the fastest step time, i.e. slow
// down what is not critical. Normally the fastest time is the baseline's; if
// the profile has a lower clock faster than the highest (measurement noise),
// the plan is faster than the baseline. Always exact (no quantum).
Plan plan_fastest(const StepProfile& profile, const PlannerOptions& options = {});

// (b) Extrinsic bloat: the least energy when the step may take deadline_s
// (e.g. a straggler elsewhere sets the pace): the slowest frontier plan that
// fits, energy counted over the whole deadline (Plan::energy_j; the plan's
// own step energy is Plan::plan.energy_j). Throws InvalidArgument if
// deadline_s is below the fastest possible step time.
Plan plan_for_deadline(const StepProfile& profile, double deadline_s,
                       const PlannerOptions& options = {});

}  // namespace phantom::plan
