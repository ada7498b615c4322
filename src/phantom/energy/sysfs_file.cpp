#include "phantom/energy/sysfs_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace phantom {

namespace detail {

SysfsRead read_sysfs(const std::string& path) {
  SysfsRead r;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error_number = errno;
    r.error = std::strerror(errno);
    return r;
  }
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) r.text.append(buffer, static_cast<size_t>(n));
  if (n < 0) {
    r.error_number = errno;
    r.error = std::strerror(errno);
  }
  ::close(fd);
  if (n < 0) return r;
  while (!r.text.empty() && (r.text.back() == '\n' || r.text.back() == ' ')) r.text.pop_back();
  r.ok = true;
  return r;
}

bool parse_u64(const std::string& text, std::uint64_t& value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  value = v;
  return true;
}

}  // namespace detail

}  // namespace phantom
