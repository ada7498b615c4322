// The bias and the activation fused into one pass over a layer's output:
//   forward:  z += b, y = act(z)                      (add_bias, activation_forward)
//   backward: dz = dy * act'(z), db = sum_batch dz    (activation_backward, bias_gradient)
// Each element is computed by the same operations in the same order as the
// two separate kernels (the column sum too), so the results are bitwise the
// same; memory is walked once instead of twice. Backward also reads the
// forward's y where the derivative is cheaper from it (tanh' = 1 - y^2: no
// second tanh, the same value since y is tanh(z)).
#pragma once

#include <type_traits>

#include "phantom/core/activation.hpp"
#include "phantom/core/elementwise.hpp"
#include "phantom/core/error.hpp"

namespace phantom {

namespace detail {

template <Activation A, class ZView, class BView, class YView>
struct BiasActivationForward {
  ZView z;
  BView b;
  YView y;
  KOKKOS_INLINE_FUNCTION void operator()(std::size_t i, std::size_t j) const {
    const auto zij = z(i, j) + b(j);
    z(i, j) = zij;
    y(i, j) = activate<A>(zij);
  }
};

// One column j per call: the deltas (a loop the compiler vectorises), then
// their sum while the column is still in cache.
template <Activation A, class ZView, class DYView, class DZView, class DBView>
struct ActivationBackwardBias {
  ZView z;
  ZView y;
  DYView dy;
  DZView dz;
  DBView db;
  int rows;
  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    using Scalar = typename DBView::non_const_value_type;
    for (int i = 0; i < rows; ++i) dz(i, j) = dy(i, j) * activate_derivative<A>(z(i, j), y(i, j));
    Scalar s = 0;
    for (int i = 0; i < rows; ++i) s += dz(i, j);
    db(j) = s;
  }
};

// Host spaces: a group of up to 8 columns per call. The deltas column by
// column (contiguous in LayoutLeft, a loop the compiler vectorises), then the
// 8 column sums together, one independent chain per column: each sum still
// adds its column's elements in row order, as bias_gradient does (bitwise the
// same), but 8 chains hide the latency of a float add, which one chain waits
// on at every element (4.5 ms of pp's training step at width 2048 with one).
template <Activation A, class ZView, class DYView, class DZView, class DBView>
struct ActivationBackwardBiasColumns {
  static constexpr int group = 8;
  ZView z;
  ZView y;
  DYView dy;
  DZView dz;
  DBView db;
  int rows, cols;
  void operator()(const int g) const {
    using Scalar = typename DBView::non_const_value_type;
    const int j0 = g * group, n = cols - j0 < group ? cols - j0 : group;
    const Scalar* d[group];
    for (int c = 0; c < n; ++c) {
      const auto* zc = &z(0, j0 + c);
      const auto* yc = &y(0, j0 + c);
      const auto* dyc = &dy(0, j0 + c);
      Scalar* dzc = &dz(0, j0 + c);
      for (int i = 0; i < rows; ++i) dzc[i] = dyc[i] * activate_derivative<A>(zc[i], yc[i]);
      d[c] = dzc;
    }
    Scalar s[group] = {};
    if (n == group) {
      for (int i = 0; i < rows; ++i)
        for (int c = 0; c < group; ++c) s[c] += d[c][i];
    } else {
      for (int c = 0; c < n; ++c)
        for (int i = 0; i < rows; ++i) s[c] += d[c][i];
    }
    for (int c = 0; c < n; ++c) db(j0 + c) = s[c];
  }
};

}  // namespace detail

// z += b (per column), y = act(z), element-wise over (batch x features); y
// may alias z (then y = act(z + b) and z is lost: only for the identity, or
// where backward is not needed).
template <class ExecSpace, class ZView, class BView, class YView>
void bias_activation_forward(const ExecSpace& space, Activation a, const ZView& z, const BView& b,
                             const YView& y) {
  require_equal(z.extent(1), b.extent(0), "bias_activation_forward", "z columns", "bias length");
  require_equal(z.extent(0), y.extent(0), "bias_activation_forward", "z rows", "y rows");
  require_equal(z.extent(1), y.extent(1), "bias_activation_forward", "z columns", "y columns");
  dispatch_activation(a, [&](auto tag) {
    using Kernel = detail::BiasActivationForward<decltype(tag)::value, ZView, BView, YView>;
    for_each_element(space, "phantom::bias_activation_forward", z.extent(0), z.extent(1),
                     Kernel{z, b, y});
  });
}

// dz = dy * act'(z) and db = the column sums of dz, given z and y = act(z)
// from the forward pass (bias_activation_forward); dz may alias dy.
template <class ExecSpace, class ZView, class DYView, class DZView, class DBView>
void activation_backward_bias(const ExecSpace& space, Activation a, const ZView& z,
                              const ZView& y, const DYView& dy, const DZView& dz,
                              const DBView& db) {
  const char* what = "activation_backward_bias";
  require_equal(z.extent(0), dy.extent(0), what, "z rows", "dy rows");
  require_equal(z.extent(1), dy.extent(1), what, "z columns", "dy columns");
  require_equal(y.extent(0), z.extent(0), what, "y rows", "z rows");
  require_equal(y.extent(1), z.extent(1), what, "y columns", "z columns");
  require_equal(dz.extent(0), dy.extent(0), what, "dz rows", "dy rows");
  require_equal(dz.extent(1), dy.extent(1), what, "dz columns", "dy columns");
  require_equal(db.extent(0), dy.extent(1), what, "bias length", "dy columns");
  const int rows = static_cast<int>(dy.extent(0)), cols = static_cast<int>(dy.extent(1));
  constexpr bool host_columns =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible &&
      std::is_same_v<typename ZView::array_layout, Kokkos::LayoutLeft> &&
      std::is_same_v<typename DYView::array_layout, Kokkos::LayoutLeft> &&
      std::is_same_v<typename DZView::array_layout, Kokkos::LayoutLeft>;
  dispatch_activation(a, [&](auto tag) {
    constexpr Activation A = decltype(tag)::value;
    if constexpr (host_columns) {
      using Kernel = detail::ActivationBackwardBiasColumns<A, ZView, DYView, DZView, DBView>;
      Kokkos::parallel_for("phantom::activation_backward_bias",
                           Kokkos::RangePolicy<ExecSpace>(space, 0, (cols + 7) / 8),
                           Kernel{z, y, dy, dz, db, rows, cols});
    } else {
      using Kernel = detail::ActivationBackwardBias<A, ZView, DYView, DZView, DBView>;
      Kokkos::parallel_for("phantom::activation_backward_bias",
                           Kokkos::RangePolicy<ExecSpace>(space, 0, cols),
                           Kernel{z, y, dy, dz, db, rows});
    }
  });
}

}  // namespace phantom
