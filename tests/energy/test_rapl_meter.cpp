// The RAPL meter against fake powercap trees laid out as Linux lays them out:
// <root>/intel-rapl:N (package) holding intel-rapl:N:M (core, uncore, dram).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "energy_test_helpers.hpp"
#include "phantom/energy/rapl_meter.hpp"

namespace {

using phantom_test::TempDir;
using phantom_test::write_file;
namespace fs = std::filesystem;

constexpr std::uint64_t package_range = 262143328850;  // a real package's max_energy_range_uj
constexpr std::uint64_t dram_range = 65712999613;

void zone(const fs::path& dir, const std::string& name, std::uint64_t energy, std::uint64_t range) {
  write_file(dir / "name", name);
  write_file(dir / "energy_uj", std::to_string(energy));
  write_file(dir / "max_energy_range_uj", std::to_string(range));
}

void set_energy(const fs::path& dir, std::uint64_t energy) {
  write_file(dir / "energy_uj", std::to_string(energy));
}

// One or two packages, each with core (left out) and dram sub-zones, plus a
// psys zone (left out: it contains the packages) and an mmio twin (left out).
struct FakePowercap {
  TempDir dir;
  fs::path pkg0, dram0, pkg1, dram1;
  explicit FakePowercap(bool two_packages) {
    pkg0 = dir.path() / "intel-rapl:0";
    dram0 = pkg0 / "intel-rapl:0:1";
    zone(pkg0, "package-0", 1000000, package_range);
    zone(pkg0 / "intel-rapl:0:0", "core", 500000, package_range);
    zone(dram0, "dram", 200000, dram_range);
    zone(dir.path() / "intel-rapl:2", "psys", 9000000, package_range);
    zone(dir.path() / "intel-rapl-mmio:0", "package-0", 7000000, package_range);
    fs::create_directories(dir.path() / "intel-rapl");  // the control type
    if (two_packages) {
      pkg1 = dir.path() / "intel-rapl:1";
      dram1 = pkg1 / "intel-rapl:1:0";
      zone(pkg1, "package-1", 3000000, package_range);
      zone(dram1, "dram", 400000, dram_range);
    }
  }
};

TEST(RaplMeter, PackageAndDramOfOnePackage) {
  FakePowercap tree(false);
  phantom::RaplMeter meter(tree.dir.str());
  EXPECT_EQ(meter.name(), "rapl");
  EXPECT_TRUE(meter.measured());
  EXPECT_EQ(meter.zones(), "package-0 + dram-0");
  EXPECT_EQ(meter.resolution_seconds(), 1e-3);
  EXPECT_EQ(meter.joules(), 0.0);
  set_energy(tree.pkg0, 1000000 + 2500000);            // +2.5 J
  set_energy(tree.dram0, 200000 + 750000);             // +0.75 J
  set_energy(tree.pkg0 / "intel-rapl:0:0", 99999999);  // core: not counted
  EXPECT_DOUBLE_EQ(meter.joules(), 3.25);
  EXPECT_DOUBLE_EQ(meter.joules(), 3.25);  // no change, no energy
}

TEST(RaplMeter, TwoPackagesAreSummed) {
  FakePowercap tree(true);
  phantom::RaplMeter meter(tree.dir.str());
  EXPECT_EQ(meter.zones(), "package-0 + dram-0 + package-1 + dram-1");
  set_energy(tree.pkg0, 1000000 + 1000000);
  set_energy(tree.dram0, 200000 + 100000);
  set_energy(tree.pkg1, 3000000 + 4000000);
  set_energy(tree.dram1, 400000 + 20);
  EXPECT_DOUBLE_EQ(meter.joules(), 5.10002);
}

TEST(RaplMeter, WrapAroundAddsTheRange) {
  FakePowercap tree(false);
  set_energy(tree.pkg0, package_range - 1000);  // 1 mJ before the top
  phantom::RaplMeter meter(tree.dir.str());
  set_energy(tree.pkg0, 4000);  // wrapped: 1000 uJ to the top, then 4000 uJ
  EXPECT_DOUBLE_EQ(meter.joules(), 0.005);
  set_energy(tree.pkg0, 6000);
  EXPECT_DOUBLE_EQ(meter.joules(), 0.007);
}

TEST(RaplMeter, CounterDeltaFormula) {
  using phantom::RaplMeter;
  EXPECT_EQ(RaplMeter::counter_delta(100, 250, 1000), 150u);
  EXPECT_EQ(RaplMeter::counter_delta(900, 50, 1000), 150u);  // (1000 - 900) + 50
  EXPECT_EQ(RaplMeter::counter_delta(1000, 0, 1000), 0u);    // the top, then 0
  EXPECT_EQ(RaplMeter::counter_delta(5000, 30, 1000), 30u);  // not this counter's range: restart
}

TEST(RaplMeter, MissingRootNamesIt) {
  TempDir dir;
  const std::string root = dir.str() + "/no-such-powercap";
  try {
    phantom::RaplMeter meter(root);
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.kind(), "rapl");
    EXPECT_EQ(std::string(e.what()), "energy meter 'rapl': " + root +
                                         " does not exist (RAPL needs Linux's powercap sysfs)");
  }
}

TEST(RaplMeter, NoPackageZone) {
  TempDir dir;
  zone(dir.path() / "intel-rapl:0", "psys", 1, package_range);  // psys alone does not count
  try {
    phantom::RaplMeter meter(dir.str());
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.reason(), dir.str() + " has no intel-rapl package zone");
  }
}

TEST(RaplMeter, MissingEnergyFileNamesIt) {
  FakePowercap tree(false);
  fs::remove(tree.dram0 / "energy_uj");
  try {
    phantom::RaplMeter meter(tree.dir.str());
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.reason(),
              "cannot read " + (tree.dram0 / "energy_uj").string() + ": No such file or directory");
  }
}

TEST(RaplMeter, UnreadableEnergyFileNamesIt) {
  FakePowercap tree(false);
  // A directory where the counter should be: unreadable even for root.
  fs::remove(tree.pkg0 / "energy_uj");
  fs::create_directory(tree.pkg0 / "energy_uj");
  try {
    phantom::RaplMeter meter(tree.dir.str());
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.reason(), "cannot read " + (tree.pkg0 / "energy_uj").string() + ": Is a directory");
  }
}

TEST(RaplMeter, RootOnlyEnergyFileSaysWhy) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads mode-000 files; nothing to check";
  FakePowercap tree(false);
  ::chmod((tree.pkg0 / "energy_uj").c_str(), 0);
  try {
    phantom::RaplMeter meter(tree.dir.str());
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_NE(e.reason().find("Permission denied (energy_uj is readable by root only"),
              std::string::npos)
        << e.reason();
  }
}

TEST(RaplMeter, GarbageInTheCounterIsAnError) {
  FakePowercap tree(false);
  phantom::RaplMeter meter(tree.dir.str());
  write_file(tree.pkg0 / "energy_uj", "lots");
  try {
    meter.joules();
    FAIL() << "expected Error";
  } catch (const phantom::Error& e) {
    EXPECT_EQ(std::string(e.what()), "energy meter 'rapl': cannot read " +
                                         (tree.pkg0 / "energy_uj").string() +
                                         ": 'lots' is not a number");
  }
}

}  // namespace
