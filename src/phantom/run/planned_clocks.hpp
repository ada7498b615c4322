// The modelled clock plan of a run, as its summary reports it (Kokkos-free).
#pragma once

#include <string>

namespace phantom::run {

struct PlannedClocks {
  std::string profile;
  double step_s = 0, energy_j = 0, baseline_step_s = 0, baseline_energy_j = 0, saving_j = 0;
};

}  // namespace phantom::run
