// Learning-rate schedules against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "phantom/core/lr_schedule.hpp"

namespace {

using phantom::learning_rate_at;
using phantom::LearningRateSchedule;
using phantom::ScheduleKind;

TEST(LearningRateSchedule, ConstantWithLinearWarmup) {
  LearningRateSchedule s;
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 0), 0.025);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 1), 0.05);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 3), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 4), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 1000), 0.1);
  s.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 0), 0.1);
}

TEST(LearningRateSchedule, CosineFromTheEndOfWarmupToTheFloor) {
  LearningRateSchedule s;
  s.kind = ScheduleKind::cosine;
  s.warmup_steps = 2;
  s.decay_steps = 10;
  s.min_learning_rate = 0.01;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 0), 0.05);     // warm-up
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 2), 0.1);      // t = 0
  EXPECT_NEAR(learning_rate_at(s, 0.1, 7), 0.055, 1e-15);  // t = 1/2: the midpoint
  EXPECT_NEAR(learning_rate_at(s, 0.1, 4),                 // t = 1/5
              0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI / 5)), 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 12), 0.01);   // t = 1
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.1, 500), 0.01);  // and stays
}

TEST(LearningRateSchedule, StepDecay) {
  LearningRateSchedule s;
  s.kind = ScheduleKind::step;
  s.warmup_steps = 1;
  s.step_every = 3;
  s.step_factor = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.2, 0), 0.2);  // warm-up of one step
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.2, 1), 0.2);  // (1 - 1) / 3 = 0
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.2, 3), 0.2);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.2, 4), 0.1);     // (4 - 1) / 3 = 1
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0.2, 10), 0.025);  // 3
}

TEST(LearningRateSchedule, BadSettingsAreRefused) {
  LearningRateSchedule s;
  s.kind = ScheduleKind::cosine;
  s.decay_steps = 0;
  EXPECT_THROW(phantom::validate(s), phantom::InvalidArgument);
  s.kind = ScheduleKind::step;
  s.step_every = 0;
  EXPECT_THROW(phantom::validate(s), phantom::InvalidArgument);
  EXPECT_THROW(phantom::parse_schedule("linear"), phantom::InvalidArgument);
}

}  // namespace
