// The modelled clock plan of a run (plan.profile, docs/phantom-plan.md) and,
// with plan.apply, its application through NVML locked clocks
// (phantom/plan/clock_controller.hpp).
//
// Applying: the plan names phases "<layer>.<forward|backward>.<gemm|memory|
// collective>" and "optimizer" (plan/model_profile.hpp). phantom-train sees
// them through the profiling regions the layers, the communicator and the
// optimizer open, in step order: the n-th "...::forward" region of a step is
// layer n, the n-th "...::backward" region layer L-1-n; inside it a
// "phantom::comm::<collective>" region is the collective's phase and the rest
// of the layer runs at its ".gemm" clock (the model's GEMM and memory phases
// are not separable at region granularity, so memory-bound work takes the
// GEMM's clock). What runs between steps is unplanned and runs at the
// driver's default clocks. Without permission to lock clocks the controller
// reports the plan instead (its message says why); the clocks are reset at the
// end, on any error (destructor) and on SIGINT/SIGTERM (ClockSignalGuard).
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "phantom/cost/deck_input.hpp"
#include "phantom/energy/nvml_library.hpp"
#include "phantom/plan/advisor.hpp"
#include "phantom/plan/clock_controller.hpp"
#include "region_hooks.hpp"
#include "run_report.hpp"

namespace phantom_train {

// Plan (a), or plan (b) within plan.time_bound_ms, for this run's network.
struct ClockPlan {
  phantom::plan::Candidate candidate;
  phantom::plan::Plan chosen;
  std::string profile_name;
  RunReport::PlannedClocks summary() const {
    return {profile_name,          chosen.plan.time_s,     chosen.plan.energy_j,
            chosen.baseline.time_s, chosen.baseline.energy_j, chosen.saving_j};
  }
};

inline ClockPlan make_clock_plan(const phantom::Deck& deck, int ranks) {
  phantom::plan::AdvisorInput in;
  in.network = phantom::cost::cost_input(deck, ranks);
  in.device = phantom::cost::load_profile(deck.plan.profile);
  in.strategies = {in.network.strategy};
  in.ghosts = {in.network.ghost};
  in.ranks = {ranks};
  in.slow_rank_factor = deck.plan.slow_rank;
  in.time_bound_s = 1e-3 * deck.plan.time_bound_ms;
  auto advice = phantom::plan::advise(in);
  if (advice.candidates.empty())
    throw phantom::DeckError("plan.profile: " + advice.skipped.front().why);
  ClockPlan p{std::move(advice.candidates.front()), {}, in.device.name};
  const auto& c = p.candidate;
  if (in.time_bound_s > 0 && !c.bounded)
    throw phantom::DeckError("plan.time_bound_ms = " + std::to_string(deck.plan.time_bound_ms) +
                             " is below the fastest modelled step on " + deck.plan.profile +
                             " (" + std::to_string(1e3 * c.fastest.plan.time_s) + " ms)");
  if (deck.plan.apply && in.device.clocks_mhz.empty())
    throw phantom::DeckError("plan.apply: profile '" + deck.plan.profile +
                             "' has no GPU clocks to set");
  p.chosen = c.bounded ? *c.bounded : c.fastest;
  return p;
}

class AppliedClocks : private RegionListener {
 public:
  // world_rank picks this rank's schedule: with plan.slow_rank > 1 rank 0 is
  // the slow one (the profile's rank 0), the others share profile rank 1.
  AppliedClocks(const ClockPlan& plan, int world_rank, unsigned device_index, std::size_t layers,
                const std::string& nvml_library)
      : layers_(layers) {
    const auto& mp = plan.candidate.profile;
    const std::size_t profile_rank = mp.profile.ranks() > 1 && world_rank > 0 ? 1 : 0;
    auto schedule = phantom::plan::rank_clock_schedule(mp.profile, plan.chosen, profile_rank);
    controller_ = std::make_unique<phantom::plan::ClockController>(nvml_library, device_index,
                                                                   std::move(schedule));
  }
  ~AppliedClocks() override {
    if (listening_) RegionHooks::remove(this);
  }
  AppliedClocks(const AppliedClocks&) = delete;
  AppliedClocks& operator=(const AppliedClocks&) = delete;

  void begin_step() {
    forward_ = backward_ = 0;
    layer_.clear();
    open_.clear();
    RegionHooks::add(this);
    listening_ = true;
  }
  void end_step() {
    RegionHooks::remove(this);
    listening_ = false;
    controller_->enter_phase("between steps");  // unplanned: the driver's default clocks
  }
  void finish() { controller_->reset(); }
  const phantom::plan::ClockController& controller() const { return *controller_; }

 private:
  enum class Kind { layer, collective, other };
  static bool ends_with(const std::string& s, const char* tail) {
    const std::size_t n = std::char_traits<char>::length(tail);
    return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
  }
  static std::string label(std::size_t layer) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "layer_%03zu", layer);
    return buf;
  }
  void push(const char* region) override {
    const std::string r = region;
    Kind kind = Kind::other;
    if (r.rfind("phantom::comm::", 0) == 0) {
      if (!layer_.empty()) {
        const std::size_t start = 15, end = r.find("::", start);
        controller_->enter_phase(layer_ + "." + r.substr(start, end - start));
        kind = Kind::collective;
      }
    } else if (r == "phantom::optimizer") {
      controller_->enter_phase("optimizer");
    } else if (r.rfind("phantom::", 0) == 0 && ends_with(r, "::forward")) {
      layer_ = label(forward_++) + ".forward";
      controller_->enter_phase(layer_ + ".gemm");
      kind = Kind::layer;
    } else if (r.rfind("phantom::", 0) == 0 && ends_with(r, "::backward")) {
      layer_ = label(layers_ - 1 - backward_++) + ".backward";
      controller_->enter_phase(layer_ + ".gemm");
      kind = Kind::layer;
    }
    open_.push_back(kind);
  }
  void pop() override {
    if (open_.empty()) return;
    const Kind kind = open_.back();
    open_.pop_back();
    if (kind == Kind::collective && std::find(open_.begin(), open_.end(), Kind::collective) == open_.end())
      controller_->enter_phase(layer_ + ".gemm");
    if (kind == Kind::layer) layer_.clear();
  }

  std::size_t layers_, forward_ = 0, backward_ = 0;
  std::string layer_;
  std::vector<Kind> open_;
  bool listening_ = false;
  std::unique_ptr<phantom::plan::ClockController> controller_;
};

}  // namespace phantom_train
