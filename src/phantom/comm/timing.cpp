#include "phantom/comm/timing.hpp"

#include <array>

namespace phantom::detail {

const std::string& region_name(Collective c, Phase phase) {
  // Built once: pushRegion takes a std::string and collectives are frequent.
  static const auto names = [] {
    std::array<std::array<std::string, 3>, kCollectiveCount> n;
    for (std::size_t i = 0; i < kCollectiveCount; ++i) {
      const std::string base = std::string("phantom::comm::") + collective_name(Collective(i));
      n[i] = {base, base + "::issue", base + "::wait"};
    }
    return n;
  }();
  return names[static_cast<int>(c)][static_cast<int>(phase)];
}

}  // namespace phantom::detail
