// The device-profile reader (a TOML file written by phantom-cost --calibrate,
// named by plan.profile or --device): bad input must end in a phantom::Error
// naming the file, never a crash or a hang.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "phantom/core/error.hpp"
#include "phantom/cost/device_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = phantom_fuzz::write_input(data, size, "device.toml");
  try {
    (void)phantom::cost::load_profile(path);
  } catch (const phantom::Error&) {
  }
  return 0;
}
