// Row-parallel layer: rank r owns input features [r m, (r+1) m) of a global
// (n_out x n_in) layer, i.e. columns W[:, r m : (r+1) m], and reads its input
// shard x_r (B x m). The bias is replicated.
//   forward:  z = sum_r x_r W_r^T + b            all-reduce of n_out per sample
//             y = act(z)                          (replicated on every rank)
//   backward: delta = dy * act'(z)                (replicated)
//             dW_r = delta^T x_r, db = sum_batch delta (the same on every rank)
//             dx_r = delta W_r                    no communication
// The network's output layer and Megatron's first hidden layer of a pair.
#pragma once

#include <cmath>

#include "phantom/comm/communicator.hpp"
#include "phantom/core/activation.hpp"
#include "phantom/core/bias.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/profiling.hpp"
#include "phantom/core/random.hpp"
#include "phantom/layers/activated_output.hpp"
#include "phantom/layers/dense_layer.hpp"
#include "phantom/layers/distributed_layer.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class RowParallelLayer : public DistributedLayer<Scalar, Space> {
 public:
  using M = Matrix<Scalar, Space>;
  using V = Vector<Scalar, Space>;

  RowParallelLayer(Communicator& comm, std::size_t n_in, std::size_t n_out, Activation activation,
                   std::size_t layer, const std::string& region)
      : comm_(comm),
        name_(layer_name(layer)),
        region_(region),
        out_(name_, activation),
        layer_(layer),
        n_in_(n_in),
        weight_(name_ + ".weight", n_out, shard_size(n_in, comm.size(), "layer width")),
        bias_(name_ + ".bias", n_out),
        dweight_(name_ + ".dweight", n_out, weight_.extent(1)),
        dbias_(name_ + ".dbias", n_out) {}

  // Columns [r m, (r+1) m) of the global layer's weight, the whole bias.
  void initialize(std::uint64_t seed) override {
    const double bound = 1.0 / std::sqrt(double(n_in_));
    fill_uniform_block<Space>(weight_, seed, streams::weight(layer_), bound, 0,
                              std::size_t(comm_.rank()) * weight_.extent(1), n_out());
    fill_uniform_segment<Space>(bias_, seed, streams::bias(layer_), bound, 0);
  }

  M forward(const M& x) override {
    ProfilingRegion region(region_ + "::forward");
    require_equal(x.extent(1), weight_.extent(1), name_ + " forward", "input columns",
                  "input shard");
    resize(x.extent(0));
    x_ = x;
    gemm("N", "T", Scalar(1), x, weight_, Scalar(0), partial_);  // x_r W_r^T
    comm_.allreduce(partial_, out_.z());                         // z = sum over ranks
    add_bias<Space>(out_.z(), bias_);
    return out_.activate();
  }

  M backward(const M& dy) override {
    ProfilingRegion region(region_ + "::backward");
    require_equal(dy.extent(0), x_.extent(0), name_ + " backward", "dy rows", "forward batch");
    require_equal(dy.extent(1), n_out(), name_ + " backward", "dy columns", "n_out");
    const M delta = out_.delta(dy);
    gemm("T", "N", Scalar(1), delta, x_, Scalar(0), dweight_);  // dW_r = delta^T x_r
    bias_gradient<Space>(delta, dbias_);
    gemm("N", "N", Scalar(1), delta, weight_, Scalar(0), dx_);  // dx_r = delta W_r
    return dx_;
  }

  // Columns [r m, (r+1) m) of the global weight; the bias is replicated.
  ParameterList<Scalar, Space> parameters() const override {
    const std::size_t m = weight_.extent(1);
    return {placed(make_parameter(name_ + ".weight", weight_, dweight_),
                   matrix_block(n_out(), n_in_, 0, std::size_t(comm_.rank()) * m, n_out(), m)),
            placed(make_parameter(name_ + ".bias", bias_, dbias_), replicated({n_out()}))};
  }
  std::size_t global_parameter_count() const override { return n_out() * n_in_ + n_out(); }
  double forward_flops_per_sample() const override { return 2.0 * n_out() * weight_.extent(1); }
  double backward_flops_per_sample() const override { return 4.0 * n_out() * weight_.extent(1); }
  double bytes_per_sample() const override {
    const int p = comm_.size();
    return 2.0 * (p - 1) * double(n_out()) / p * sizeof(Scalar);
  }
  const std::string& name() const override { return name_; }
  std::size_t n_out() const { return weight_.extent(0); }
  const M& weight() const { return weight_; }
  const V& bias() const { return bias_; }
  const M& weight_gradient() const { return dweight_; }
  const V& bias_gradient_view() const { return dbias_; }

 private:
  void resize(std::size_t batch) {
    if (partial_.extent(0) == batch) return;
    out_.resize(batch, n_out());
    partial_ = M(name_ + ".partial", batch, n_out());
    dx_ = M(name_ + ".dx", batch, weight_.extent(1));
  }

  Communicator& comm_;
  std::string name_, region_;
  ActivatedOutput<Scalar, Space> out_;
  std::size_t layer_, n_in_;
  M weight_;
  V bias_;
  M dweight_;
  V dbias_;
  M x_, partial_, dx_;
};

}  // namespace phantom
