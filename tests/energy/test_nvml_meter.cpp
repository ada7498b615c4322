// NVML through the fake libnvidia-ml: loading, errors in NVML's words, energy
// in mJ turned into J, and the clock calls the clock controller will use.
#include <gtest/gtest.h>

#include "energy_test_helpers.hpp"
#include "phantom/energy/nvml_meter.hpp"

namespace {

using phantom_test::FakeLibrary;

struct FakeNvml {
  FakeLibrary lib{PHANTOM_FAKE_NVML};
  void (*reset)() = lib.get<void (*)()>("fake_nvml_reset");
  void (*set_device_count)(unsigned) = lib.get<void (*)(unsigned)>("fake_nvml_set_device_count");
  void (*set_energy_mj)(unsigned, unsigned long long) =
      lib.get<void (*)(unsigned, unsigned long long)>("fake_nvml_set_energy_mj");
  void (*fail_next)(const char*, int) = lib.get<void (*)(const char*, int)>("fake_nvml_fail_next");
  void (*set_permission_denied)(int) = lib.get<void (*)(int)>("fake_nvml_set_permission_denied");
  void (*set_graphics_clock_step)(unsigned) =
      lib.get<void (*)(unsigned)>("fake_nvml_set_graphics_clock_step");
  int (*init_count)() = lib.get<int (*)()>("fake_nvml_init_count");
  unsigned (*locked_max)(unsigned) =
      lib.get<unsigned (*)(unsigned)>("fake_nvml_locked_graphics_clock");
  unsigned (*locked_min)(unsigned) =
      lib.get<unsigned (*)(unsigned)>("fake_nvml_locked_graphics_min");
  FakeNvml() { reset(); }
};

// The message of the MeterUnavailable that constructing the meter throws.
std::string unavailable(const std::string& path, unsigned device) {
  try {
    phantom::NvmlMeter meter(path, device);
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.kind(), "nvml");
    return e.what();
  }
  ADD_FAILURE() << "NvmlMeter(" << path << ", " << device << ") did not throw";
  return {};
}

TEST(NvmlMeter, AbsentLibraryIsNamed) {
  const std::string path = "/nonexistent/libnvidia-ml.so.1";
  EXPECT_EQ(unavailable(path, 0),
            "energy meter 'nvml': " + path + " not found (dlopen: " + path +
                ": cannot open shared object file: No such file or directory)");
}

TEST(NvmlMeter, InitFailureCarriesNvmlErrorString) {
  FakeNvml fake;
  fake.fail_next("nvmlInit_v2", 9);  // NVML_ERROR_DRIVER_NOT_LOADED
  EXPECT_EQ(unavailable(PHANTOM_FAKE_NVML, 0),
            "energy meter 'nvml': nvmlInit_v2: Driver Not Loaded (NVML error 9)");
  EXPECT_EQ(fake.init_count(), 0);
}

TEST(NvmlMeter, EnergyDeltasInJoules) {
  FakeNvml fake;
  fake.set_energy_mj(0, 5000000);  // 5 kJ since the driver loaded
  fake.set_energy_mj(1, 123456789);
  {
    phantom::NvmlMeter meter(PHANTOM_FAKE_NVML, 1);
    EXPECT_EQ(fake.init_count(), 1);
    EXPECT_EQ(meter.name(), "nvml");
    EXPECT_TRUE(meter.measured());
    EXPECT_EQ(meter.zones(), "GPU 1");
    EXPECT_EQ(meter.resolution_seconds(), 0.1);
    EXPECT_EQ(meter.joules(), 0.0);
    fake.set_energy_mj(1, 123456789 + 2500);  // +2.5 J
    fake.set_energy_mj(0, 9000000);           // another GPU: not ours
    EXPECT_DOUBLE_EQ(meter.joules(), 2.5);
    fake.set_energy_mj(1, 123456789 + 2501);
    EXPECT_DOUBLE_EQ(meter.joules(), 2.501);
    fake.set_energy_mj(1, 40);  // driver reloaded: adds nothing
    EXPECT_DOUBLE_EQ(meter.joules(), 2.501);
    fake.set_energy_mj(1, 1040);
    EXPECT_DOUBLE_EQ(meter.joules(), 3.501);
  }
  EXPECT_EQ(fake.init_count(), 0);  // nvmlShutdown on destruction
}

TEST(NvmlMeter, DeviceIndexPastTheCount) {
  FakeNvml fake;
  fake.set_device_count(2);
  EXPECT_EQ(unavailable(PHANTOM_FAKE_NVML, 2),
            std::string("energy meter 'nvml': NVML: GPU index 2 but ") + PHANTOM_FAKE_NVML +
                " reports 2 GPU(s)");
  EXPECT_EQ(fake.init_count(), 0);
}

TEST(NvmlMeter, EnergyNotSupported) {
  FakeNvml fake;
  fake.fail_next("nvmlDeviceGetTotalEnergyConsumption", 3);  // pre-Volta
  EXPECT_EQ(
      unavailable(PHANTOM_FAKE_NVML, 0),
      "energy meter 'nvml': nvmlDeviceGetTotalEnergyConsumption: Not Supported (NVML error 3)");
}

TEST(NvmlMeter, ReadFailureAfterStartThrowsNvmlError) {
  FakeNvml fake;
  phantom::NvmlMeter meter(PHANTOM_FAKE_NVML, 0);
  fake.fail_next("nvmlDeviceGetTotalEnergyConsumption", 15);
  try {
    meter.joules();
    FAIL() << "expected NvmlError";
  } catch (const phantom::NvmlError& e) {
    EXPECT_EQ(e.code(), phantom::nvml::error_gpu_is_lost);
    EXPECT_EQ(std::string(e.what()),
              "nvmlDeviceGetTotalEnergyConsumption: GPU is lost (NVML error 15)");
  }
}

TEST(NvmlLibrary, SupportedClocks) {
  FakeNvml fake;
  phantom::NvmlLibrary nvml(PHANTOM_FAKE_NVML);
  auto gpu = nvml.device(0);
  EXPECT_EQ(nvml.supported_memory_clocks(gpu), (std::vector<unsigned>{2619, 1593}));
  const auto graphics = nvml.supported_graphics_clocks(gpu, 2619);
  ASSERT_EQ(graphics.size(), 119u);  // 1980 down to 210 in 15 MHz steps
  EXPECT_EQ(graphics.front(), 1980u);
  EXPECT_EQ(graphics[1], 1965u);
  EXPECT_EQ(graphics.back(), 210u);
  EXPECT_EQ(nvml.supported_graphics_clocks(gpu, 1593).front(), 1755u);
  try {
    nvml.supported_graphics_clocks(gpu, 1000);
    FAIL() << "expected NvmlError";
  } catch (const phantom::NvmlError& e) {
    EXPECT_EQ(e.code(), phantom::nvml::error_not_found);
    EXPECT_EQ(std::string(e.what()),
              "nvmlDeviceGetSupportedGraphicsClocks(memory 1000 MHz): Not Found (NVML error 6)");
  }
}

TEST(NvmlLibrary, LongClockListsAreFetchedWhole) {
  FakeNvml fake;
  fake.set_graphics_clock_step(5);  // 355 clocks: more than the first guess of 128
  phantom::NvmlLibrary nvml(PHANTOM_FAKE_NVML);
  const auto graphics = nvml.supported_graphics_clocks(nvml.device(0), 2619);
  ASSERT_EQ(graphics.size(), 355u);
  EXPECT_EQ(graphics[128], 1980u - 128 * 5);
  EXPECT_EQ(graphics.back(), 210u);
}

TEST(NvmlLibrary, LockAndResetGraphicsClocks) {
  FakeNvml fake;
  phantom::NvmlLibrary nvml(PHANTOM_FAKE_NVML);
  auto gpu1 = nvml.device(1);
  EXPECT_EQ(nvml.clock_mhz(gpu1, phantom::nvml::clock_graphics), 1980u);
  EXPECT_EQ(nvml.clock_mhz(gpu1, phantom::nvml::clock_mem), 2619u);
  nvml.set_gpu_locked_clocks(gpu1, 1200, 1410);
  EXPECT_EQ(fake.locked_min(1), 1200u);
  EXPECT_EQ(fake.locked_max(1), 1410u);
  EXPECT_EQ(fake.locked_max(0), 0u);  // GPU 0 untouched
  EXPECT_EQ(nvml.clock_mhz(gpu1, phantom::nvml::clock_graphics), 1410u);
  nvml.reset_gpu_locked_clocks(gpu1);
  EXPECT_EQ(fake.locked_max(1), 0u);
  EXPECT_EQ(nvml.clock_mhz(gpu1, phantom::nvml::clock_graphics), 1980u);
}

TEST(NvmlLibrary, LockingWithoutRootIsNoPermission) {
  FakeNvml fake;
  fake.set_permission_denied(1);
  phantom::NvmlLibrary nvml(PHANTOM_FAKE_NVML);
  try {
    nvml.set_gpu_locked_clocks(nvml.device(0), 1005, 1005);
    FAIL() << "expected NvmlError";
  } catch (const phantom::NvmlError& e) {
    EXPECT_EQ(e.code(), phantom::nvml::error_no_permission);
    EXPECT_EQ(
        std::string(e.what()),
        "nvmlDeviceSetGpuLockedClocks(1005, 1005 MHz): Insufficient Permissions (NVML error 4)");
  }
  EXPECT_EQ(fake.locked_max(0), 0u);
}

TEST(NvmlLibrary, MissingRequiredSymbolIsNamed) {
  // The AMD SMI fake is a library without NVML's entry points.
  try {
    phantom::NvmlLibrary nvml(PHANTOM_FAKE_AMD_SMI);
    FAIL() << "expected LibraryUnavailable";
  } catch (const phantom::LibraryUnavailable& e) {
    EXPECT_EQ(std::string(e.what()), std::string(PHANTOM_FAKE_AMD_SMI) +
                                         " has no nvmlInit_v2 (too old, or not the vendor's "
                                         "library?)");
  }
}

}  // namespace
