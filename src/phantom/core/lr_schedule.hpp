// Learning-rate schedules: the rate of training step s (0-based, counted over
// the whole trajectory, so a restart continues the schedule) from the base
// rate lr (docs/deck.md, train.schedule):
//   warm-up (any kind):  s < W:  lr (s + 1) / W
//   constant:            lr
//   cosine:              min + (lr - min) (1 + cos(pi t)) / 2,  t = min(1, (s - W) / D)
//   step:                lr factor^floor((s - W) / every)
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

enum class ScheduleKind { constant, cosine, step };

inline ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "cosine") return ScheduleKind::cosine;
  if (name == "step") return ScheduleKind::step;
  throw InvalidArgument("unknown learning-rate schedule '" + name +
                        "' (allowed: constant, cosine, step)");
}

struct LearningRateSchedule {
  ScheduleKind kind = ScheduleKind::constant;
  std::int64_t warmup_steps = 0;  // W
  std::int64_t decay_steps = 1;   // cosine: D, steps from the end of warm-up to `min`
  double min_learning_rate = 0;   // cosine: the floor
  std::int64_t step_every = 1;    // step: decay every this many steps
  double step_factor = 0.1;       // step: by this factor
};

inline void validate(const LearningRateSchedule& s) {
  if (s.warmup_steps < 0) throw InvalidArgument("schedule: warmup_steps must be >= 0");
  if (s.kind == ScheduleKind::cosine && s.decay_steps < 1)
    throw InvalidArgument("schedule: cosine needs decay_steps >= 1, got " +
                          std::to_string(s.decay_steps));
  if (s.kind == ScheduleKind::step && s.step_every < 1)
    throw InvalidArgument("schedule: step needs step_every >= 1, got " +
                          std::to_string(s.step_every));
}

inline double learning_rate_at(const LearningRateSchedule& s, double lr, std::int64_t step) {
  if (step < s.warmup_steps) return lr * double(step + 1) / double(s.warmup_steps);
  const std::int64_t after = step - s.warmup_steps;
  switch (s.kind) {
    case ScheduleKind::constant: return lr;
    case ScheduleKind::cosine: {
      const double t = std::min(1.0, double(after) / double(s.decay_steps));
      const double pi = 3.14159265358979323846;
      return s.min_learning_rate + (lr - s.min_learning_rate) * 0.5 * (1 + std::cos(pi * t));
    }
    case ScheduleKind::step: return lr * std::pow(s.step_factor, double(after / s.step_every));
  }
  return lr;
}

}  // namespace phantom
