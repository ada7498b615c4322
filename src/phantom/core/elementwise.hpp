// for_each_element: runs f(i, j) for every element of a (rows x cols) matrix on
// an execution-space instance.
// On GPUs one flat index per element, consecutive indices walking down a
// LayoutLeft column (coalesced). On host spaces a plain inner loop over a run
// of rows of one column, which the compiler vectorises: one run per column
// when there are at least as many columns as threads, else each column split
// into row ranges so every thread has work (a k = 16 ghost buffer has 16
// columns). Measured in Kokkos 3.4 Serial on a 256 x 2048 float bias add:
// 0.07 ms per column loop, against 1.0 ms with the flat index and 2.7 ms with
// an MDRangePolicy.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <string>
#include <type_traits>

#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

template <class ExecSpace, class F>
void for_each_element(const ExecSpace& space, const std::string& label, std::size_t rows,
                      std::size_t cols, const F& f) {
  if (rows == 0 || cols == 0) return;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace,
                                           typename ExecSpace::memory_space>::accessible) {
    const std::size_t threads = std::size_t(compat::concurrency(space));
    // Row ranges per column: enough for every thread, none shorter than 64 rows.
    std::size_t parts = cols >= threads ? 1 : (threads + cols - 1) / cols;
    parts = std::max<std::size_t>(1, std::min(parts, rows / 64));
    const std::size_t run = (rows + parts - 1) / parts;
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<ExecSpace>(space, 0, cols * parts),
        KOKKOS_LAMBDA(const std::size_t t) {
          const std::size_t j = t / parts, begin = (t % parts) * run;
          const std::size_t end = begin + run < rows ? begin + run : rows;
          for (std::size_t i = begin; i < end; ++i) f(i, j);
        });
  } else {
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<ExecSpace>(space, 0, rows * cols),
        KOKKOS_LAMBDA(const std::size_t idx) { f(idx % rows, idx / rows); });
  }
}

// for_each_run: runs f(begin, end) over [0, n) in runs. On host spaces runs of
// 16 Ki indices, each a plain loop in f that the compiler vectorises (one
// Kokkos index per element is not: Adam over 8.4 M floats took 17 ms per core
// that way and 4.4 ms in runs); on GPUs one index per thread.
template <class ExecSpace, class F>
void for_each_run(const ExecSpace& space, const std::string& label, std::size_t n, const F& f) {
  if (n == 0) return;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace,
                                           typename ExecSpace::memory_space>::accessible) {
    constexpr std::size_t run = std::size_t(1) << 14;
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<ExecSpace>(space, 0, (n + run - 1) / run),
        KOKKOS_LAMBDA(const std::size_t t) {
          const std::size_t begin = t * run;
          f(begin, begin + run < n ? begin + run : n);
        });
  } else {
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<ExecSpace>(space, 0, n),
        KOKKOS_LAMBDA(const std::size_t i) { f(i, i + 1); });
  }
}

}  // namespace phantom
