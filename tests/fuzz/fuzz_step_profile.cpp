// The step-profile CSV reader (phantom-plan --profile, plan.profile): bad
// input must end in an InvalidArgument naming the line, never a crash or a
// hang; a profile that is read writes back to CSV that reads the same.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "phantom/core/error.hpp"
#include "phantom/plan/step_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto profile = phantom::plan::parse_step_profile(in, "fuzz.csv");
    std::ostringstream once, twice;
    phantom::plan::write_step_profile(profile, once);
    std::istringstream back(once.str());
    phantom::plan::write_step_profile(phantom::plan::parse_step_profile(back, "again.csv"), twice);
    if (once.str() != twice.str()) __builtin_trap();
  } catch (const phantom::Error&) {
  }
  return 0;
}
