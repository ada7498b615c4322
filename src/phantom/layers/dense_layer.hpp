// A fully connected layer on one rank: y = act(z), z = x W^T + b.
//   x: (B x n_in)   W: (n_out x n_in)   b: (n_out)   z, y: (B x n_out)
// Backward, given dy = dL/dy:
//   delta = dy * act'(z)                 (B x n_out)
//   dW = delta^T x                       (n_out x n_in)
//   db = sum over the batch of delta     (n_out)
//   dx = delta W                         (B x n_in)
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "phantom/core/activation.hpp"
#include "phantom/core/bias.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/parameter.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class DenseLayer {
 public:
  using M = Matrix<Scalar, Space>;
  using V = Vector<Scalar, Space>;

  DenseLayer(std::size_t n_in, std::size_t n_out, Activation activation, std::string name)
      : name_(std::move(name)),
        activation_(activation),
        weight_(name_ + ".weight", n_out, n_in),
        bias_(name_ + ".bias", n_out),
        dweight_(name_ + ".dweight", n_out, n_in),
        dbias_(name_ + ".dbias", n_out) {
    if (n_in == 0 || n_out == 0)
      throw ShapeError(name_ + ": layer sizes must be positive, got " + std::to_string(n_in) +
                       " -> " + std::to_string(n_out));
  }

  // W and b uniform in [-1/sqrt(n_in), 1/sqrt(n_in)), as PyTorch's nn.Linear,
  // drawn from (seed, stream) and (seed, stream + 1).
  void initialize(std::uint64_t seed, std::uint64_t stream) {
    const double bound = 1.0 / std::sqrt(double(n_in()));
    fill_uniform<Space>(weight_, seed, stream, bound);
    fill_uniform<Space>(bias_, seed, stream + 1, bound);
  }

  // Returns y (B x n_out), valid until the next forward. x is kept (not copied)
  // for backward, so the caller must leave it unchanged until then.
  M forward(const M& x) {
    require_equal(x.extent(1), n_in(), name_ + " forward", "input columns", "n_in");
    resize(x.extent(0));
    x_ = x;
    gemm("N", "T", Scalar(1), x, weight_, Scalar(0), z_);  // z = x W^T
    add_bias<Space>(z_, bias_);                              // z += b
    if (activation_ != Activation::identity) activation_forward<Space>(activation_, z_, y_);
    return y_;
  }

  // Computes dW and db from dy = dL/dy; returns dx (B x n_in) when need_dx.
  M backward(const M& dy, bool need_dx = true) {
    require_equal(dy.extent(0), x_.extent(0), name_ + " backward", "dy rows",
                  "forward batch");
    require_equal(dy.extent(1), n_out(), name_ + " backward", "dy columns", "n_out");
    M delta = dy;
    if (activation_ != Activation::identity) {
      activation_backward<Space>(activation_, z_, dy, delta_);  // delta = dy * act'(z)
      delta = delta_;
    }
    gemm("T", "N", Scalar(1), delta, x_, Scalar(0), dweight_);  // dW = delta^T x
    bias_gradient<Space>(delta, dbias_);                        // db = sum_batch delta
    if (!need_dx) return M();
    gemm("N", "N", Scalar(1), delta, weight_, Scalar(0), dx_);  // dx = delta W
    return dx_;
  }

  ParameterList<Scalar, Space> parameters() const {
    return {{name_ + ".weight", flatten(weight_), flatten(dweight_)},
            {name_ + ".bias", flatten(bias_), flatten(dbias_)}};
  }

  std::size_t n_in() const { return weight_.extent(1); }
  std::size_t n_out() const { return weight_.extent(0); }
  std::size_t parameter_count() const { return weight_.size() + bias_.size(); }
  // GEMM FLOPs per sample: 2 n_out n_in forward; 4 n_out n_in backward (2 without dx).
  double forward_flops_per_sample() const { return 2.0 * n_out() * n_in(); }
  double backward_flops_per_sample(bool need_dx = true) const {
    return (need_dx ? 4.0 : 2.0) * n_out() * n_in();
  }
  const std::string& name() const { return name_; }
  Activation activation() const { return activation_; }
  const M& weight() const { return weight_; }
  const V& bias() const { return bias_; }
  const M& weight_gradient() const { return dweight_; }
  const V& bias_gradient_view() const { return dbias_; }

 private:
  void resize(std::size_t batch) {
    if (z_.extent(0) == batch) return;
    z_ = M(name_ + ".z", batch, n_out());
    y_ = activation_ == Activation::identity ? z_ : M(name_ + ".y", batch, n_out());
    delta_ = M(name_ + ".delta", batch, n_out());
    dx_ = M(name_ + ".dx", batch, n_in());
  }

  std::string name_;
  Activation activation_;
  M weight_;
  V bias_;
  M dweight_;
  V dbias_;
  M x_, z_, y_, delta_, dx_;
};

}  // namespace phantom
