// make_energy_meter: explicit kinds, "auto"'s order and its reasons, the
// environment overrides.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "energy_test_helpers.hpp"
#include "phantom/energy/energy_meter.hpp"

namespace {

using phantom_test::TempDir;
using phantom_test::write_file;

const std::string no_nvml = "/nonexistent/libnvidia-ml.so.1";
const std::string no_amd = "/nonexistent/libamd_smi.so";

std::string dlopen_absent(const std::string& path) {
  return path + " not found (dlopen: " + path +
         ": cannot open shared object file: No such file or directory)";
}

// Options that find nothing: no GPU library, an empty powercap tree.
phantom::MeterOptions nothing_here(const TempDir& powercap) {
  phantom::MeterOptions o;
  o.nvml_library = no_nvml;
  o.amd_smi_library = no_amd;
  o.powercap_root = powercap.str();
  o.model = [] { return 42.0; };
  o.model_description = "2 ranks x 4 W";
  return o;
}

TEST(MeterFactory, AutoFallsBackToTheModelWithReasons) {
  TempDir powercap;
  auto selection = phantom::make_energy_meter("auto", nothing_here(powercap));
  ASSERT_TRUE(selection.meter);
  EXPECT_EQ(selection.meter->name(), "model");
  EXPECT_FALSE(selection.meter->measured());
  EXPECT_EQ(selection.meter->zones(), "2 ranks x 4 W");
  ASSERT_EQ(selection.skipped.size(), 3u);
  EXPECT_EQ(selection.skipped[0].kind, "nvml");
  EXPECT_EQ(selection.skipped[0].reason, dlopen_absent(no_nvml));
  EXPECT_EQ(selection.skipped[1].kind, "amd-smi");
  EXPECT_EQ(selection.skipped[1].reason, dlopen_absent(no_amd));
  EXPECT_EQ(selection.skipped[2].kind, "rapl");
  EXPECT_EQ(selection.skipped[2].reason, powercap.str() + " has no intel-rapl package zone");
  EXPECT_EQ(selection.summary(),
            "nvml: " + dlopen_absent(no_nvml) + "; amd-smi: " + dlopen_absent(no_amd) +
                "; rapl: " + powercap.str() + " has no intel-rapl package zone -> model");
}

TEST(MeterFactory, AutoPrefersNvml) {
  TempDir powercap;
  auto options = nothing_here(powercap);
  options.nvml_library = PHANTOM_FAKE_NVML;
  options.device_index = 1;
  auto selection = phantom::make_energy_meter("auto", options);
  EXPECT_EQ(selection.meter->name(), "nvml");
  EXPECT_EQ(selection.meter->zones(), "GPU 1");
  EXPECT_TRUE(selection.skipped.empty());
  EXPECT_EQ(selection.summary(), "nvml");
}

TEST(MeterFactory, AutoTakesAmdSmiWhenNvmlIsAbsent) {
  TempDir powercap;
  auto options = nothing_here(powercap);
  options.amd_smi_library = PHANTOM_FAKE_AMD_SMI;
  auto selection = phantom::make_energy_meter("auto", options);
  EXPECT_EQ(selection.meter->name(), "amd-smi");
  EXPECT_EQ(selection.summary(), "nvml: " + dlopen_absent(no_nvml) + " -> amd-smi");
}

TEST(MeterFactory, AutoTakesRaplWhenNoGpuLibrary) {
  TempDir powercap;
  write_file(powercap.path() / "intel-rapl:0" / "name", "package-0");
  write_file(powercap.path() / "intel-rapl:0" / "energy_uj", "5");
  write_file(powercap.path() / "intel-rapl:0" / "max_energy_range_uj", "262143328850");
  auto selection = phantom::make_energy_meter("auto", nothing_here(powercap));
  EXPECT_EQ(selection.meter->name(), "rapl");
  EXPECT_EQ(selection.meter->zones(), "package-0");
  ASSERT_EQ(selection.skipped.size(), 2u);
  EXPECT_EQ(selection.summary(),
            "nvml: " + dlopen_absent(no_nvml) + "; amd-smi: " + dlopen_absent(no_amd) + " -> rapl");
}

TEST(MeterFactory, ExplicitKindThatIsUnavailableThrowsWhy) {
  TempDir powercap;
  const auto options = nothing_here(powercap);
  try {
    phantom::make_energy_meter("nvml", options);
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(std::string(e.what()), "energy meter 'nvml': " + dlopen_absent(no_nvml));
  }
  try {
    phantom::make_energy_meter("rapl", options);
    FAIL() << "expected MeterUnavailable";
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(std::string(e.what()),
              "energy meter 'rapl': " + powercap.str() + " has no intel-rapl package zone");
  }
  EXPECT_THROW(phantom::make_energy_meter("amd-smi", options), phantom::MeterUnavailable);
}

TEST(MeterFactory, ModelAndUnknownKinds) {
  TempDir powercap;
  auto options = nothing_here(powercap);
  auto selection = phantom::make_energy_meter("model", options);
  EXPECT_EQ(selection.meter->name(), "model");
  EXPECT_EQ(selection.summary(), "model");
  try {
    phantom::make_energy_meter("wattmeter", options);
    FAIL() << "expected InvalidArgument";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()),
              "energy meter 'wattmeter' is unknown (known: auto, model, rapl, nvml, amd-smi)");
  }
  options.model = nullptr;
  EXPECT_THROW(phantom::make_energy_meter("model", options), phantom::InvalidArgument);
  EXPECT_THROW(phantom::make_energy_meter("auto", options), phantom::InvalidArgument);
}

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { had_ ? ::setenv(name_, old_.c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(MeterOptions, DefaultsAndEnvironmentOverrides) {
  {
    ScopedEnv root("PHANTOM_POWERCAP_ROOT", nullptr);
    ScopedEnv nvml("PHANTOM_NVML_LIBRARY", nullptr);
    ScopedEnv amd("PHANTOM_AMDSMI_LIBRARY", "");  // empty counts as unset
    phantom::MeterOptions defaults;
    EXPECT_EQ(defaults.powercap_root, "/sys/class/powercap");
    EXPECT_EQ(defaults.nvml_library, "libnvidia-ml.so.1");
    EXPECT_EQ(defaults.amd_smi_library, "libamd_smi.so");
    EXPECT_EQ(defaults.device_index, 0u);
  }
  ScopedEnv root("PHANTOM_POWERCAP_ROOT", "/tmp/fake-powercap");
  ScopedEnv nvml("PHANTOM_NVML_LIBRARY", PHANTOM_FAKE_NVML);
  ScopedEnv amd("PHANTOM_AMDSMI_LIBRARY", PHANTOM_FAKE_AMD_SMI);
  phantom::MeterOptions options;
  EXPECT_EQ(options.powercap_root, "/tmp/fake-powercap");
  EXPECT_EQ(options.nvml_library, PHANTOM_FAKE_NVML);
  EXPECT_EQ(options.amd_smi_library, PHANTOM_FAKE_AMD_SMI);
  // The environment's library is the one "auto" finds.
  auto selection = phantom::make_energy_meter("auto", options);
  EXPECT_EQ(selection.meter->name(), "nvml");
}

}  // namespace
