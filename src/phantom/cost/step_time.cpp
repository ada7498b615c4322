#include "phantom/cost/step_time.hpp"

namespace phantom::cost {

double collective_seconds(CollectiveKind kind, double values, std::size_t scalar_bytes, int p,
                          const DeviceProfile& profile) {
  if (p <= 1) return 0;
  const Link& link = profile.link_for(p);
  const double bytes = values * double(scalar_bytes);
  if (kind == CollectiveKind::allreduce)
    return 2.0 * (p - 1) * (link.alpha_s + bytes / p / link.bandwidth_bytes_s);
  return (p - 1) * (link.alpha_s + bytes / link.bandwidth_bytes_s);
}

double call_seconds(const CollectiveCall& call, std::size_t scalar_bytes, int p,
                    const DeviceProfile& profile) {
  if (p <= 1) return 0;
  const Link& link = profile.link_for(p);
  return call.steps(p) * link.alpha_s + call.bytes(p, scalar_bytes) / link.bandwidth_bytes_s;
}

double data_parallel_seconds(const NetworkCosts& costs, const DeviceProfile& profile) {
  const auto& in = costs.input;
  const int D = in.data_parallel;
  if (D <= 1) return 0;
  const Link& link = profile.link_for(D * in.ranks);  // the ring spans all D p ranks' nodes
  return 2.0 * (D - 1) *
         (link.alpha_s + costs.parameters_rank * double(in.scalar_bytes) / D / link.bandwidth_bytes_s);
}

StepPrediction predict_step(const NetworkCosts& costs, const DeviceProfile& profile) {
  StepPrediction s;
  const auto& in = costs.input;
  double streamed_values = costs.optimizer_values;
  auto add_gemms = [&](const std::vector<GemmShape>& gemms) {
    for (const auto& g : gemms) s.gemm_s += g.flops() / profile.gemm_rate(g.rows, g.cols, g.inner);
  };
  auto add_calls = [&](const std::vector<CollectiveCall>& calls) {
    for (const auto& c : calls)
      s.comm_s += call_seconds(c, in.scalar_bytes, in.ranks, profile);
  };
  for (const auto& layer : costs.layers) {
    add_gemms(layer.forward_gemms);
    add_gemms(layer.backward_gemms);
    add_calls(layer.forward_collectives);
    add_calls(layer.backward_collectives);
    streamed_values += layer.elementwise_values;
  }
  s.memory_s = streamed_values * double(in.scalar_bytes) / profile.memory_bytes_s;
  s.data_parallel_s = data_parallel_seconds(costs, profile);
  s.comm_s += s.data_parallel_s;
  s.energy_j = double(in.ranks) * in.data_parallel *
               (profile.busy_watts * (s.gemm_s + s.memory_s) + profile.idle_watts * s.comm_s);
  s.fits_memory =
      profile.memory_capacity_bytes <= 0 || costs.memory_bytes() <= profile.memory_capacity_bytes;
  return s;
}

}  // namespace phantom::cost
