// Element-wise activations: y = act(z) forward, dz = dy * act'(z) backward.
#pragma once

#include <string>

#include "phantom/core/error.hpp"
#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

enum class Activation { identity, relu, gelu, tanh };

inline const char* to_string(Activation a) {
  switch (a) {
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::tanh: return "tanh";
  }
  return "?";
}

inline Activation parse_activation(const std::string& name) {
  if (name == "identity") return Activation::identity;
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "tanh") return Activation::tanh;
  throw InvalidArgument("unknown activation '" + name +
                        "' (allowed: identity, relu, gelu, tanh)");
}

// act(z). GELU is the exact erf form, as PyTorch's default.
template <class Scalar>
KOKKOS_INLINE_FUNCTION Scalar activate(Activation a, Scalar z) {
  switch (a) {
    case Activation::relu: return z > Scalar(0) ? z : Scalar(0);
    case Activation::gelu:
      return Scalar(0.5) * z * (Scalar(1) + math::erf(z * Scalar(0.70710678118654752440)));
    case Activation::tanh: return math::tanh(z);
    default: return z;
  }
}

// act'(z).
template <class Scalar>
KOKKOS_INLINE_FUNCTION Scalar activate_derivative(Activation a, Scalar z) {
  switch (a) {
    case Activation::relu: return z > Scalar(0) ? Scalar(1) : Scalar(0);
    case Activation::gelu: {
      const Scalar cdf = Scalar(0.5) * (Scalar(1) + math::erf(z * Scalar(0.70710678118654752440)));
      const Scalar pdf = Scalar(0.39894228040143267794) * math::exp(Scalar(-0.5) * z * z);
      return cdf + z * pdf;
    }
    case Activation::tanh: {
      const Scalar t = math::tanh(z);
      return Scalar(1) - t * t;
    }
    default: return Scalar(1);
  }
}

// y = act(z), element-wise over (batch x features).
template <class Space, class ZView, class YView>
void activation_forward(Activation a, const ZView& z, const YView& y) {
  require_equal(z.extent(0), y.extent(0), "activation_forward", "z rows", "y rows");
  require_equal(z.extent(1), y.extent(1), "activation_forward", "z columns", "y columns");
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2, Kokkos::Iterate::Left>>;
  Kokkos::parallel_for(
      "phantom::activation_forward", Policy({0, 0}, {z.extent(0), z.extent(1)}),
      KOKKOS_LAMBDA(const int i, const int j) { y(i, j) = activate(a, z(i, j)); });
}

// dz = dy * act'(z), element-wise; dz may alias dy.
template <class Space, class ZView, class DYView, class DZView>
void activation_backward(Activation a, const ZView& z, const DYView& dy, const DZView& dz) {
  require_equal(z.extent(0), dy.extent(0), "activation_backward", "z rows", "dy rows");
  require_equal(z.extent(1), dy.extent(1), "activation_backward", "z columns", "dy columns");
  require_equal(dz.extent(0), dy.extent(0), "activation_backward", "dz rows", "dy rows");
  require_equal(dz.extent(1), dy.extent(1), "activation_backward", "dz columns", "dy columns");
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2, Kokkos::Iterate::Left>>;
  Kokkos::parallel_for(
      "phantom::activation_backward", Policy({0, 0}, {z.extent(0), z.extent(1)}),
      KOKKOS_LAMBDA(const int i, const int j) {
        dz(i, j) = dy(i, j) * activate_derivative(a, z(i, j));
      });
}

}  // namespace phantom
