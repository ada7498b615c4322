// Step profiles from the cost model and the advisor: at the top clock the
// profile's step equals the cost model's prediction; folding identical ranks
// leaves the frontier unchanged; a slow rank lets plan (a) save energy without
// lengthening the step; the advisor picks the least energy that fits.
#include <gtest/gtest.h>

#include <cmath>

#include "phantom/cost/step_time.hpp"
#include "phantom/plan/advisor.hpp"
#include "phantom/plan/model_profile.hpp"

namespace {

using namespace phantom;

cost::CostInput network(Strategy s, int p, std::size_t width = 64) {
  cost::CostInput in;
  in.input_dim = 8;
  in.width = width;
  in.depth = 2;
  in.output_dim = 4;
  in.strategy = s;
  in.ghost = 4;
  in.ranks = p;
  in.batch = 32;
  return in;
}

void expect_close(double a, double b) { EXPECT_NEAR(a, b, 1e-12 * std::max(std::abs(a), std::abs(b))); }

TEST(ModelProfile, TopClockStepIsTheCostModelsPrediction) {
  for (const char* device : {"h100-sxm", "this-cpu"})
    for (Strategy s : {Strategy::pp, Strategy::tp, Strategy::megatron})
      for (int p : {1, 2, 8}) {
        const auto costs = cost::network_costs(network(s, p));
        const auto dev = cost::load_profile(device);
        const auto prediction = cost::predict_step(costs, dev);
        const auto mp = plan::model_step_profile(costs, dev);
        ASSERT_EQ(mp.multiplicity, std::vector<int>{p});
        const auto top = plan::evaluate(mp.profile, plan::max_clock_assignment(mp.profile));
        SCOPED_TRACE(std::string(device) + " " + to_string(s) + " p=" + std::to_string(p));
        expect_close(top.time_s, prediction.step_s());
        expect_close(top.energy_j, prediction.energy_j);
        for (const auto& stage : mp.profile.phases[0])
          for (const auto& phase : stage)
            for (const auto& option : phase.options) EXPECT_EQ(option.source, "model");
      }
}

TEST(ModelProfile, ClockModel) {
  const auto dev = cost::load_profile("h100-sxm");
  const auto costs = cost::network_costs(network(Strategy::tp, 2));
  const auto mp = plan::model_step_profile(costs, dev);
  const auto& phase = mp.profile.phases[0][0][0];  // the input layer's forward GEMM
  ASSERT_EQ(phase.name, "layer_000.forward.gemm");
  ASSERT_EQ(phase.options.size(), dev.clocks_mhz.size());
  const auto& top = phase.options.front();
  const auto& low = phase.options.back();
  const double ratio = double(dev.clocks_mhz.back()) / dev.clocks_mhz.front();
  expect_close(low.time_s, top.time_s / ratio);  // compute-bound: time ~ 1 / f
  // Two identical ranks folded into one: energies count both.
  ASSERT_EQ(mp.multiplicity, std::vector<int>{2});
  expect_close(low.energy_j / low.time_s,
               2 * (dev.idle_watts + (dev.busy_watts - dev.idle_watts) * ratio * ratio * ratio));
  expect_close(top.energy_j / top.time_s, 2 * dev.busy_watts);
}

TEST(ModelProfile, FoldingIdenticalRanksKeepsTheFrontier) {
  auto dev = cost::load_profile("h100-sxm");
  dev.clocks_mhz = {1980, 1530, 1080};  // a small frontier for the unfolded profile
  const auto costs = cost::network_costs(network(Strategy::pp, 3, 48));
  for (double slow : {1.0, 1.3}) {
    const auto folded = plan::model_step_profile(costs, dev, slow);
    const auto unfolded = plan::model_step_profile(costs, dev, slow, {}, false);
    EXPECT_EQ(folded.profile.ranks(), slow > 1 ? 2u : 1u);
    EXPECT_EQ(unfolded.profile.ranks(), 3u);
    const auto a = plan::frontier(folded.profile);
    const auto b = plan::frontier(unfolded.profile);
    ASSERT_EQ(a.size(), b.size()) << "slow " << slow;
    for (std::size_t i = 0; i < a.size(); ++i) {
      expect_close(a[i].time_s, b[i].time_s);
      expect_close(a[i].energy_j, b[i].energy_j);
    }
  }
}

TEST(ModelProfile, SlowRankLetsTheOthersSlowDown) {
  const auto dev = cost::load_profile("h100-sxm");
  const auto costs = cost::network_costs(network(Strategy::tp, 4, 4096));
  const auto balanced = plan::plan_fastest(plan::model_step_profile(costs, dev).profile);
  const auto mp = plan::model_step_profile(costs, dev, 1.25);
  const auto plan_a = plan::plan_fastest(mp.profile);
  // "Not longer" up to the planner's time tolerance (pareto.hpp: 1 ns).
  EXPECT_LE(plan_a.plan.time_s, plan_a.baseline.time_s + 1e-9);
  EXPECT_GT(plan_a.saving_j, 0.05 * plan_a.baseline_energy_j);
  // Balanced ranks: everything is critical; only what the tolerance admits.
  EXPECT_LT(balanced.saving_j, 1e-5 * balanced.baseline_energy_j);
  // The fast ranks' GEMMs run below the top clock; the slow rank's do not.
  int fast_lowered = 0, slow_lowered = 0;
  for (std::size_t s = 0; s < mp.profile.stages(); ++s)
    for (std::size_t ph = 0; ph < mp.profile.phases[0][s].size(); ++ph) {
      if (mp.profile.phases[0][s][ph].name.find(".gemm") == std::string::npos) continue;
      slow_lowered += plan_a.plan.clock_mhz[0][s][ph] < dev.clocks_mhz.front();
      fast_lowered += plan_a.plan.clock_mhz[1][s][ph] < dev.clocks_mhz.front();
    }
  EXPECT_GT(fast_lowered, 0);
  EXPECT_EQ(slow_lowered, 0);
  EXPECT_THROW(plan::model_step_profile(costs, dev, 0.9), InvalidArgument);
}

TEST(Advisor, PicksTheLeastEnergyThatFits) {
  plan::AdvisorInput in;
  in.network = network(Strategy::pp, 1, 4096);
  in.network.batch = 256;
  in.device = cost::load_profile("h100-sxm");
  in.ranks = {2, 4, 3};
  in.ghosts = {8, 16};
  const auto advice = plan::advise(in);
  ASSERT_TRUE(advice.best.has_value());
  // p = 3 does not divide 4096 for any strategy: skipped with the network's message.
  ASSERT_EQ(advice.skipped.size(), 4u);
  EXPECT_EQ(advice.skipped[0].why, "width 4096 is not divisible by the rank count 3");
  EXPECT_EQ(advice.candidates.size(), 2u * 2 + 2 + 2);
  for (const auto& c : advice.candidates)
    EXPECT_LE(advice.candidates[*advice.best].ranked_energy_j(), c.ranked_energy_j());

  // A bound between the fastest and the slowest candidate removes the slow ones
  // and ranks the rest by plan (b)'s energy at the bound.
  double fastest = 1e300, slowest = 0;
  for (const auto& c : advice.candidates) {
    fastest = std::min(fastest, c.fastest.time_s);
    slowest = std::max(slowest, c.fastest.time_s);
  }
  in.time_bound_s = 0.5 * (fastest + slowest);
  const auto bounded = plan::advise(in);
  ASSERT_TRUE(bounded.best.has_value());
  int too_slow = 0;
  for (const auto& c : bounded.candidates) {
    if (!c.bounded) {
      ++too_slow;
      EXPECT_GT(c.fastest.time_s, in.time_bound_s);
    } else {
      EXPECT_LE(c.bounded->time_s, in.time_bound_s * (1 + 1e-12));
      EXPECT_LE(c.bounded->energy_j, c.fastest.energy_j * (1 + 1e-12));
    }
  }
  EXPECT_GT(too_slow, 0);
  EXPECT_TRUE(bounded.candidates[*bounded.best].bounded.has_value());

  // No memory: nothing fits, no choice.
  in.device.memory_capacity_bytes = 1024;
  EXPECT_FALSE(plan::advise(in).best.has_value());
}

}  // namespace

namespace {

// Memory-bound phases whose clocks differ by ~1e-10 s, below the planner's
// 1 ns time tolerance, made the pruned composition drift past the deadline
// plan_fastest composes with, and it read back from an empty frontier.
TEST(ModelProfile, PlansPhasesCloserThanTheTolerance) {
  cost::CostInput in = network(Strategy::tp, 2, 4096);
  in.input_dim = 32;
  in.output_dim = 8;
  in.batch = 256;
  const auto mp = plan::model_step_profile(cost::network_costs(in), cost::load_profile("h100-sxm"), 1.2);
  const auto a = plan::plan_fastest(mp.profile);
  EXPECT_LE(a.plan.time_s, a.baseline.time_s * (1 + 1e-5));
  EXPECT_GT(a.saving_j, 0);
}

// A whole step of about a microsecond (width 32, one rank): phases as short as
// the tolerance emptied the capped composition and parallel() read an empty
// branch.
TEST(ModelProfile, PlansAStepAsShortAsTheTolerance) {
  for (Strategy s : {Strategy::pp, Strategy::tp}) {
    cost::CostInput in = network(s, 1, 32);
    in.input_dim = 32;
    in.output_dim = 8;
    in.depth = 4;
    in.batch = 128;
    const auto mp = plan::model_step_profile(cost::network_costs(in), cost::load_profile("h100-sxm"));
    const auto a = plan::plan_fastest(mp.profile);
    EXPECT_LE(a.plan.time_s, a.baseline.time_s * 1.1);
    const auto b = plan::plan_for_deadline(mp.profile, 2 * a.baseline.time_s);
    EXPECT_LE(b.plan.time_s, 2 * a.baseline.time_s + 1e-9);
  }
}

}  // namespace
