// Modelled energy, until measured meters exist on the machine at hand: every
// rank is one busy processor drawing a constant power for the whole step,
//   E_step = p * P_rank * t_step        (joules; always labelled "model")
// P_rank is the deck's energy.watts_per_rank (default 4 W: a server CPU core
// under load, e.g. a 280 W, 64-core AMD EPYC 7763 is 4.4 W per core at TDP).
// It ignores idle power, memory and network; docs/energy.md says so.
#pragma once

namespace phantom {

struct PowerModel {
  double watts_per_rank = 4.0;
  static constexpr const char* source = "model";
  double step_joules(int ranks, double step_seconds) const {
    return ranks * watts_per_rank * step_seconds;
  }
};

}  // namespace phantom
