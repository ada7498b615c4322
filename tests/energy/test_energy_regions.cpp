// EnergyRegions with a scripted meter and clock: per-region sums, nesting, and
// the flag on intervals shorter than the meter's update period.
#include <gtest/gtest.h>

#include "phantom/energy/energy_regions.hpp"

namespace {

// A measured meter whose reading and resolution the test sets.
class ScriptedMeter final : public phantom::EnergyMeter {
 public:
  double reading = 0.0, resolution = 0.1;
  std::string name() const override { return "scripted"; }
  double joules() override { return reading; }
  std::string zones() const override { return "GPU 0"; }
  double resolution_seconds() const override { return resolution; }
};

struct Clock {
  double now = 0.0;
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

TEST(EnergyRegions, AccumulatesPerRegion) {
  ScriptedMeter meter;
  Clock clock;
  phantom::EnergyRegions regions(meter, clock.fn());
  for (int step = 0; step < 2; ++step) {
    regions.begin("forward");
    meter.reading += 3.0;
    clock.now += 0.25;
    regions.end("forward");
    regions.begin("backward");
    meter.reading += 5.0;
    clock.now += 0.5;
    regions.end("backward");
    meter.reading += 100.0;  // between regions: nobody's
    clock.now += 1.0;
  }
  ASSERT_EQ(regions.regions().size(), 2u);
  EXPECT_EQ(regions.regions()[0].name, "forward");
  EXPECT_EQ(regions.regions()[1].name, "backward");
  EXPECT_DOUBLE_EQ(regions["forward"].joules, 6.0);
  EXPECT_DOUBLE_EQ(regions["forward"].seconds, 0.5);
  EXPECT_EQ(regions["forward"].intervals, 2u);
  EXPECT_TRUE(regions["forward"].resolved());
  EXPECT_DOUBLE_EQ(regions["backward"].joules, 10.0);
  EXPECT_DOUBLE_EQ(regions["backward"].seconds, 1.0);
  EXPECT_THROW(regions["optimizer"], phantom::InvalidArgument);
}

TEST(EnergyRegions, ShortIntervalsAreFlaggedUnresolved) {
  ScriptedMeter meter;  // updates every 0.1 s
  Clock clock;
  phantom::EnergyRegions regions(meter, clock.fn());
  regions.begin("optimizer");
  meter.reading += 0.5;
  clock.now += 0.02;  // 20 ms: under the meter's period
  regions.end("optimizer");
  regions.begin("optimizer");
  meter.reading += 2.0;
  clock.now += 0.125;
  regions.end("optimizer");
  const auto& r = regions["optimizer"];
  EXPECT_EQ(r.intervals, 2u);
  EXPECT_EQ(r.unresolved, 1u);
  EXPECT_FALSE(r.resolved());
  EXPECT_DOUBLE_EQ(r.joules, 2.5);  // counted, but flagged
  EXPECT_EQ(regions.report(),
            "energy by region, source scripted: GPU 0\n"
            "  region                   joules      seconds  intervals\n"
            "  optimizer                   2.5        0.145          2"
            "  unresolved: 1 of 2 intervals < 0.1 s\n");
}

TEST(EnergyRegions, ModelIsNeverUnresolvedAndSaysModelled) {
  double modelled = 0.0;
  phantom::ModelMeter meter([&] { return modelled; }, "1 rank x 4 W");
  Clock clock;
  phantom::EnergyRegions regions(meter, clock.fn());
  {
    phantom::EnergyRegions::Scope s(regions, "communication");
    modelled += 0.004;
    clock.now += 0.001;
  }
  EXPECT_TRUE(regions["communication"].resolved());
  EXPECT_DOUBLE_EQ(regions["communication"].joules, 0.004);
  EXPECT_EQ(regions.report(),
            "energy by region, source model (modelled, not measured): 1 rank x 4 W\n"
            "  region                   joules      seconds  intervals\n"
            "  communication             0.004        0.001          1\n");
}

TEST(EnergyRegions, NestedRegionsAndMismatchedEnd) {
  ScriptedMeter meter;
  meter.resolution = 0.0;
  Clock clock;
  phantom::EnergyRegions regions(meter, clock.fn());
  regions.begin("forward");
  meter.reading += 1.0;
  regions.begin("communication");
  meter.reading += 2.0;
  try {
    regions.end("forward");
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()),
              "EnergyRegions::end(\"forward\"): the innermost open region is \"communication\"");
  }
  regions.end("communication");
  meter.reading += 4.0;
  regions.end("forward");
  EXPECT_DOUBLE_EQ(regions["communication"].joules, 2.0);
  EXPECT_DOUBLE_EQ(regions["forward"].joules, 7.0);                // inclusive of communication
  EXPECT_THROW(regions.end("forward"), phantom::InvalidArgument);  // nothing open
}

}  // namespace
