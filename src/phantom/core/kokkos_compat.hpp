// The one place that absorbs differences between Kokkos (and Kokkos Kernels)
// 3.4, Debian's, and the 4.x releases Spack installs.
#pragma once

#include <Kokkos_Core.hpp>
#include <string>

namespace phantom::math {
#if KOKKOS_VERSION >= 30700
using Kokkos::erf;
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::log;
using Kokkos::sqrt;
using Kokkos::tanh;
#else
using Kokkos::Experimental::erf;
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::log;
using Kokkos::Experimental::sqrt;
using Kokkos::Experimental::tanh;
#endif
}  // namespace phantom::math

namespace phantom::compat {

// space.fence(label): Kokkos 3.4's fence takes no label.
template <class ExecSpace>
void fence(const ExecSpace& space, const std::string& label) {
#if KOKKOS_VERSION >= 30600
  space.fence(label);
#else
  (void)label;
  space.fence();
#endif
}

// The number of threads an instance runs a kernel with (static in Kokkos 3.4).
template <class ExecSpace>
int concurrency(const ExecSpace& space) {
  return space.concurrency();
}

}  // namespace phantom::compat
