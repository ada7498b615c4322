#include "phantom/plan/model_profile.hpp"

#include <cmath>

#include "phantom/core/error.hpp"
#include "phantom/cost/step_time.hpp"

namespace phantom::plan {

namespace {

// One rank's phases, stage by stage, at the top clock: (name, seconds, kind).
enum class Kind { gemm, memory, transfer };
struct TopClockPhase {
  std::string name;
  double seconds;
  Kind kind;
};
using Stages = std::vector<std::vector<TopClockPhase>>;

Stages top_clock_stages(const cost::NetworkCosts& costs, const cost::DeviceProfile& device) {
  const auto& in = costs.input;
  const double s = double(in.scalar_bytes);
  Stages stages(1);
  auto work = [&](const cost::LayerCost& layer, const std::vector<cost::GemmShape>& gemms,
                  const std::vector<cost::CollectiveCall>& calls, const char* pass,
                  double memory_values) {
    double gemm = 0;
    for (const auto& g : gemms) gemm += g.flops() / device.gemm_rate(g.rows, g.cols, g.inner);
    const std::string base = layer.name + "." + pass;
    if (gemm > 0) stages.back().push_back({base + ".gemm", gemm, Kind::gemm});
    if (memory_values > 0)
      stages.back().push_back({base + ".memory", memory_values * s / device.memory_bytes_s,
                               Kind::memory});
    for (const auto& c : calls) {
      const double t = cost::call_seconds(c, in.scalar_bytes, in.ranks, device);
      if (in.ranks <= 1) continue;
      stages.back().push_back({base + "." + cost::to_string(c.kind), t, Kind::transfer});
      stages.emplace_back();  // the collective ends the stage
    }
  };
  // Element-wise traffic split as in step_time: forward bias + activation
  // (4 of the 8 values per output), backward derivative + bias gradient.
  for (const auto& layer : costs.layers)
    work(layer, layer.forward_gemms, layer.forward_collectives, "forward",
         layer.elementwise_values * 0.5);
  for (auto it = costs.layers.rbegin(); it != costs.layers.rend(); ++it)
    work(*it, it->backward_gemms, it->backward_collectives, "backward",
         it->elementwise_values * 0.5);
  // Data parallelism: the replicas' gradient all-reduce ends the last
  // stage of the backward pass; the optimizer runs after it.
  if (in.data_parallel > 1) {
    stages.back().push_back(
        {data_parallel_phase, cost::data_parallel_seconds(costs, device), Kind::transfer});
    stages.emplace_back();
  }
  stages.back().push_back(
      {"optimizer", costs.optimizer_values * s / device.memory_bytes_s, Kind::memory});
  return stages;
}

Phase phase_options(const TopClockPhase& top, const cost::DeviceProfile& device,
                    const ClockModel& model, double slowdown, double count) {
  Phase phase;
  phase.name = top.name;
  const double dynamic = device.busy_watts - device.idle_watts;
  std::vector<int> clocks = device.clocks_mhz;
  if (clocks.empty() || top.kind == Kind::transfer)
    clocks = {device.clocks_mhz.empty() ? 0 : device.clocks_mhz.front()};
  const double f_max = device.clocks_mhz.empty() ? 1.0 : double(device.clocks_mhz.front());
  for (int clock : clocks) {
    const double ratio = device.clocks_mhz.empty() ? 1.0 : double(clock) / f_max;
    ClockOption o;
    o.clock_mhz = clock;
    o.source = "model";
    if (top.kind == Kind::transfer) {
      o.time_s = top.seconds;
      o.energy_j = count * device.idle_watts * o.time_s;
    } else {
      const double exponent = top.kind == Kind::gemm ? model.gemm_exponent : model.memory_exponent;
      o.time_s = top.seconds * slowdown * std::pow(1.0 / ratio, exponent);
      o.energy_j = count * (device.idle_watts + dynamic * std::pow(ratio, model.power_exponent)) *
                   o.time_s;
    }
    phase.options.push_back(o);
  }
  return phase;
}

}  // namespace

ModelProfile model_step_profile(const cost::NetworkCosts& costs, const cost::DeviceProfile& device,
                                double slow_rank_factor, const ClockModel& clocks, bool fold) {
  if (!(slow_rank_factor >= 1.0))
    throw InvalidArgument("slow-rank factor must be >= 1, got " + std::to_string(slow_rank_factor));
  const int p = costs.input.ranks;
  const Stages stages = top_clock_stages(costs, device);
  ModelProfile out;
  if (!fold) {
    out.multiplicity.assign(std::size_t(p), 1);
  } else {
    if (slow_rank_factor > 1.0) out.multiplicity.push_back(1);
    const int rest = p - int(out.multiplicity.size());
    if (rest > 0) out.multiplicity.push_back(rest);
  }
  for (std::size_t r = 0; r < out.multiplicity.size(); ++r) {
    const double slowdown = (slow_rank_factor > 1.0 && r == 0) ? slow_rank_factor : 1.0;
    const double count = out.multiplicity[r];
    std::vector<std::vector<Phase>> rank_stages;
    for (const auto& stage : stages) {
      std::vector<Phase> phases;
      for (const auto& top : stage) {
        // A transfer is as long on every rank; only compute slows down.
        const double s = top.kind == Kind::transfer ? 1.0 : slowdown;
        phases.push_back(phase_options(top, device, clocks, s, count));
      }
      rank_stages.push_back(std::move(phases));
    }
    out.profile.phases.push_back(std::move(rank_stages));
    out.profile.idle.push_back(
        {count * device.idle_watts, device.clocks_mhz.empty() ? 0 : device.clocks_mhz.front(),
         "model"});
  }
  out.profile.validate();
  return out;
}

}  // namespace phantom::plan
