// Reading one small sysfs attribute (a number or a name) with the errno kept, so
// an error can say "Permission denied" rather than "could not read".
#pragma once

#include <cstdint>
#include <string>

namespace phantom::detail {

struct SysfsRead {
  bool ok = false;
  std::string text;      // trailing newline removed
  int error_number = 0;  // errno when !ok
  std::string error;     // its strerror text
};

SysfsRead read_sysfs(const std::string& path);

// The unsigned decimal in `text`; false when it is not one.
bool parse_u64(const std::string& text, std::uint64_t& value);

}  // namespace phantom::detail
