// The pre-activation z, the output y = act(z) and the backward delta of a
// layer with n outputs, shared by every layer kind, with the bias folded into
// the same passes (core/bias_activation.hpp):
//   forward:  z += b, y = act(z)                  (y is z itself for the identity)
//   backward: delta = dy * act'(z) (from y where cheaper), db = sum_batch delta
//                                                 (delta is dy itself for the identity)
#pragma once

#include <string>

#include "phantom/core/bias.hpp"
#include "phantom/core/bias_activation.hpp"
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
  // z += b, y = act(z)
  template <class BView>
  const M& activate(const BView& b) const {
    bias_activation_forward(space_, activation_, z_, b, y_);
    return y_;
  }
  // delta = dy * act'(z), db = sum over the batch of delta
  template <class DBView>
  M delta(const M& dy, const DBView& db) const {
    if (activation_ == Activation::identity) {
      bias_gradient(space_, dy, db);
      return dy;
    }
    activation_backward_bias(space_, activation_, z_, y_, dy, delta_, db);
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
