#include "phantom/plan/advisor.hpp"

#include "phantom/cost/step_time.hpp"

namespace phantom::plan {

double Candidate::ranked_energy_j() const {
  return bounded ? bounded->plan.energy_j : fastest.plan.energy_j;
}
double Candidate::ranked_time_s() const {
  return bounded ? bounded->plan.time_s : fastest.plan.time_s;
}
bool Candidate::feasible(double bound_s) const {
  return fits_memory && (bound_s <= 0 || bounded.has_value());
}
std::string Candidate::label() const { return cost::label(costs.input); }

Advice advise(const AdvisorInput& input) {
  Advice advice;
  for (const auto& in : cost::sweep_inputs(input.network, input.strategies, input.ghosts,
                                           input.compressions, input.ranks)) {
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
    c.fastest = plan_fastest(c.profile.profile);
    if (input.time_bound_s > 0 && c.fastest.plan.time_s <= input.time_bound_s)
      c.bounded = plan_for_deadline(c.profile.profile, input.time_bound_s);
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
