// Clock plans for D replicas (grid_plan.hpp) against an independent
// reference: every combination of every replica's clock assignments,
// enumerated on small random profiles (replicas allowed to differ, no
// folding), the grid's step being the slowest replica's and early replicas
// idling. Then the model: a slow rank in one replica lets the other replicas
// slow down; the advisor tries every D x p for a GPU count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <utility>

#include "phantom/core/error.hpp"
#include "phantom/cost/step_time.hpp"
#include "phantom/plan/advisor.hpp"
#include "phantom/plan/grid_plan.hpp"
#include "phantom/plan/model_profile.hpp"

namespace {

using namespace phantom;
using plan::StepProfile;

// A replica of `ranks` ranks and two stages of two phases, each phase with
// three clocks: faster clocks take less time and (mostly) more energy. A
// `slowdown` scales every time (a straggling replica).
StepProfile random_replica(std::mt19937& rng, int ranks, double slowdown) {
  std::uniform_real_distribution<double> u(0.5, 1.5);
  StepProfile p;
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::vector<plan::Phase>> stages(2);
    for (auto& stage : stages)
      for (int ph = 0; ph < 2; ++ph) {
        plan::Phase phase{"phase" + std::to_string(ph), {}};
        const double t = 1e-3 * u(rng) * slowdown, watts = 300 * u(rng);
        for (int clock : {1000, 1500, 2000}) {
          const double f = clock / 2000.0;
          phase.options.push_back(
              {clock, t / f * u(rng) * 0.2 + t / f, watts * f * f * f * t / f, "test"});
        }
        stage.push_back(phase);
      }
    p.phases.push_back(stages);
    p.idle.push_back({60 * u(rng), 2000, "test"});
  }
  p.validate();
  return p;
}

// Every assignment of a profile, evaluated: (time, energy).
std::vector<std::pair<double, double>> all_assignments(const StepProfile& p) {
  std::vector<std::pair<double, double>> out;
  plan::Assignment a = plan::max_clock_assignment(p);
  std::vector<int*> slots;
  std::vector<const plan::Phase*> phases;
  for (std::size_t r = 0; r < p.ranks(); ++r)
    for (std::size_t s = 0; s < p.stages(); ++s)
      for (std::size_t ph = 0; ph < p.phases[r][s].size(); ++ph) {
        slots.push_back(&a[r][s][ph]);
        phases.push_back(&p.phases[r][s][ph]);
      }
  std::function<void(std::size_t)> walk = [&](std::size_t i) {
    if (i == slots.size()) {
      const auto pt = plan::evaluate(p, a);
      out.push_back({pt.time_s, pt.energy_j});
      return;
    }
    for (const auto& o : phases[i]->options) {
      *slots[i] = o.clock_mhz;
      walk(i + 1);
    }
  };
  walk(0);
  return out;
}

// The least energy of `replicas` replicas (replica 0: `slow`, the others
// `fast`, each free to choose its own assignment) whose step fits in
// `deadline` (0: the fastest the grid can go), over the window of that
// deadline; and that window.
std::pair<double, double> reference(const StepProfile& slow, const StepProfile& fast, int replicas,
                                    double deadline) {
  const auto s = all_assignments(slow), f = all_assignments(fast);
  auto fastest = [](const std::vector<std::pair<double, double>>& v) {
    double t = std::numeric_limits<double>::infinity();
    for (const auto& x : v) t = std::min(t, x.first);
    return t;
  };
  const double T = deadline > 0 ? deadline : std::max(fastest(s), replicas > 1 ? fastest(f) : 0.0);
  // Best over [0, T] of one replica's choices that fit.
  auto best = [T](const std::vector<std::pair<double, double>>& v, double idle) {
    double e = std::numeric_limits<double>::infinity();
    for (const auto& [t, energy] : v)
      if (t <= T + 1e-9) e = std::min(e, energy + idle * (T - t));
    return e;
  };
  double e = best(s, slow.idle_watts());
  // Enumerate pairs for two fast replicas too: their choices are independent.
  if (replicas > 1) {
    const double one = best(f, fast.idle_watts());
    double pair = std::numeric_limits<double>::infinity();
    if (replicas > 2)
      for (const auto& [t1, e1] : f)
        for (const auto& [t2, e2] : f)
          if (t1 <= T + 1e-9 && t2 <= T + 1e-9)
            pair = std::min(pair, e1 + e2 + fast.idle_watts() * (2 * T - t1 - t2));
    e += replicas > 2 ? pair + (replicas - 3) * one : one;
  }
  return {e, T};
}

TEST(GridPlan, MatchesEveryCombinationOfTheReplicasClocks) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 6; ++trial) {
    const int ranks = 1 + trial % 2, replicas = 1 + trial % 4;
    const StepProfile slow = random_replica(rng, ranks, 1.3);
    const StepProfile fast = random_replica(rng, ranks, 1.0);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + std::to_string(replicas) +
                 " replicas of " + std::to_string(ranks) + " ranks");
    const auto [e_a, T_a] = reference(slow, fast, replicas, 0);
    const auto a = plan::plan_grid(slow, fast, replicas);
    EXPECT_NEAR(a.time_s, T_a, 1e-9);
    EXPECT_NEAR(a.window_energy_j, e_a, 1e-9 * e_a);
    const double deadline = 1.4 * T_a;
    const auto [e_b, T_b] = reference(slow, fast, replicas, deadline);
    const auto b = plan::plan_grid(slow, fast, replicas, deadline);
    EXPECT_LE(b.time_s, deadline + 1e-9);
    EXPECT_DOUBLE_EQ(b.window_s, T_b);
    EXPECT_NEAR(b.window_energy_j, e_b, 1e-9 * e_b);
    EXPECT_LT(b.window_energy_j, a.window_energy_j + slow.idle_watts() * (deadline - T_a) +
                                     (replicas - 1) * fast.idle_watts() * (deadline - T_a));
    // The baseline: every phase of every replica at the top clock.
    const auto top0 = plan::evaluate(slow, plan::max_clock_assignment(slow));
    const auto topf = plan::evaluate(fast, plan::max_clock_assignment(fast));
    const double Tb = replicas > 1 ? std::max(top0.time_s, topf.time_s) : top0.time_s;
    EXPECT_NEAR(a.baseline_time_s, Tb, 1e-15);
    const double base = top0.energy_j + slow.idle_watts() * (Tb - top0.time_s) +
                        (replicas - 1) * (topf.energy_j + fast.idle_watts() * (Tb - topf.time_s));
    EXPECT_NEAR(a.baseline_energy_j, base, 1e-12 * base);
  }
}

TEST(GridPlan, RefusesBadArguments) {
  std::mt19937 rng(7);
  const StepProfile p = random_replica(rng, 1, 1.0);
  EXPECT_THROW(plan::plan_grid(p, p, 0), InvalidArgument);
  const auto a = plan::plan_grid(p, p, 2);
  EXPECT_THROW(plan::plan_grid(p, p, 2, 0.5 * a.time_s), InvalidArgument);
}

cost::CostInput network(Strategy s, int p, int D) {
  cost::CostInput in;
  in.input_dim = 64;
  in.width = 4096;
  in.depth = 2;
  in.output_dim = 16;
  in.strategy = s;
  in.ghost = 16;
  in.ranks = p;
  in.data_parallel = D;
  in.batch = 256;
  return in;
}

TEST(GridPlan, TheDataParallelProfileIsTheCostModelsStep) {
  const auto dev = cost::load_profile("h100-sxm");
  for (Strategy s : {Strategy::pp, Strategy::tp})
    for (int p : {1, 2})
      for (int D : {2, 4}) {
        const auto costs = cost::network_costs(network(s, p, D));
        const auto prediction = cost::predict_step(costs, dev);
        const auto mp = plan::model_step_profile(costs, dev);
        const auto top = plan::evaluate(mp.profile, plan::max_clock_assignment(mp.profile));
        SCOPED_TRACE(std::string(to_string(s)) + " " + std::to_string(D) + " x " +
                     std::to_string(p));
        EXPECT_NEAR(top.time_s, prediction.step_s(), 1e-12 * top.time_s);
        EXPECT_NEAR(D * top.energy_j, prediction.energy_j, 1e-12 * prediction.energy_j);
        int found = 0;
        for (const auto& stage : mp.profile.phases[0])
          for (const auto& phase : stage)
            if (phase.name == plan::data_parallel_phase) {
              ++found;
              ASSERT_EQ(phase.options.size(), 1u);  // a transfer: the link, not the clock
              EXPECT_NEAR(phase.options[0].time_s, prediction.data_parallel_s,
                          1e-15 + 1e-12 * prediction.data_parallel_s);
            }
        EXPECT_EQ(found, 1);
        // The optimizer runs after the all-reduce, in a stage of its own.
        EXPECT_EQ(mp.profile.phases[0].back().back().name, "optimizer");
        EXPECT_EQ(mp.profile.phases[0].back().size(), 1u);
      }
}

TEST(GridPlan, ASlowReplicaLetsTheOthersSlowDown) {
  const auto dev = cost::load_profile("h100-sxm");
  for (Strategy s : {Strategy::pp, Strategy::tp}) {
    SCOPED_TRACE(to_string(s));
    const auto costs = cost::network_costs(network(s, 2, 4));
    const auto slow = plan::model_step_profile(costs, dev, 1.2);
    const auto balanced = plan::model_step_profile(costs, dev);
    const auto grid = plan::plan_grid(slow.profile, balanced.profile, 4);
    // Not longer than the straggler's step; the others' GEMMs below the top clock.
    EXPECT_LE(grid.time_s, grid.baseline_time_s + 1e-8);
    ASSERT_TRUE(grid.others.has_value());
    int lowered = 0;
    for (std::size_t st = 0; st < balanced.profile.stages(); ++st)
      for (std::size_t ph = 0; ph < balanced.profile.phases[0][st].size(); ++ph)
        if (balanced.profile.phases[0][st][ph].name.find(".gemm") != std::string::npos)
          lowered += grid.others->plan.clock_mhz[0][st][ph] < dev.clocks_mhz.front();
    EXPECT_GT(lowered, 0);
    // Three slowed replicas save more than the slow replica's group alone:
    // the saving of one group (D = 1, the same slow rank) is a part of it.
    const auto alone = plan::plan_grid(slow.profile, slow.profile, 1);
    EXPECT_GT(grid.saving_j, alone.saving_j + 0.02 * grid.baseline_window_energy_j);
    // Balanced replicas: every replica is critical; nothing to save but what
    // the planner's tolerance admits, and D identical plans.
    const auto even = plan::plan_grid(balanced.profile, balanced.profile, 4);
    const auto one = plan::plan_fastest(balanced.profile);
    EXPECT_LT(even.saving_j, 1e-4 * even.baseline_window_energy_j);
    EXPECT_NEAR(even.energy_j, 4 * one.plan.energy_j, 1e-12 * even.energy_j);
  }
}

TEST(Advisor, TriesEveryShapeOfAGpuCount) {
  plan::AdvisorInput in;
  in.network = network(Strategy::pp, 1, 1);
  in.network.batch = 384;  // splits into 8, 6, 4, 3, 2 replicas
  in.device = cost::load_profile("h100-sxm");
  in.strategies = {Strategy::pp, Strategy::tp};
  in.gpus = {8, 6};
  in.slow_rank_factor = 1.2;
  const auto advice = plan::advise(in);
  std::set<std::tuple<int, int, Strategy>> shapes;
  for (const auto& c : advice.candidates) {
    EXPECT_TRUE(c.gpus() == 8 || c.gpus() == 6) << c.label();
    shapes.insert({c.replicas(), c.costs.input.ranks, c.costs.input.strategy});
    if (c.replicas() > 1) {
      ASSERT_TRUE(c.fastest.others.has_value());
      EXPECT_GT(c.fastest.saving_j, 0) << c.label();
    }
  }
  // 8 = 8x1, 4x2, 2x4, 1x8; 6 = 6x1, 3x2 (2x3 and 1x6: 3 and 6 ranks do
  // not divide width 4096, skipped).
  EXPECT_EQ(shapes.size(), 2u * (4 + 2));
  EXPECT_TRUE(shapes.count({4, 2, Strategy::tp}));
  EXPECT_TRUE(shapes.count({8, 1, Strategy::pp}));
  EXPECT_TRUE(shapes.count({3, 2, Strategy::pp}));
  EXPECT_EQ(advice.skipped.size(), 2u * 2);
  ASSERT_TRUE(advice.best.has_value());
  for (const auto& c : advice.candidates)
    EXPECT_LE(advice.candidates[*advice.best].ranked_energy_j(), c.ranked_energy_j());
  in.gpus = {0};
  EXPECT_THROW(plan::advise(in), InvalidArgument);
}

}  // namespace
