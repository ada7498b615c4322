// Bias kernels over (batch x features) activations, on an execution-space instance.
#pragma once

#include "phantom/core/elementwise.hpp"
#include "phantom/core/error.hpp"

namespace phantom {

// z(i, j) += b(j)
template <class ExecSpace, class ZView, class BView>
void add_bias(const ExecSpace& space, const ZView& z, const BView& b) {
  require_equal(z.extent(1), b.extent(0), "add_bias", "z columns", "bias length");
  for_each_element(
      space, "phantom::add_bias", z.extent(0), z.extent(1),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { z(i, j) += b(j); });
}

// db(j) = sum_i delta(i, j): the bias gradient, summed over the batch.
template <class ExecSpace, class DView, class DBView>
void bias_gradient(const ExecSpace& space, const DView& delta, const DBView& db) {
  require_equal(delta.extent(1), db.extent(0), "bias_gradient", "delta columns", "bias length");
  using Scalar = typename DBView::non_const_value_type;
  const int rows = static_cast<int>(delta.extent(0));
  Kokkos::parallel_for(
      "phantom::bias_gradient", Kokkos::RangePolicy<ExecSpace>(space, 0, delta.extent(1)),
      KOKKOS_LAMBDA(const int j) {
        Scalar s = 0;
        for (int i = 0; i < rows; ++i) s += delta(i, j);
        db(j) = s;
      });
}

}  // namespace phantom
