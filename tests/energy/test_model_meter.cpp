// The model meter: the caller's modelled joules, relative to construction, and
// always labelled "model".
#include <gtest/gtest.h>

#include <thread>

#include "phantom/energy/energy_meter.hpp"

namespace {

TEST(ModelMeter, ReportsTheFunctionSinceConstruction) {
  double modelled = 7.5;  // joules the model had counted before the meter existed
  phantom::ModelMeter meter([&] { return modelled; }, "2 ranks x 4 W");
  EXPECT_EQ(meter.name(), "model");
  EXPECT_FALSE(meter.measured());
  EXPECT_EQ(meter.zones(), "2 ranks x 4 W");
  EXPECT_EQ(meter.resolution_seconds(), 0.0);
  EXPECT_EQ(meter.joules(), 0.0);
  modelled = 10.0;
  EXPECT_DOUBLE_EQ(meter.joules(), 2.5);
  modelled = 12.25;
  EXPECT_DOUBLE_EQ(meter.joules(), 4.75);
}

TEST(ModelMeter, EmptyFunctionIsRejected) {
  EXPECT_THROW(phantom::ModelMeter(std::function<double()>{}), phantom::InvalidArgument);
}

TEST(ModelMeter, ConstantPowerGrowsWithWallTime) {
  auto model = phantom::constant_power_model(100.0);
  const double before = model();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double after = model();
  // 100 W for at least 20 ms is at least 2 J; a loaded machine may sleep longer.
  EXPECT_GE(after - before, 2.0);
  EXPECT_LT(after - before, 100.0);  // under a second
  EXPECT_THROW(phantom::constant_power_model(-1.0), phantom::InvalidArgument);
}

}  // namespace
