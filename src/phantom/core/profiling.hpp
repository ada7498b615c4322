// A Kokkos::Profiling region for the lifetime of a scope, so Kokkos Tools
// (space-time-stack, ...) show where time goes: phantom::<strategy>::forward etc.
#pragma once

#include <Kokkos_Core.hpp>
#include <string>

namespace phantom {

class ProfilingRegion {
 public:
  explicit ProfilingRegion(const std::string& name) { Kokkos::Profiling::pushRegion(name); }
  ~ProfilingRegion() { Kokkos::Profiling::popRegion(); }
  ProfilingRegion(const ProfilingRegion&) = delete;
  ProfilingRegion& operator=(const ProfilingRegion&) = delete;
};

}  // namespace phantom
