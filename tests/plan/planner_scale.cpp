// How long planning takes on bigger synthetic profiles (docs/energy.md,
// "Planner"). Disabled: timings, not checks. Run with
//   test_planner --gtest_also_run_disabled_tests --gtest_filter='*PlannerScale*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "phantom/plan/planner.hpp"

namespace {

using namespace phantom::plan;

// H100-like clocks evenly spaced from 1980 down to 210 MHz; busy power
// 60 + 240 (f/1980)^3 W, idle 60 W; about 10 ms per phase at 1980 MHz,
// scaled by 1980/f; 0.5 % noise on every time and energy.
StepProfile synthetic(int ranks, int stages, int phases, int clocks) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> work(0.9, 1.1), noise(0.995, 1.005);
  StepProfile p;
  for (int r = 0; r < ranks; ++r) {
    p.phases.emplace_back();
    p.idle.push_back({60, 0, "model"});
    for (int s = 0; s < stages; ++s) {
      p.phases[r].emplace_back();
      for (int ph = 0; ph < phases; ++ph) {
        Phase x{"phase" + std::to_string(ph), {}};
        const double w = 0.01 * work(rng);
        for (int c = 0; c < clocks; ++c) {
          const int mhz = 1980 - c * (1980 - 210) / std::max(1, clocks - 1);
          const double f = mhz / 1980.0, t = w / f * noise(rng);
          x.options.push_back({mhz, t, t * (60 + 240 * f * f * f) * noise(rng), "model"});
        }
        p.phases[r][s].push_back(x);
      }
    }
  }
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(int ranks, int stages, int phases, int clocks, double quantum, bool whole_frontier) {
  const StepProfile p = synthetic(ranks, stages, phases, clocks);
  PlannerOptions o;
  o.time_quantum_s = quantum;
  auto t0 = std::chrono::steady_clock::now();
  const Plan a = plan_fastest(p, o);
  const double ta = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const Plan b = plan_for_deadline(p, 1.05 * a.plan.time_s, o);
  const double tb = seconds_since(t0);
  std::printf(
      "%d x %d x %d x %d, quantum %g s: (a) %.3f s, saves %.1f of %.1f J, time %+.2e s;"
      " (b) 1.05x %.3f s, saves %.1f J",
      ranks, stages, phases, clocks, quantum, ta, a.saving_j, a.baseline_energy_j,
      a.plan.time_s - a.baseline.time_s, tb, b.saving_j);
  if (whole_frontier) {
    t0 = std::chrono::steady_clock::now();
    const std::size_t points = frontier(p, o).size();
    std::printf("; frontier %zu points %.3f s", points, seconds_since(t0));
  }
  std::printf("\n");
}

TEST(PlannerScale, DISABLED_Timings) {
  run(8, 4, 4, 20, 0, true);
  run(8, 4, 4, 100, 0, false);
  run(8, 4, 4, 100, 1e-4, true);
  run(64, 6, 4, 100, 1e-4, false);
  run(64, 6, 4, 100, 1e-3, true);
}

}  // namespace
