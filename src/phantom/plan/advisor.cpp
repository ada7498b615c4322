#include "phantom/plan/advisor.hpp"

#include "phantom/core/error.hpp"
#include "phantom/cost/step_time.hpp"

namespace phantom::plan {

double Candidate::ranked_energy_j() const {
  return bounded ? bounded->energy_j : fastest.energy_j;
}
double Candidate::ranked_time_s() const {
  return bounded ? bounded->time_s : fastest.time_s;
}
bool Candidate::feasible(double bound_s) const {
  return fits_memory && (bound_s <= 0 || bounded.has_value());
}
std::string Candidate::label() const { return cost::label(costs.input); }

namespace {

// The candidates' cost inputs: the network's D x every p in `ranks`, or with
// `gpus`, every D x p = G.
std::vector<cost::CostInput> candidate_inputs(const AdvisorInput& input) {
  if (input.gpus.empty())
    return cost::sweep_inputs(input.network, input.strategies, input.ghosts, input.compressions,
                              input.ranks);
  std::vector<cost::CostInput> out;
  for (int g : input.gpus) {
    if (g < 1) throw InvalidArgument("advisor: a GPU count must be >= 1, got " + std::to_string(g));
    for (int p = 1; p <= g; ++p) {
      if (g % p != 0) continue;
      cost::CostInput base = input.network;
      base.data_parallel = g / p;
      for (auto& in : cost::sweep_inputs(base, input.strategies, input.ghosts, input.compressions,
                                         {p}))
        out.push_back(std::move(in));
    }
  }
  return out;
}

}  // namespace

Advice advise(const AdvisorInput& input) {
  Advice advice;
  for (const auto& in : candidate_inputs(input)) {
    Candidate c;
    try {
      c.costs = cost::network_costs(in);
    } catch (const InvalidArgument& e) {
      advice.skipped.push_back({cost::label(in) + " p=" + std::to_string(in.ranks), e.what()});
      continue;
    }
    c.top_clock = cost::predict_step(c.costs, input.device);
    c.fits_memory = c.top_clock.fits_memory;
    c.profile = model_step_profile(c.costs, input.device, input.slow_rank_factor, input.clocks);
    const int D = in.data_parallel;
    if (D > 1 && input.slow_rank_factor > 1)
      c.others = model_step_profile(c.costs, input.device, 1.0, input.clocks);
    const StepProfile& others = c.other_replicas().profile;
    PlannerOptions options;
    options.time_quantum_s = input.quantum_fraction * c.top_clock.step_s();
    c.fastest = plan_grid(c.profile.profile, others, D, 0, options);
    if (input.time_bound_s > 0 && c.fastest.time_s <= input.time_bound_s)
      c.bounded = plan_grid(c.profile.profile, others, D, input.time_bound_s, options);
    advice.candidates.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < advice.candidates.size(); ++i) {
    const auto& c = advice.candidates[i];
    if (!c.feasible(input.time_bound_s)) continue;
    if (!advice.best || c.ranked_energy_j() < advice.candidates[*advice.best].ranked_energy_j())
      advice.best = i;
  }
  return advice;
}

}  // namespace phantom::plan
