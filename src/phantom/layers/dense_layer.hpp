// A fully connected layer on one rank: y = act(z), z = x W^T + b. Its kernels
// and GEMMs run on the execution-space instance it was built with.
//   x: (B x n_in)   W: (n_out x n_in)   b: (n_out)   z, y: (B x n_out)
// Backward, given dy = dL/dy:
//   delta = dy * act'(z)                 (B x n_out)
//   dW = delta^T x                       (n_out x n_in)
//   db = sum over the batch of delta     (n_out)
//   dx = delta W                         (B x n_in)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "phantom/comm/overlap.hpp"
#include "phantom/core/activation.hpp"
#include "phantom/core/bias.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/parameter.hpp"
#include "phantom/core/parameter_storage.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"
#include "phantom/layers/activated_output.hpp"

namespace phantom {

// Layer l of a network is called layer_00l (the checkpoint's group names too).
inline std::string layer_name(std::size_t layer) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "layer_%03zu", layer);
  return buf;
}

template <class Scalar, class Space = DefaultSpace>
class DenseLayer {
 public:
  using M = Matrix<Scalar, Space>;
  using V = Vector<Scalar, Space>;

  DenseLayer(std::size_t n_in, std::size_t n_out, Activation activation, std::string name,
             const Space& space = Space())
      : space_(space),
        name_(std::move(name)),
        out_(name_, activation, space),
        weight_(Kokkos::view_alloc(space, name_ + ".weight"), n_out, n_in),
        bias_(Kokkos::view_alloc(space, name_ + ".bias"), n_out),
        dweight_(Kokkos::view_alloc(space, name_ + ".dweight"), n_out, n_in),
        dbias_(Kokkos::view_alloc(space, name_ + ".dbias"), n_out) {
    if (n_in == 0 || n_out == 0)
      throw ShapeError(name_ + ": layer sizes must be positive, got " + std::to_string(n_in) +
                       " -> " + std::to_string(n_out));
  }

  // W and b uniform in [-1/sqrt(n_in), 1/sqrt(n_in)), as PyTorch's nn.Linear,
  // from the streams of network layer `layer`.
  void initialize(std::uint64_t seed, std::size_t layer) {
    initialize_rows_of(seed, layer, 0, n_out());
  }

  // This layer as rows [row0, row0 + n_out) of a global (global_out x n_in)
  // layer: the same values that block holds in the unsplit layer.
  void initialize_rows_of(std::uint64_t seed, std::size_t layer, std::size_t row0,
                          std::size_t global_out) {
    const double bound = 1.0 / std::sqrt(double(n_in()));
    fill_uniform_block(space_, weight_, seed, streams::weight(layer), bound, row0, 0, global_out);
    fill_uniform_segment(space_, bias_, seed, streams::bias(layer), bound, row0);
  }

  // Returns y (B x n_out), valid until the next forward. x is kept (not copied)
  // for backward, so the caller must leave it unchanged until then.
  M forward(const M& x) {
    require_equal(x.extent(1), n_in(), name_ + " forward", "input columns", "n_in");
    out_.resize(x.extent(0), n_out());
    if (dx_.extent(0) != x.extent(0))
      dx_ = M(Kokkos::view_alloc(space_, name_ + ".dx"), x.extent(0), n_in());
    x_ = x;
    gemm(space_, "N", "T", Scalar(1), x, weight_, Scalar(0), out_.z());  // z = x W^T
    return out_.activate(bias_);                                         // z += b, y = act(z)
  }

  // Computes dW and db from dy = dL/dy; returns dx (B x n_in) when need_dx.
  M backward(const M& dy, bool need_dx = true) {
    backward_delta(dy);
    M dx = need_dx ? backward_input() : M();
    backward_weights();
    return dx;
  }

  // The backward pass in its three steps, for callers that overlap a
  // collective on dx with the weight gradients:
  // delta = dy * act'(z), db = sum over the batch of delta
  void backward_delta(const M& dy) {
    require_equal(dy.extent(0), x_.extent(0), name_ + " backward", "dy rows", "forward batch");
    require_equal(dy.extent(1), n_out(), name_ + " backward", "dy columns", "n_out");
    delta_ = out_.delta(dy, dbias_);
  }
  // dx = delta W
  M backward_input() {
    gemm(space_, "N", "N", Scalar(1), delta_, weight_, Scalar(0), dx_);
    return dx_;
  }
  // dW = delta^T x; in_flight, if given, is a collective to progress meanwhile
  void backward_weights(Request* in_flight = nullptr) {
    if (in_flight)
      gemm_overlapping(space_, "T", "N", Scalar(1), delta_, x_, Scalar(0), dweight_, *in_flight);
    else
      gemm(space_, "T", "N", Scalar(1), delta_, x_, Scalar(0), dweight_);
  }

  void bind_storage(ParameterStorage<Scalar, Space>& storage) {
    storage.bind(weight_, dweight_);
    storage.bind(bias_, dbias_);
  }

  ParameterList<Scalar, Space> parameters() const {
    return {make_parameter(name_ + ".weight", weight_, dweight_),
            make_parameter(name_ + ".bias", bias_, dbias_)};
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
  const Space& execution_space() const { return space_; }
  Activation activation() const { return out_.activation(); }
  const M& weight() const { return weight_; }
  const V& bias() const { return bias_; }
  const M& weight_gradient() const { return dweight_; }
  const V& bias_gradient_view() const { return dbias_; }

 private:
  Space space_;
  std::string name_;
  ActivatedOutput<Scalar, Space> out_;
  M weight_;
  V bias_;
  M dweight_;
  V dbias_;
  M x_, dx_;
  M delta_;  // set by backward_delta
};

}  // namespace phantom
