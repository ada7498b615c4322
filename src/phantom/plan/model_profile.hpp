// A step profile (step_profile.hpp) from the cost model, for machines whose
// clocks cannot be measured here: every option is labelled "model".
//
// Stages: walking the network forward then backward, each collective closes a
// stage; the work of a layer's pass is put before its collective (the model
// has no overlap, step_time.hpp). Per rank and stage the phases are
//   <layer>.<forward|backward>.gemm     t_gemm of the pass at the top clock
//   <layer>.<forward|backward>.memory   its element-wise traffic
//   <layer>.<forward|backward>.<collective>   the transfer (one option: the
//                                        top clock; a GPU clock does not
//                                        change the link)
//   gradients.allreduce                  data parallelism (D > 1): the
//                                        replicas' gradient all-reduce, a
//                                        transfer ending the backward pass's
//                                        last stage
//   optimizer                            memory-bound, in the last stage
// With D > 1 the profile is one replica's (its p ranks); grid_plan.hpp plans
// the D replicas together.
// Clock model at graphics clock f (f_max the profile's highest clock):
//   time   t(f) = t(f_max) (f_max / f)^s,  s = 1 for GEMMs (compute-bound),
//                                           0.25 for memory-bound phases
//   power  P(f) = P_idle + (P_busy - P_idle) (f / f_max)^3  (dynamic power
//          ~ f V^2 with V ~ f), transfers and waits at P_idle.
// Identical ranks are folded into one whose energies and idle power are
// multiplied by their count: for any stage time each of them takes the same
// cheapest choice, so the folded profile has the same frontier (exact) at a
// fraction of the planning cost. A slow rank (slow_rank_factor > 1: its
// compute phases take that much longer, e.g. a throttled GPU) stays its own
// rank 0, the other p - 1 are folded into rank 1.
#pragma once

#include "phantom/cost/device_profile.hpp"
#include "phantom/cost/network_costs.hpp"
#include "phantom/plan/step_profile.hpp"

namespace phantom::plan {

// The phase of the data-parallel gradient all-reduce.
inline constexpr const char* data_parallel_phase = "gradients.allreduce";

struct ClockModel {
  double gemm_exponent = 1.0;
  double memory_exponent = 0.25;
  double power_exponent = 3.0;
};

struct ModelProfile {
  StepProfile profile;
  // Ranks of the real group each profile rank stands for (sum = p).
  std::vector<int> multiplicity;
};

// Throws InvalidArgument if slow_rank_factor < 1. fold = false keeps one
// profile rank per real rank (for tests of the folding).
ModelProfile model_step_profile(const cost::NetworkCosts& costs,
                                const cost::DeviceProfile& device,
                                double slow_rank_factor = 1.0, const ClockModel& clocks = {},
                                bool fold = true);

}  // namespace phantom::plan
