// Pareto sets of (time, cost) points and the two ways the energy planner
// combines them: in series (one piece of work after another: times add, costs
// add) and in parallel up to a barrier (branches run side by side until a
// collective: the time is the slowest branch's, costs add). For the planner the
// cost is energy above idle power (planner.hpp says why); here it is any
// additive quantity.
//
// A Pareto set here is sorted by time, times strictly increasing and costs
// strictly decreasing: each point is the least cost at its time, and a faster
// point always costs more. "Strictly" means by more than the tolerance.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <limits>
#include <vector>

namespace phantom::plan {

// Two times (two costs) that differ by no more than these are equal. Times and
// costs are sums of measured values added in different orders by different
// routes, so equal plans can differ by round-off; 1 ns and 1 nJ are far below
// what any clock or meter resolves and far above double round-off at the
// scales of a training step (seconds, kilojoules).
struct Tolerance {
  double time_s = 1e-9;
  double energy_j = 1e-9;
};

// A point and where it came from: `a` and `b` are indices the combining step
// records (series: the point of the first and of the second operand).
struct ParetoPoint {
  double time = 0;
  double cost = 0;
  std::size_t a = 0;
  std::size_t b = 0;
};

// Orders points by time, then cost (a lambda, so std::sort inlines it).
inline constexpr auto faster = [](const ParetoPoint& x, const ParetoPoint& y) {
  return x.time < y.time || (x.time == y.time && x.cost < y.cost);
};

// The Pareto-optimal points of points already sorted by `faster`: of points
// with equal time (within tolerance) the cheapest survives; a point survives
// only if it is cheaper than every faster survivor by more than the tolerance.
inline std::vector<ParetoPoint> sweep(const std::vector<ParetoPoint>& sorted,
                                      const Tolerance& tol) {
  std::vector<ParetoPoint> kept;
  for (const ParetoPoint& p : sorted) {
    if (!kept.empty() && p.cost >= kept.back().cost - tol.energy_j) continue;  // dominated
    // A cheaper point at (almost) the same time replaces the ones it ties with.
    while (!kept.empty() && kept.back().time >= p.time - tol.time_s) kept.pop_back();
    kept.push_back(p);
  }
  return kept;
}

// The Pareto-optimal points of `points` (see sweep). Of exact ties (same time
// and cost) one survives; which one is unspecified but the same on every run.
inline std::vector<ParetoPoint> prune(std::vector<ParetoPoint> points, const Tolerance& tol) {
  std::sort(points.begin(), points.end(), faster);
  return sweep(points, tol);
}

// Series composition: every pair (x of `first`, y of `second`) as
// (x.time + y.time, x.cost + y.cost, a = index of x, b = index of y), pruned.
// Exact: a pair that uses a dominated x (or y) is dominated by the same pair
// with the dominating point, so Pareto inputs lose nothing. Pairs slower than
// `max_time` (beyond tolerance) are left out, for callers that cannot use them.
// The pairs are pruned in blocks as they are formed, so memory stays near the
// size of the result rather than |first| x |second|.
inline std::vector<ParetoPoint> series(const std::vector<ParetoPoint>& first,
                                       const std::vector<ParetoPoint>& second, const Tolerance& tol,
                                       double max_time = std::numeric_limits<double>::infinity()) {
  constexpr std::size_t block = std::size_t{1} << 16;
  std::vector<ParetoPoint> kept, sums, merged;
  for (std::size_t i = 0; i < first.size(); ++i) {
    std::size_t k = 0;  // kept[k - 1]: the last kept point no slower than the pair
    for (std::size_t j = 0; j < second.size(); ++j) {
      const double t = first[i].time + second[j].time;
      if (t > max_time + tol.time_s) break;  // `second` is sorted by time
      const double c = first[i].cost + second[j].cost;
      // Most pairs are dominated by what is already kept: skip them early.
      while (k < kept.size() && kept[k].time <= t) ++k;
      if (k > 0 && kept[k - 1].cost <= c - tol.energy_j) continue;
      sums.push_back({t, c, i, j});
    }
    // Flush when the block is as big as the result so far (merging costs
    // that much) or at the end.
    if (sums.size() >= std::max(block, kept.size()) || i + 1 == first.size()) {
      std::sort(sums.begin(), sums.end(), faster);
      merged.clear();
      std::merge(kept.begin(), kept.end(), sums.begin(), sums.end(), std::back_inserter(merged),
                 faster);
      kept = sweep(merged, tol);
      sums.clear();
    }
  }
  return kept;
}

// Index of the cheapest point of a Pareto set that takes no longer than
// `time` (within tolerance): the last one at or before it. The set must have a
// point that fast.
inline std::size_t best_within(const std::vector<ParetoPoint>& set, double time,
                               const Tolerance& tol) {
  auto after = std::upper_bound(set.begin(), set.end(), time + tol.time_s,
                                [](double t, const ParetoPoint& p) { return t < p.time; });
  return static_cast<std::size_t>(after - set.begin()) - 1;
}

// Parallel branches joined at a barrier. For a barrier time T every branch
// independently takes its cheapest point no slower than T (best_within), so the
// least total cost at T is the sum of those; the total only changes where T
// crosses a branch's point, so T need only range over the branches' times that
// are at least the slowest branch's fastest time. Each result point's time is
// such a T; its choices are recovered with best_within, so nothing else is
// recorded (a = b = 0). Pareto sets in, Pareto set out.
inline std::vector<ParetoPoint> parallel(const std::vector<std::vector<ParetoPoint>>& branches,
                                         const Tolerance& tol) {
  for (const auto& b : branches)  // a branch with no point within its cap: no stage either
    if (b.empty()) return {};
  double earliest = 0;
  for (const auto& b : branches) earliest = std::max(earliest, b.front().time);
  std::vector<double> candidates{earliest};
  for (const auto& b : branches)
    for (const ParetoPoint& p : b)
      if (p.time > earliest) candidates.push_back(p.time);
  std::vector<ParetoPoint> stage;
  stage.reserve(candidates.size());
  for (double t : candidates) {
    double cost = 0;
    for (const auto& b : branches) cost += b[best_within(b, t, tol)].cost;
    stage.push_back({t, cost, 0, 0});
  }
  return prune(std::move(stage), tol);
}

}  // namespace phantom::plan
