// Element-wise activations: y = act(z) forward, dz = dy * act'(z) backward.
#pragma once

#include <string>

#include "phantom/core/activation_kind.hpp"
#include "phantom/core/elementwise.hpp"
#include "phantom/core/error.hpp"
#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

// act(z) for a compile-time activation. GELU is the exact erf form, as
// PyTorch's default.
template <Activation A, class Scalar>
KOKKOS_INLINE_FUNCTION Scalar activate(Scalar z) {
  if constexpr (A == Activation::relu) {
    return z > Scalar(0) ? z : Scalar(0);
  } else if constexpr (A == Activation::gelu) {
    return Scalar(0.5) * z * (Scalar(1) + math::erf(z * Scalar(0.70710678118654752440)));
  } else if constexpr (A == Activation::tanh) {
    return math::tanh(z);
  } else {
    return z;
  }
}

// act'(z) for a compile-time activation.
template <Activation A, class Scalar>
KOKKOS_INLINE_FUNCTION Scalar activate_derivative(Scalar z) {
  if constexpr (A == Activation::relu) {
    return z > Scalar(0) ? Scalar(1) : Scalar(0);
  } else if constexpr (A == Activation::gelu) {
    const Scalar cdf = Scalar(0.5) * (Scalar(1) + math::erf(z * Scalar(0.70710678118654752440)));
    const Scalar pdf = Scalar(0.39894228040143267794) * math::exp(Scalar(-0.5) * z * z);
    return cdf + z * pdf;
  } else if constexpr (A == Activation::tanh) {
    const Scalar t = math::tanh(z);
    return Scalar(1) - t * t;
  } else {
    return Scalar(1);
  }
}

// act'(z) given also y = act(z) from the forward pass. tanh' = 1 - y^2 then
// needs no second tanh (bitwise activate_derivative(z): y is the same tanh(z)).
template <Activation A, class Scalar>
KOKKOS_INLINE_FUNCTION Scalar activate_derivative(Scalar z, Scalar y) {
  if constexpr (A == Activation::tanh) {
    return Scalar(1) - y * y;
  } else {
    return activate_derivative<A>(z);
  }
}

template <Activation A>
struct ActivationTag {
  static constexpr Activation value = A;
};

// Calls f(ActivationTag<A>{}) with the activation as a compile-time value, so
// kernels carry no per-element switch.
template <class F>
void dispatch_activation(Activation a, F&& f) {
  switch (a) {
    case Activation::relu: f(ActivationTag<Activation::relu>{}); break;
    case Activation::gelu: f(ActivationTag<Activation::gelu>{}); break;
    case Activation::tanh: f(ActivationTag<Activation::tanh>{}); break;
    default: f(ActivationTag<Activation::identity>{}); break;
  }
}

// Run-time forms, for host code and tests.
template <class Scalar>
Scalar activate(Activation a, Scalar z) {
  Scalar out{};
  dispatch_activation(a, [&](auto tag) { out = activate<decltype(tag)::value>(z); });
  return out;
}

template <class Scalar>
Scalar activate_derivative(Activation a, Scalar z) {
  Scalar out{};
  dispatch_activation(a, [&](auto tag) { out = activate_derivative<decltype(tag)::value>(z); });
  return out;
}

namespace detail {

template <Activation A, class ZView, class YView>
struct ActivationForward {
  ZView z;
  YView y;
  KOKKOS_INLINE_FUNCTION void operator()(std::size_t i, std::size_t j) const {
    y(i, j) = activate<A>(z(i, j));
  }
};

template <Activation A, class ZView, class DYView, class DZView>
struct ActivationBackward {
  ZView z;
  DYView dy;
  DZView dz;
  KOKKOS_INLINE_FUNCTION void operator()(std::size_t i, std::size_t j) const {
    dz(i, j) = dy(i, j) * activate_derivative<A>(z(i, j));
  }
};

}  // namespace detail

// y = act(z), element-wise over (batch x features); y may alias z.
template <class ExecSpace, class ZView, class YView>
void activation_forward(const ExecSpace& space, Activation a, const ZView& z, const YView& y) {
  require_equal(z.extent(0), y.extent(0), "activation_forward", "z rows", "y rows");
  require_equal(z.extent(1), y.extent(1), "activation_forward", "z columns", "y columns");
  dispatch_activation(a, [&](auto tag) {
    using Kernel = detail::ActivationForward<decltype(tag)::value, ZView, YView>;
    for_each_element(space, "phantom::activation_forward", z.extent(0), z.extent(1), Kernel{z, y});
  });
}

// dz = dy * act'(z), element-wise; dz may alias dy.
template <class ExecSpace, class ZView, class DYView, class DZView>
void activation_backward(const ExecSpace& space, Activation a, const ZView& z, const DYView& dy,
                         const DZView& dz) {
  require_equal(z.extent(0), dy.extent(0), "activation_backward", "z rows", "dy rows");
  require_equal(z.extent(1), dy.extent(1), "activation_backward", "z columns", "dy columns");
  require_equal(dz.extent(0), dy.extent(0), "activation_backward", "dz rows", "dy rows");
  require_equal(dz.extent(1), dy.extent(1), "activation_backward", "dz columns", "dy columns");
  dispatch_activation(a, [&](auto tag) {
    using Kernel = detail::ActivationBackward<decltype(tag)::value, ZView, DYView, DZView>;
    for_each_element(space, "phantom::activation_backward", z.extent(0), z.extent(1),
                     Kernel{z, dy, dz});
  });
}

}  // namespace phantom
