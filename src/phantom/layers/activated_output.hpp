// The pre-activation z, the output y = act(z) and the backward delta of a
// layer with n outputs, shared by every layer kind:
//   forward:  y = act(z)            (y is z itself for the identity)
//   backward: delta = dy * act'(z)  (delta is dy itself for the identity)
#pragma once

#include <string>

#include "phantom/core/activation.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

template <class Scalar, class Space>
class ActivatedOutput {
 public:
  using M = Matrix<Scalar, Space>;

  ActivatedOutput(std::string name, Activation activation, const Space& space = Space())
      : name_(std::move(name)), activation_(activation), space_(space) {}

  // (Re)allocates for a batch of `batch` rows and n columns when the batch changes.
  void resize(std::size_t batch, std::size_t n) {
    if (z_.extent(0) == batch && z_.extent(1) == n) return;
    z_ = M(Kokkos::view_alloc(space_, name_ + ".z"), batch, n);
    y_ = activation_ == Activation::identity
             ? z_
             : M(Kokkos::view_alloc(space_, name_ + ".y"), batch, n);
    delta_ = M(Kokkos::view_alloc(space_, name_ + ".delta"), batch, n);
  }

  // z, for the layer to fill.
  const M& z() const { return z_; }
  // y = act(z)
  const M& activate() const {
    if (activation_ != Activation::identity) activation_forward(space_, activation_, z_, y_);
    return y_;
  }
  // delta = dy * act'(z)
  M delta(const M& dy) const {
    if (activation_ == Activation::identity) return dy;
    activation_backward(space_, activation_, z_, dy, delta_);
    return delta_;
  }
  std::size_t batch() const { return z_.extent(0); }
  Activation activation() const { return activation_; }

 private:
  std::string name_;
  Activation activation_;
  Space space_;
  M z_, y_, delta_;
};

}  // namespace phantom
