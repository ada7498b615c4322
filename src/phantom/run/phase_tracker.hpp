// Which phase of a planned step is running, seen through the profiling
// regions the layers, the communicator and the optimizer open (in step
// order): the n-th "phantom::...::forward" region of a step is layer n and
// the n-th "...::backward" region layer L-1-n; inside a layer a
// "phantom::comm::<collective>" region is phase "<layer>.<pass>.<collective>",
// the rest of the layer "<layer>.<pass>.gemm" (the plan's ".memory" phases
// cannot be told apart from the GEMMs at region granularity);
// "phantom::optimizer" is "optimizer". These are the phase names of
// plan/model_profile.hpp. The callback gets each phase as it begins.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "phantom/run/region_hooks.hpp"

namespace phantom::run {

class PhaseTracker : private RegionListener {
 public:
  using Callback = std::function<void(const std::string& phase)>;
  PhaseTracker(std::size_t layers, Callback on_phase)
      : layers_(layers), on_phase_(std::move(on_phase)) {}
  ~PhaseTracker() override {
    if (listening_) RegionHooks::remove(this);
  }
  PhaseTracker(const PhaseTracker&) = delete;
  PhaseTracker& operator=(const PhaseTracker&) = delete;

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
  }

 private:
  enum class Kind { layer, collective, other };
  static bool ends_with(const std::string& s, const char* tail) {
    const std::size_t n = std::char_traits<char>::length(tail);
    return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
  }
  static std::string label(std::size_t layer) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "layer_%03zu", layer);
    return buf;
  }
  void push(const char* region) override {
    const std::string r = region;
    Kind kind = Kind::other;
    if (r.rfind("phantom::comm::", 0) == 0) {
      if (!layer_.empty()) {
        const std::size_t start = 15, end = r.find("::", start);
        on_phase_(layer_ + "." + r.substr(start, end - start));
        kind = Kind::collective;
      }
    } else if (r == "phantom::optimizer") {
      on_phase_("optimizer");
    } else if (r.rfind("phantom::", 0) == 0 && ends_with(r, "::forward")) {
      layer_ = label(forward_++) + ".forward";
      on_phase_(layer_ + ".gemm");
      kind = Kind::layer;
    } else if (r.rfind("phantom::", 0) == 0 && ends_with(r, "::backward")) {
      layer_ = label(layers_ - 1 - backward_++) + ".backward";
      on_phase_(layer_ + ".gemm");
      kind = Kind::layer;
    }
    open_.push_back(kind);
  }
  void pop() override {
    if (open_.empty()) return;
    const Kind kind = open_.back();
    open_.pop_back();
    if (kind == Kind::collective &&
        std::find(open_.begin(), open_.end(), Kind::collective) == open_.end())
      on_phase_(layer_ + ".gemm");
    if (kind == Kind::layer) layer_.clear();
  }

  std::size_t layers_, forward_ = 0, backward_ = 0;
  Callback on_phase_;
  std::string layer_;
  std::vector<Kind> open_;
  bool listening_ = false;
};

}  // namespace phantom::run
