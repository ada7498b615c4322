// Predicted time and energy of one training step on a device profile:
//   t_gemm = sum over GEMMs of 2 r c i / rate(r, c, i)
//   t_mem  = (element-wise + optimizer values) * scalar bytes / memory bandwidth
//   t_comm = ring collectives, per call of c values (s bytes each; compressed
//            messages: their compressed bytes, docs/compression.md):
//            allgather, reduce_scatter: (p-1) (alpha + c s / bw)
//            allreduce:               2 (p-1) (alpha + c s / (p bw))
//            data parallelism, D replicas: + 2 (D-1) (alpha + N s / (D bw)),
//            N = parameters per rank, on the link a ring over D p ranks uses
//   t_step = t_gemm + t_mem + t_comm  (no overlap: with Open MPI on CPUs the
//            non-blocking collectives progress only inside MPI calls)
//   E_step = D p (P_busy (t_gemm + t_mem) + P_idle t_comm)  -- always "model"
#pragma once

#include "phantom/cost/device_profile.hpp"
#include "phantom/cost/network_costs.hpp"

namespace phantom::cost {

struct StepPrediction {
  double gemm_s = 0, memory_s = 0, comm_s = 0;
  double data_parallel_s = 0;  // of comm_s: the gradient all-reduce over D replicas
  double step_s() const { return gemm_s + memory_s + comm_s; }
  double energy_j = 0;  // all ranks, one step, modelled
  bool fits_memory = true;
};

StepPrediction predict_step(const NetworkCosts& costs, const DeviceProfile& profile);

// The gradient all-reduce over D = costs.input.data_parallel replicas (0 for
// D = 1): 2 (D-1) (alpha + N s / (D bw)) on the link of D p ranks.
double data_parallel_seconds(const NetworkCosts& costs, const DeviceProfile& profile);

// Time of one call: steps x alpha + received bytes / bandwidth (compressed
// calls: their compressed bytes; the compressors' own work is not modelled).
double call_seconds(const CollectiveCall& call, std::size_t scalar_bytes, int p,
                    const DeviceProfile& profile);
// Time of one uncompressed collective call of `values` values on p ranks.
double collective_seconds(CollectiveKind kind, double values, std::size_t scalar_bytes, int p,
                          const DeviceProfile& profile);

}  // namespace phantom::cost
