// AMD SMI through the fake libamd_smi: GPU numbering across sockets, counts x
// resolution in joules, errors in AMD SMI's words.
#include <gtest/gtest.h>

#include <cstdint>

#include "energy_test_helpers.hpp"
#include "phantom/energy/amd_smi_meter.hpp"

namespace {

using phantom_test::FakeLibrary;

struct FakeAmdSmi {
  FakeLibrary lib{PHANTOM_FAKE_AMD_SMI};
  void (*reset)() = lib.get<void (*)()>("fake_amdsmi_reset");
  void (*set_layout)(const unsigned*, unsigned) =
      lib.get<void (*)(const unsigned*, unsigned)>("fake_amdsmi_set_layout");
  void (*set_counts)(unsigned, std::uint64_t) =
      lib.get<void (*)(unsigned, std::uint64_t)>("fake_amdsmi_set_counts");
  void (*set_resolution)(float) = lib.get<void (*)(float)>("fake_amdsmi_set_resolution");
  void (*fail_next)(const char*, std::uint32_t) =
      lib.get<void (*)(const char*, std::uint32_t)>("fake_amdsmi_fail_next");
  int (*init_count)() = lib.get<int (*)()>("fake_amdsmi_init_count");
  std::uint64_t (*last_init_flags)() = lib.get<std::uint64_t (*)()>("fake_amdsmi_last_init_flags");
  FakeAmdSmi() { reset(); }
};

std::string unavailable(const std::string& path, unsigned device) {
  try {
    phantom::AmdSmiMeter meter(path, device);
  } catch (const phantom::MeterUnavailable& e) {
    EXPECT_EQ(e.kind(), "amd-smi");
    return e.what();
  }
  ADD_FAILURE() << "AmdSmiMeter(" << path << ", " << device << ") did not throw";
  return {};
}

TEST(AmdSmiMeter, AbsentLibraryIsNamed) {
  const std::string path = "/nonexistent/libamd_smi.so";
  EXPECT_EQ(unavailable(path, 0),
            "energy meter 'amd-smi': " + path + " not found (dlopen: " + path +
                ": cannot open shared object file: No such file or directory)");
}

TEST(AmdSmiMeter, CountsTimesResolutionInJoules) {
  FakeAmdSmi fake;
  fake.set_resolution(15.25f);  // exact in binary, so the joules are exact too
  fake.set_counts(2, 1000000);
  {
    // GPU 2 is the only GPU of socket 1 (socket 0 holds GPUs 0 and 1).
    phantom::AmdSmiMeter meter(PHANTOM_FAKE_AMD_SMI, 2);
    EXPECT_EQ(fake.init_count(), 1);
    EXPECT_EQ(fake.last_init_flags(), 2u);  // AMDSMI_INIT_AMD_GPUS
    EXPECT_EQ(meter.name(), "amd-smi");
    EXPECT_TRUE(meter.measured());
    EXPECT_EQ(meter.zones(), "GPU 2");
    EXPECT_EQ(meter.joules(), 0.0);
    fake.set_counts(2, 1000000 + 200000);  // 200000 x 15.25 uJ = 3.05 J
    fake.set_counts(1, 777777);            // another GPU
    EXPECT_DOUBLE_EQ(meter.joules(), 3.05);
    fake.set_counts(2, 5);  // went backwards: adds nothing, noted
    EXPECT_DOUBLE_EQ(meter.joules(), 3.05);
    EXPECT_EQ(meter.backward_steps(), 1u);
    fake.set_counts(2, 5 + 40000);  // + 0.61 J
    EXPECT_DOUBLE_EQ(meter.joules(), 3.66);
  }
  EXPECT_EQ(fake.init_count(), 0);  // amdsmi_shut_down on destruction
}

TEST(AmdSmiMeter, GpusAreNumberedAcrossSockets) {
  FakeAmdSmi fake;
  const unsigned layout[] = {1, 3};  // GPU 0 | GPUs 1, 2, 3
  fake.set_layout(layout, 2);
  fake.set_counts(3, 100);
  phantom::AmdSmiMeter meter(PHANTOM_FAKE_AMD_SMI, 3);
  fake.set_counts(3, 300);
  fake.set_counts(0, 999);
  EXPECT_DOUBLE_EQ(meter.joules(), 200 * static_cast<double>(15.3f) * 1e-6);  // default resolution
  EXPECT_EQ(unavailable(PHANTOM_FAKE_AMD_SMI, 4),
            std::string("energy meter 'amd-smi': GPU index 4 but ") + PHANTOM_FAKE_AMD_SMI +
                " reports 4 GPU(s)");
}

TEST(AmdSmiMeter, InitFailureCarriesStatusText) {
  FakeAmdSmi fake;
  fake.fail_next("amdsmi_init", 34);  // AMDSMI_STATUS_DRIVER_NOT_LOADED
  EXPECT_EQ(unavailable(PHANTOM_FAKE_AMD_SMI, 0),
            "energy meter 'amd-smi': amdsmi_init(AMDSMI_INIT_AMD_GPUS): Processor driver not "
            "loaded (AMD SMI status 34)");
  EXPECT_EQ(fake.init_count(), 0);
}

TEST(AmdSmiMeter, FailureAfterInitShutsDown) {
  FakeAmdSmi fake;
  fake.fail_next("amdsmi_get_energy_count", 2);  // AMDSMI_STATUS_NOT_SUPPORTED (a VM guest)
  EXPECT_EQ(unavailable(PHANTOM_FAKE_AMD_SMI, 1),
            "energy meter 'amd-smi': amdsmi_get_energy_count(GPU 1): Command not supported "
            "(AMD SMI status 2)");
  EXPECT_EQ(fake.init_count(), 0);  // the init was undone
}

TEST(AmdSmiMeter, MissingEntryPointIsNamed) {
  EXPECT_EQ(unavailable(PHANTOM_FAKE_NVML, 0),
            std::string("energy meter 'amd-smi': ") + PHANTOM_FAKE_NVML +
                " has no amdsmi_init (too old, or not the vendor's library?)");
}

}  // namespace
