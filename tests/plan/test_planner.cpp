// The energy planner against brute force: on small random profiles its
// frontier equals the one found by evaluating every clock assignment; plus a
// synthetic step with a slow rank, the CSV format and its error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/plan/planner.hpp"
#include "phantom/plan/step_profile.hpp"

namespace {

using namespace phantom::plan;

constexpr int kClocks[] = {1980, 1500, 1005};

// A random profile: 2-3 ranks, 1-3 stages, 1-3 phases per rank and stage,
// 1-3 clocks per phase, unrelated times and energies (so options are often
// dominated), idle power sometimes 0. `discrete`: times on a 1/8 s grid and
// whole joules and watts, so many plans tie exactly.
StepProfile random_profile(std::mt19937& rng, bool discrete) {
  const auto pick = [&rng](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  const auto real = [&rng](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  StepProfile p;
  const int ranks = pick(2, 3), stages = pick(1, 3);
  p.phases.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    p.idle.push_back(
        {pick(0, 3) == 0 ? 0.0 : (discrete ? pick(1, 8) : real(0.5, 8.0)), 0, "model"});
    for (int s = 0; s < stages; ++s) {
      p.phases[r].emplace_back();
      const int phases = pick(1, 3);
      for (int ph = 0; ph < phases; ++ph) {
        Phase phase{"phase" + std::to_string(ph), {}};
        const int clocks = pick(1, 3);
        for (int c = 0; c < clocks; ++c) {
          const double t = discrete ? 0.125 * pick(1, 8) : real(0.05, 1.0);
          const double e = discrete ? pick(1, 12) : real(0.5, 12.0);
          phase.options.push_back({kClocks[c], t, e, "model"});
        }
        p.phases[r][s].push_back(phase);
      }
    }
  }
  return p;
}

std::size_t assignment_count(const StepProfile& p) {
  std::size_t n = 1;
  for (const auto& rank : p.phases)
    for (const auto& stage : rank)
      for (const Phase& ph : stage) n *= ph.options.size();
  return n;
}

struct Cost {
  double time, energy;
};

// Every assignment's step time and energy, computed straight from the model:
// stage time = slowest rank, others wait drawing idle power.
std::vector<Cost> all_assignments(const StepProfile& p) {
  std::vector<const Phase*> flat;  // phases in (rank, stage, phase) order
  for (const auto& rank : p.phases)
    for (const auto& stage : rank)
      for (const Phase& ph : stage) flat.push_back(&ph);
  std::vector<std::size_t> choice(flat.size(), 0);
  std::vector<Cost> out;
  while (true) {
    std::size_t i = 0;
    double step_time = 0, energy = 0;
    std::vector<std::vector<double>> busy(p.stages(), std::vector<double>(p.ranks(), 0));
    for (std::size_t r = 0; r < p.ranks(); ++r)
      for (std::size_t s = 0; s < p.stages(); ++s)
        for (std::size_t ph = 0; ph < p.phases[r][s].size(); ++ph, ++i) {
          busy[s][r] += flat[i]->options[choice[i]].time_s;
          energy += flat[i]->options[choice[i]].energy_j;
        }
    for (std::size_t s = 0; s < p.stages(); ++s) {
      const double t = *std::max_element(busy[s].begin(), busy[s].end());
      for (std::size_t r = 0; r < p.ranks(); ++r) energy += p.idle[r].watts * (t - busy[s][r]);
      step_time += t;
    }
    out.push_back({step_time, energy});
    // Next assignment (odometer).
    std::size_t k = 0;
    while (k < flat.size() && ++choice[k] == flat[k]->options.size()) choice[k++] = 0;
    if (k == flat.size()) break;
  }
  return out;
}

// The frontier by definition: for each distinct step time, the least energy
// above idle (E - P T); keep a time only if that beats every faster time.
std::vector<Cost> brute_force_frontier(const StepProfile& p, double tol) {
  const double idle = p.idle_watts();
  std::vector<Cost> all = all_assignments(p);
  std::sort(all.begin(), all.end(), [](const Cost& a, const Cost& b) { return a.time < b.time; });
  std::vector<Cost> best_per_time;  // (time, least excess)
  for (const Cost& c : all) {
    const double excess = c.energy - idle * c.time;
    if (!best_per_time.empty() && c.time - best_per_time.back().time <= tol)
      best_per_time.back().energy = std::min(best_per_time.back().energy, excess);
    else
      best_per_time.push_back({c.time, excess});
  }
  std::vector<Cost> frontier;
  double least = INFINITY;
  for (const Cost& c : best_per_time)
    if (c.energy < least - tol) {
      least = c.energy;
      frontier.push_back({c.time, c.energy + idle * c.time});
    }
  return frontier;
}

void expect_frontier_matches_brute_force(unsigned seed, bool discrete) {
  std::mt19937 rng(seed);
  StepProfile p = random_profile(rng, discrete);
  while (assignment_count(p) > 50000) p = random_profile(rng, discrete);
  const std::vector<Cost> expected = brute_force_frontier(p, 1e-9);
  const std::vector<PlanPoint> got = frontier(p);
  ASSERT_EQ(got.size(), expected.size()) << "seed " << seed;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].time_s, expected[i].time, 1e-9) << "seed " << seed << " point " << i;
    EXPECT_NEAR(got[i].energy_j, expected[i].energy, 1e-9) << "seed " << seed << " point " << i;
    // The clocks reported are the plan: evaluating them gives the point.
    const PlanPoint again = evaluate(p, got[i].clock_mhz);
    EXPECT_NEAR(again.time_s, got[i].time_s, 1e-12);
    EXPECT_NEAR(again.energy_j, got[i].energy_j, 1e-12);
  }
  // plan_fastest and plan_for_deadline only build what fits their deadline;
  // they must still find the frontier's points: at a point's time and
  // between it and the next, that point.
  const Plan a = plan_fastest(p);
  EXPECT_NEAR(a.plan.time_s, expected.front().time, 1e-9) << "seed " << seed;
  EXPECT_NEAR(a.plan.energy_j, expected.front().energy, 1e-9) << "seed " << seed;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double next = i + 1 < expected.size() ? expected[i + 1].time : expected[i].time + 1;
    for (double deadline : {expected[i].time, 0.5 * (expected[i].time + next)}) {
      const Plan b = plan_for_deadline(p, deadline);
      EXPECT_NEAR(b.plan.time_s, expected[i].time, 1e-9) << "seed " << seed << " point " << i;
      EXPECT_NEAR(b.plan.energy_j, expected[i].energy, 1e-9) << "seed " << seed << " point " << i;
    }
  }
  EXPECT_THROW(plan_for_deadline(p, expected.front().time - 1e-6), phantom::InvalidArgument);
}

TEST(Planner, FrontierEqualsBruteForceOnRandomProfiles) {
  for (unsigned seed = 1; seed <= 200; ++seed) expect_frontier_matches_brute_force(seed, false);
}

TEST(Planner, FrontierEqualsBruteForceWithExactTies) {
  for (unsigned seed = 1001; seed <= 1200; ++seed) expect_frontier_matches_brute_force(seed, true);
}

TEST(Planner, FrontierIsMonotone) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const StepProfile p = random_profile(rng, seed % 2 == 0);
    const double idle = p.idle_watts();
    const std::vector<PlanPoint> f = frontier(p);
    ASSERT_FALSE(f.empty());
    for (std::size_t i = 0; i + 1 < f.size(); ++i) {
      // Slower, and cheaper over the slower plan's window.
      EXPECT_GT(f[i + 1].time_s, f[i].time_s + 1e-9) << "seed " << seed;
      EXPECT_LT(f[i + 1].energy_j, f[i].energy_j + idle * (f[i + 1].time_s - f[i].time_s) - 1e-9)
          << "seed " << seed;
    }
  }
}

// A phase of `work` seconds at 1980 MHz on a GPU drawing 60 W idle and
// 60 + 240 (f / 1980)^3 W busy: time ~ 1/f, so lower clocks save energy.
Phase gemm(const std::string& name, double work) {
  Phase ph{name, {}};
  for (int mhz : {1980, 1600, 1200, 900}) {
    const double x = mhz / 1980.0, t = work / x;
    ph.options.push_back({mhz, t, t * (60 + 240 * x * x * x), "model"});
  }
  return ph;
}

// Three ranks, two stages (forward up to the all-gather, backward and
// optimizer up to the reduce-scatter); rank 1 has 1.5x the work.
StepProfile straggler_step() {
  StepProfile p;
  for (int r = 0; r < 3; ++r) {
    const double w = r == 1 ? 1.5 : 1.0;
    p.phases.push_back({{gemm("local_gemm", 0.02 * w), gemm("ghost_gemm", 0.005 * w)},
                        {gemm("backward_gemm", 0.04 * w), gemm("optimizer", 0.002 * w)}});
    p.idle.push_back({60, 1980, "model"});
  }
  return p;
}

TEST(Planner, FastestPlanSlowsTheRanksThatWaitForTheStraggler) {
  const StepProfile p = straggler_step();
  const Plan a = plan_fastest(p);
  EXPECT_NEAR(a.plan.time_s, a.baseline.time_s, 1e-12);  // the step is no longer
  EXPECT_NEAR(a.window_s, a.baseline.time_s, 1e-12);
  EXPECT_LT(a.plan.energy_j, a.baseline.energy_j - 1.0);  // and saves joules, not round-off
  EXPECT_GT(a.saving_j, 1.0);
  EXPECT_NEAR(a.saving_j, a.baseline.energy_j - a.plan.energy_j, 1e-9);
  for (std::size_t s = 0; s < 2; ++s) {
    for (int mhz : a.plan.clock_mhz[1][s]) EXPECT_EQ(mhz, 1980);  // the straggler runs flat out
    for (std::size_t r : {0u, 2u}) {
      const auto& clocks = a.plan.clock_mhz[r][s];
      EXPECT_LT(*std::min_element(clocks.begin(), clocks.end()), 1980) << "rank " << r;
    }
  }
}

TEST(Planner, DeadlinePlanCostsNoMoreThanTheFastest) {
  const StepProfile p = straggler_step();
  const Plan a = plan_fastest(p);
  const double idle = p.idle_watts();
  for (double stretch : {1.0, 1.1, 1.3, 2.0, 5.0}) {
    const double deadline = stretch * a.plan.time_s;
    const Plan b = plan_for_deadline(p, deadline);
    EXPECT_LE(b.plan.time_s, deadline + 1e-9);
    EXPECT_NEAR(b.window_s, deadline, 1e-12);
    // Over the deadline window plan (a) would idle after its step.
    EXPECT_LE(b.energy_j, a.plan.energy_j + idle * (deadline - a.plan.time_s) + 1e-9);
    if (stretch > 1.0) {
      EXPECT_LT(b.energy_j, a.plan.energy_j + idle * (deadline - a.plan.time_s));
    }
  }
  // The slowest clocks everywhere are the best once the deadline allows them.
  const Plan slow = plan_for_deadline(p, 10.0);
  for (const auto& rank : slow.plan.clock_mhz)
    for (const auto& stage : rank)
      for (int mhz : stage) EXPECT_EQ(mhz, 900);
}

TEST(Planner, DeadlineBelowFastestIsAnError) {
  StepProfile p;
  p.phases = {{{Phase{"gemm", {{1980, 0.25, 10, "m"}, {900, 0.5, 6, "m"}}}}}};
  p.idle = {{0, 0, "m"}};
  try {
    plan_for_deadline(p, 0.2);
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "plan_for_deadline: deadline 0.2 s is below the fastest step time 0.25 s");
  }
  EXPECT_EQ(plan_for_deadline(p, 0.3).plan.clock_mhz[0][0][0], 1980);
  EXPECT_EQ(plan_for_deadline(p, 0.5).plan.clock_mhz[0][0][0], 900);
}

TEST(Planner, SlowerDearerOptionWinsWhenIdlingCostsMore) {
  // Rank 0's fast clock saves a second but costs more than idling it away:
  // 2 s at 101 J beats 1 s at 100 J plus 1 s waiting at 50 W.
  StepProfile p;
  p.phases = {{{Phase{"gemm", {{1980, 1.0, 100, "m"}, {900, 2.0, 101, "m"}}}}},
              {{Phase{"gemm", {{1980, 2.0, 100, "m"}}}}}};
  p.idle = {{50, 0, "m"}, {50, 0, "m"}};
  const Plan a = plan_fastest(p);
  EXPECT_EQ(a.plan.clock_mhz[0][0][0], 900);
  EXPECT_DOUBLE_EQ(a.plan.energy_j, 201.0);
  EXPECT_DOUBLE_EQ(a.saving_j, 49.0);
}

TEST(Planner, RankWithNoPhasesInAStageOnlyWaits) {
  StepProfile p;
  p.phases.assign(2, std::vector<std::vector<Phase>>(1));  // rank 1 has nothing to do
  p.phases[0][0].push_back(Phase{"gemm", {{1980, 1.0, 100, "m"}, {900, 2.0, 80, "m"}}});
  p.idle = {{10, 0, "m"}, {20, 0, "m"}};
  const std::vector<PlanPoint> f = frontier(p);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_DOUBLE_EQ(f[0].energy_j, 100 + 20 * 1.0);
  EXPECT_DOUBLE_EQ(f[1].energy_j, 80 + 20 * 2.0);
  EXPECT_TRUE(f[1].clock_mhz[1][0].empty());
}

TEST(Planner, TimeQuantumBoundsTheError) {
  const StepProfile p = straggler_step();
  PlannerOptions coarse;
  coarse.time_quantum_s = 0.002;
  const std::vector<PlanPoint> exact = frontier(p), quantised = frontier(p, coarse);
  // Two stages of two phases each: at most 4 quanta of extra planned time.
  EXPECT_LE(quantised.front().time_s, exact.front().time_s + 4 * 0.002);
  for (const PlanPoint& q : quantised) {
    const PlanPoint again = evaluate(p, q.clock_mhz);
    EXPECT_DOUBLE_EQ(again.energy_j, q.energy_j);
  }
  // Plan (a) ignores the quantum: it must not lengthen the step.
  const Plan a = plan_fastest(p), aq = plan_fastest(p, coarse);
  EXPECT_EQ(aq.plan.time_s, a.plan.time_s);
  EXPECT_EQ(aq.plan.energy_j, a.plan.energy_j);
  // Deadline plans meet the deadline in real time, quantum or not.
  for (double stretch : {1.0, 1.01, 1.05, 1.2, 2.0}) {
    const double deadline = stretch * a.plan.time_s;
    const Plan b = plan_for_deadline(p, deadline, coarse);
    EXPECT_LE(b.plan.time_s, deadline + 1e-12) << stretch;
    EXPECT_GE(b.energy_j, plan_for_deadline(p, deadline).energy_j - 1e-9) << stretch;
  }
  coarse.time_quantum_s = -1;
  EXPECT_THROW(frontier(p, coarse), phantom::InvalidArgument);
}

TEST(Planner, EvaluateRejectsUnknownClock) {
  const StepProfile p = straggler_step();
  Assignment a = max_clock_assignment(p);
  a[2][1][0] = 1234;
  try {
    evaluate(p, a);
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(
        e.what(),
        "evaluate: rank 2 stage 1 phase 'backward_gemm' has no clock 1234 MHz in the profile");
  }
}

TEST(StepProfile, CsvRoundTripIsExact) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed);
    StepProfile p = random_profile(rng, false);
    p.idle[0].source = "nvml";
    std::stringstream csv;
    write_step_profile(p, csv);
    const StepProfile q = parse_step_profile(csv, "mem.csv");
    ASSERT_EQ(q.ranks(), p.ranks());
    ASSERT_EQ(q.stages(), p.stages());
    for (std::size_t r = 0; r < p.ranks(); ++r) {
      EXPECT_EQ(q.idle[r].watts, p.idle[r].watts);
      EXPECT_EQ(q.idle[r].clock_mhz, p.idle[r].clock_mhz);
      EXPECT_EQ(q.idle[r].source, p.idle[r].source);
      for (std::size_t s = 0; s < p.stages(); ++s) {
        ASSERT_EQ(q.phases[r][s].size(), p.phases[r][s].size());
        for (std::size_t ph = 0; ph < p.phases[r][s].size(); ++ph) {
          const Phase &x = p.phases[r][s][ph], &y = q.phases[r][s][ph];
          EXPECT_EQ(y.name, x.name);
          ASSERT_EQ(y.options.size(), x.options.size());
          for (std::size_t o = 0; o < x.options.size(); ++o) {
            EXPECT_EQ(y.options[o].clock_mhz, x.options[o].clock_mhz);
            EXPECT_EQ(y.options[o].time_s, x.options[o].time_s);  // bit for bit
            EXPECT_EQ(y.options[o].energy_j, x.options[o].energy_j);
            EXPECT_EQ(y.options[o].source, x.options[o].source);
          }
        }
      }
    }
  }
  // Through a file too.
  const std::string path = ::testing::TempDir() + "phantom_step_profile.csv";
  const StepProfile p = straggler_step();
  write_step_profile(p, path);
  const std::vector<PlanPoint> before = frontier(p), after = frontier(read_step_profile(path));
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].energy_j, before[i].energy_j);
}

TEST(StepProfile, CsvFormatAsDocumented) {
  std::stringstream in(
      "# a comment, then the header\r\n"
      "rank,stage,phase,clock_mhz,time_s,energy_j,source\r\n"
      "0,-,idle,0,2,120,nvml\r\n"
      "\n"
      "0,0,local_gemm,1980,0.5,150,nvml\n"
      "0,0,ghost_gemm,1980,0.1,30,nvml\n"
      "0,0,local_gemm,900,1.0,110,nvml\n"
      "0,1,optimizer,1980,0.2,40,model\n");
  const StepProfile p = parse_step_profile(in, "x.csv");
  ASSERT_EQ(p.ranks(), 1u);
  ASSERT_EQ(p.stages(), 2u);
  EXPECT_EQ(p.idle[0].watts, 60.0);  // 120 J over 2 s
  ASSERT_EQ(p.phases[0][0].size(), 2u);
  EXPECT_EQ(p.phases[0][0][0].name, "local_gemm");  // order of first appearance
  EXPECT_EQ(p.phases[0][0][0].options.size(), 2u);
  EXPECT_EQ(p.phases[0][0][1].name, "ghost_gemm");
  EXPECT_EQ(p.phases[0][1][0].options[0].source, "model");
  std::stringstream out;
  write_step_profile(p, out);
  EXPECT_EQ(out.str(),
            "rank,stage,phase,clock_mhz,time_s,energy_j,source\n"
            "0,-,idle,0,1,60,nvml\n"
            "0,0,local_gemm,1980,0.5,150,nvml\n"
            "0,0,local_gemm,900,1,110,nvml\n"
            "0,0,ghost_gemm,1980,0.10000000000000001,30,nvml\n"
            "0,1,optimizer,1980,0.20000000000000001,40,model\n");
}

TEST(StepProfile, BadCsvNamesFileLineAndProblem) {
  const std::string header = "rank,stage,phase,clock_mhz,time_s,energy_j,source\n";
  const std::string idle0 = "0,-,idle,0,1,60,nvml\n";
  const std::string gemm = "0,0,gemm,1980,0.1,30,nvml\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"",
       "t.csv: no header line 'rank,stage,phase,clock_mhz,time_s,energy_j,source' (empty file?)"},
      {"rank,stage,phase,clock,time_s,energy_j,source\n",
       "t.csv:1: expected the header 'rank,stage,phase,clock_mhz,time_s,energy_j,source', got "
       "'rank,stage,phase,clock,time_s,energy_j,source'"},
      {header, "t.csv: no rows after the header"},
      {header + idle0, "t.csv: no phase rows, only idle-power rows"},
      {header + "0,0,gemm,1980,0.1,30\n", "t.csv:2: expected 7 fields, got 6"},
      {header + "0,0,gemm,1980,0.1,30,nvml,x\n", "t.csv:2: expected 7 fields, got 8"},
      {header + "0,0,gemm,1980,0.1,30,\n" + idle0, ""},  // empty source is allowed
      {header + "x,0,gemm,1980,0.1,30,nvml\n", "t.csv:2: rank 'x' is not a non-negative integer"},
      {header + "0,-1,gemm,1980,0.1,30,nvml\n",
       "t.csv:2: stage '-1' is not a non-negative integer"},
      {header + "0,0,gemm,19.8,0.1,30,nvml\n",
       "t.csv:2: clock_mhz '19.8' is not a non-negative integer"},
      {header + "0,0,gemm,1980,fast,30,nvml\n", "t.csv:2: time_s 'fast' is not a number"},
      {header + "0,0,gemm,1980,nan,30,nvml\n", "t.csv:2: time_s 'nan' is not finite"},
      {header + "0,0,gemm,1980,0.1,-3,nvml\n", "t.csv:2: energy_j -3 is negative"},
      {header + "0,0,,1980,0.1,30,nvml\n", "t.csv:2: empty phase name"},
      {header + idle0 + gemm + "0,0,other,1980,0.1,30,nvml\n" + gemm,
       "t.csv:5: rank 0 stage 0 phase 'gemm' already has clock 1980 MHz (line 3)"},
      {header + "0,0,idle,0,1,60,nvml\n",
       "t.csv:2: phase 'idle' is the idle-power row; its stage must be '-'"},
      {header + "0,-,gemm,0,1,60,nvml\n",
       "t.csv:2: stage '-' is only for the idle-power row (phase 'idle')"},
      {header + "0,-,idle,0,0,60,nvml\n", "t.csv:2: idle-power row needs time_s > 0"},
      {header + idle0 + gemm + idle0, "t.csv:4: rank 0 already has an idle-power row (line 2)"},
      {header + idle0 + gemm + "1,0,gemm,1980,0.1,30,nvml\n",
       "t.csv: rank 1 has no idle-power row (stage '-', phase 'idle')"},
      {header + idle0 + gemm + "2,0,gemm,1980,0.1,30,nvml\n",
       "t.csv: ranks must be numbered from 0 without gaps; rank 1 is missing (rank 2 is on line "
       "4)"},
      {header + idle0 + gemm + "0,2,gemm,1980,0.1,30,nvml\n",
       "t.csv: stages must be numbered from 0 without gaps; stage 1 is missing (stage 2 is on line "
       "4)"},
  };
  for (const auto& [text, message] : cases) {
    std::stringstream in(text);
    if (message.empty()) {
      EXPECT_NO_THROW(parse_step_profile(in, "t.csv")) << text;
      continue;
    }
    try {
      parse_step_profile(in, "t.csv");
      ADD_FAILURE() << "no error for:\n" << text;
    } catch (const phantom::InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()), message) << text;
    }
  }
  EXPECT_THROW(read_step_profile("/nonexistent/profile.csv"), phantom::InvalidArgument);
}

TEST(StepProfile, ValidateAndWriteRejectBadProfiles) {
  StepProfile p = straggler_step();
  p.phases[1][0][0].options[1].clock_mhz = 1980;
  try {
    p.validate();
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "step profile: rank 1 stage 0 phase 'local_gemm' clock 1980 MHz appears twice");
  }
  p = straggler_step();
  p.phases[0][1][1].options.clear();
  EXPECT_THROW(frontier(p), phantom::InvalidArgument);
  p = straggler_step();
  p.idle.pop_back();
  EXPECT_THROW(p.validate(), phantom::InvalidArgument);
  p = straggler_step();
  p.phases[0][0][0].name = "local,gemm";
  std::stringstream out;
  try {
    write_step_profile(p, out);
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "write_step_profile: phase name 'local,gemm' has a comma, quote, newline or "
                 "surrounding blank");
  }
}

}  // namespace
