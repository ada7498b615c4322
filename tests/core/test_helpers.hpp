// Small helpers shared by the core tests: host copies and finite differences.
#pragma once

#include <Kokkos_Core.hpp>
#include <functional>
#include <vector>

namespace phantom_test {

template <class View>
std::vector<double> to_host_vector(const View& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  std::vector<double> out(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) out[i] = h.data()[i];
  return out;
}

// Sets element i of a contiguous view (on any memory space) to value.
template <class View>
void set_element(const View& v, std::size_t i, double value) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  h.data()[i] = typename View::non_const_value_type(value);
  Kokkos::deep_copy(v, h);
}

// Central difference of f with respect to element i of v.
template <class View>
double central_difference(const View& v, std::size_t i, const std::function<double()>& f,
                          double h = 1e-6) {
  const double x0 = to_host_vector(v)[i];
  set_element(v, i, x0 + h);
  const double fp = f();
  set_element(v, i, x0 - h);
  const double fm = f();
  set_element(v, i, x0);
  return (fp - fm) / (2 * h);
}

// |a - b| relative to max(|a|, |b|, floor).
inline double relative_error(double a, double b, double floor = 1e-8) {
  const double scale = std::max({std::abs(a), std::abs(b), floor});
  return std::abs(a - b) / scale;
}

}  // namespace phantom_test
