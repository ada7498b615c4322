// plan.measure = FILE: instead of training, measure this machine's step
// profile (plan/step_profile.hpp) through NVML and write it as CSV, for
// phantom-plan --step-profile. For each clock of plan.profile's list, every
// rank locks its GPU there, runs one warm-up and plan.measure_steps training
// steps, and records
//   - each phase's time per step (phase_tracker.hpp: layer passes, their
//     collectives, the optimizer; the ".memory" phases of the model are
//     inside the ".gemm" ones here and get time 0),
//   - its GPU's energy over those steps (NVML's counter), hence its mean
//     power P(f) = E / T; each phase's energy at f is P(f) x its time.
// Then the clocks are reset and 0.3 s of idling gives each GPU's idle power.
// The stages and phases are those of the cost model's profile for this
// network (plan/model_profile.hpp, one profile rank per rank); every option
// is labelled "nvml". The steps train the model (this is a profiling run:
// nothing is checkpointed and no metrics are written).
#pragma once

#include <mpi.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "phantom/comm/first_error.hpp"
#include "phantom/energy/nvml_meter.hpp"
#include "phantom/io/atomic_file.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/plan/model_profile.hpp"
#include "phantom/plan/planner.hpp"
#include "phantom/plan/step_profile.hpp"
#include "phantom/run/deck_config.hpp"
#include "phantom/run/phase_tracker.hpp"

namespace phantom::run {

// Accumulates wall time per phase between PhaseTracker's calls.
class PhaseTimer {
 public:
  void enter(const std::string& phase) {
    const auto now = std::chrono::steady_clock::now();
    if (!current_.empty())
      seconds_[current_] += std::chrono::duration<double>(now - since_).count();
    current_ = phase;
    since_ = now;
  }
  void stop() { enter(""); }
  const std::map<std::string, double>& seconds() const { return seconds_; }
  void clear() { seconds_.clear(); }

 private:
  std::string current_;
  std::chrono::steady_clock::time_point since_;
  std::map<std::string, double> seconds_;
};

// run_step(i) runs training step i (batch, forward, loss, backward, update).
template <class RunStep>
void measure_step_profile(const phantom::Deck& deck, int world_rank, int ranks,
                          unsigned device_index, std::size_t layers, RunStep&& run_step) {
  // Only the profile's stages and phase names are needed, not a plan.
  const auto device_profile = phantom::cost::load_profile(deck.plan.profile);
  const auto model = phantom::plan::model_step_profile(
      phantom::cost::network_costs(phantom::run::cost_input(deck, ranks)), device_profile, 1.0, {},
      false);
  const std::vector<int>& clocks = device_profile.clocks_mhz;
  // Every NVML step can fail on some ranks only (no library, no permission,
  // no such GPU): the ranks agree on the first error so none is left waiting
  // in a collective, and the clocks are reset on the way out.
  auto agree = [](const std::string& error) {
    const std::string first = phantom::first_error(MPI_COMM_WORLD, error);
    if (!first.empty()) throw phantom::DeckError("plan.measure: " + first);
  };
  std::shared_ptr<phantom::NvmlLibrary> nvml;
  std::unique_ptr<phantom::NvmlMeter> meter;
  phantom::nvml::Device device{};
  std::string error;
  try {
    nvml = std::make_shared<phantom::NvmlLibrary>(phantom::MeterOptions().nvml_library);
    meter = std::make_unique<phantom::NvmlMeter>(nvml, device_index);
    device = nvml->device(device_index);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree(error);
  struct ResetClocks {  // on every exit, errors included
    phantom::NvmlLibrary& nvml;
    phantom::nvml::Device device;
    ~ResetClocks() {
      try {
        nvml.reset_gpu_locked_clocks(device);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "plan.measure: resetting the GPU clocks failed: %s\n", e.what());
      }
    }
  } reset_clocks{*nvml, device};
  const std::size_t steps = std::size_t(deck.plan.measure_steps);

  // This rank's phases in profile order (every rank has the same names).
  std::vector<std::string> names;
  for (const auto& stage : model.profile.phases[0])
    for (const auto& phase : stage) names.push_back(phase.name);

  // Per clock: mean seconds per step of each phase, then the mean power.
  std::vector<double> mine;  // [clock][phase] seconds, then [clock] watts, then idle watts
  std::vector<double> watts;
  PhaseTimer timer;
  PhaseTracker tracker(layers, [&](const std::string& phase) { timer.enter(phase); });
  std::size_t step = 0;
  for (int clock : clocks) {
    try {
      nvml->set_gpu_locked_clocks(device, unsigned(clock), unsigned(clock));
    } catch (const std::exception& e) {
      error = e.what();
    }
    agree(error);
    run_step(step++);  // warm-up at this clock
    MPI_Barrier(MPI_COMM_WORLD);
    timer.clear();
    const double e0 = meter->joules();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < steps; ++i) {
      tracker.begin_step();
      run_step(step++);
      timer.stop();
      tracker.end_step();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    watts.push_back((meter->joules() - e0) / seconds);
    for (const auto& name : names) {
      const auto it = timer.seconds().find(name);
      mine.push_back(it == timer.seconds().end() ? 0.0 : it->second / double(steps));
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  nvml->reset_gpu_locked_clocks(device);
  const double idle0 = meter->joules();
  const auto i0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double idle_watts =
      (meter->joules() - idle0) /
      std::chrono::duration<double>(std::chrono::steady_clock::now() - i0).count();
  mine.insert(mine.end(), watts.begin(), watts.end());
  mine.push_back(idle_watts);

  std::vector<double> all(world_rank == 0 ? mine.size() * std::size_t(ranks) : 0);
  MPI_Gather(mine.data(), int(mine.size()), MPI_DOUBLE, all.data(), int(mine.size()), MPI_DOUBLE, 0,
             MPI_COMM_WORLD);
  if (world_rank != 0) return;

  phantom::plan::StepProfile measured = model.profile;
  const std::size_t n = names.size(), c = clocks.size();
  for (int r = 0; r < ranks; ++r) {
    const double* row = all.data() + std::size_t(r) * mine.size();
    std::size_t k = 0;
    for (auto& stage : measured.phases[std::size_t(r)])
      for (auto& phase : stage) {
        phase.options.clear();
        for (std::size_t j = 0; j < c; ++j) {
          const double t = row[j * n + k];
          phase.options.push_back({clocks[j], t, row[c * n + j] * t, "nvml"});
        }
        ++k;
      }
    measured.idle[std::size_t(r)] = {row[c * n + c], 0, "nvml"};
  }
  phantom::write_atomically(deck.plan.measure, [&](std::ostream& out) {
    phantom::plan::write_step_profile(measured, out);
  });
  const auto a = phantom::plan::plan_fastest(measured);
  std::printf("measured step profile (nvml): %zu clocks x %zu phases x %d ranks -> %s\n", c, n,
              ranks, deck.plan.measure.c_str());
  std::printf(
      "  on it, plan (a): %.3f ms and %.4g J per step, against %.3f ms and %.4g J at the "
      "top clock: saving %.4g J (%.2f%%; phantom-plan --step-profile %s)\n",
      1e3 * a.plan.time_s, a.plan.energy_j, 1e3 * a.baseline.time_s, a.baseline.energy_j,
      a.saving_j, a.baseline_energy_j > 0 ? 100 * a.saving_j / a.baseline_energy_j : 0.0,
      deck.plan.measure.c_str());
}

}  // namespace phantom::run
