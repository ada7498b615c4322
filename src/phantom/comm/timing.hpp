// Internal: wall-clock timing and the profiling region names of collectives.
#pragma once

#include <chrono>
#include <string>

#include "phantom/comm/comm_stats.hpp"

namespace phantom::detail {

enum class Phase { blocking, issue, wait };

// phantom::comm::<collective> (blocking), ...::issue and ...::wait (non-blocking).
const std::string& region_name(Collective c, Phase phase);

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace phantom::detail
