// Row-parallel layer: rank r owns input features [r m, (r+1) m) of a global
// (n_out x n_in) layer, i.e. columns W[:, r m : (r+1) m], and reads its input
// shard x_r (B x m). The bias is replicated.
//   forward:  z = sum_r x_r W_r^T + b            all-reduce of n_out per sample
//             y = act(z)                          (replicated on every rank)
//   backward: delta = dy * act'(z)                (replicated)
//             dW_r = delta^T x_r, db = sum_batch delta (the same on every rank)
//             dx_r = delta W_r                    no communication
// The network's output layer and Megatron's first hidden layer of a pair.
// Compression of the forward all-reduce (compress/, docs/compression.md):
//   quantization / topk: a compressed all-reduce; backward treats it as the
//     identity (straight-through), as the uncompressed layer does.
//   ae: z = (sum_r x_r W_r^T E_r^T) D^T + b, an all-reduce of e per sample;
//     backward runs through the autoencoder (still no communication):
//     dP_r = autoencoder backward of delta, dW_r = dP_r^T x_r, dx_r = dP_r W_r.
#pragma once

#include <cmath>
#include <memory>

#include "phantom/comm/communicator.hpp"
#include "phantom/compress/autoencoder.hpp"
#include "phantom/compress/compressed_collectives.hpp"
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

  // compression: the network's settings; the layer compresses its forward
  // all-reduce if they select it for layer `layer` (leave them out for the
  // network's output layer).
  RowParallelLayer(Communicator& comm, std::size_t n_in, std::size_t n_out, Activation activation,
                   std::size_t layer, const std::string& region,
                   const CompressionConfig& compression = {}, const Space& space = Space())
      : space_(space),
        comm_(comm),
        name_(layer_name(layer)),
        region_(region),
        out_(name_, activation, space),
        layer_(layer),
        n_in_(n_in),
        weight_(alloc(".weight"), n_out, shard_size(n_in, comm.size(), "layer width")),
        bias_(alloc(".bias"), n_out),
        dweight_(alloc(".dweight"), n_out, weight_.extent(1)),
        dbias_(alloc(".dbias"), n_out) {
    if (!compression.applies(layer, true)) return;
    compression_ = compression;
    if (compression.method == CompressionMethod::ae)
      autoencoder_ = std::make_unique<Autoencoder<Scalar, Space>>(name_, n_out, compression.ae_dim,
                                                                  comm.rank(), comm.size(), space);
    else
      allreduce_ = std::make_unique<CompressedAllReduce<Scalar, Space>>(
          compression, name_ + ".allreduce", space);
  }

  // Columns [r m, (r+1) m) of the global layer's weight, the whole bias.
  void initialize(std::uint64_t seed) override {
    const double bound = 1.0 / std::sqrt(double(n_in_));
    fill_uniform_block(space_, weight_, seed, streams::weight(layer_), bound, 0,
                       std::size_t(comm_.rank()) * weight_.extent(1), n_out());
    fill_uniform_segment(space_, bias_, seed, streams::bias(layer_), bound, 0);
    if (autoencoder_) autoencoder_->initialize(seed, layer_);
  }

  M forward(const M& x) override {
    ProfilingRegion region(region_ + "::forward");
    require_equal(x.extent(1), weight_.extent(1), name_ + " forward", "input columns",
                  "input shard");
    resize(x.extent(0));
    x_ = x;
    gemm(space_, "N", "T", Scalar(1), x, weight_, Scalar(0), partial_);  // x_r W_r^T
    if (autoencoder_) {
      const M& code = autoencoder_->encode(partial_);  // c_r = x_r W_r^T E_r^T
      comm_.allreduce(space_, code, code_sum_);        // h = sum over ranks
      autoencoder_->decode(code_sum_, out_.z());       // z = h D^T
    } else if (allreduce_) {
      allreduce_->run(comm_, partial_, out_.z());
    } else {
      comm_.allreduce(space_, partial_, out_.z());  // z = sum over ranks
    }
    return out_.activate(bias_);  // z += b, y = act(z)
  }

  M backward(const M& dy) override {
    ProfilingRegion region(region_ + "::backward");
    require_equal(dy.extent(0), x_.extent(0), name_ + " backward", "dy rows", "forward batch");
    require_equal(dy.extent(1), n_out(), name_ + " backward", "dy columns", "n_out");
    const M delta = out_.delta(dy, dbias_);  // and db
    // dL/dP_r: delta itself, or through the autoencoder.
    const M dpartial = autoencoder_ ? autoencoder_->backward(delta, code_sum_, partial_) : delta;
    gemm(space_, "T", "N", Scalar(1), dpartial, x_, Scalar(0), dweight_);  // dW_r = dP_r^T x_r
    gemm(space_, "N", "N", Scalar(1), dpartial, weight_, Scalar(0), dx_);  // dx_r = dP_r W_r
    return dx_;
  }

  // Columns [r m, (r+1) m) of the global weight; the bias is replicated; then
  // the autoencoder's encoder and decoder, if any.
  void bind_storage(ParameterStorage<Scalar, Space>& storage) override {
    storage.bind(weight_, dweight_);
    storage.bind(bias_, dbias_);
    if (autoencoder_) autoencoder_->bind_storage(storage);
  }

  ParameterList<Scalar, Space> parameters() const override {
    const std::size_t m = weight_.extent(1);
    ParameterList<Scalar, Space> list{
        placed(make_parameter(name_ + ".weight", weight_, dweight_),
               matrix_block(n_out(), n_in_, 0, std::size_t(comm_.rank()) * m, n_out(), m)),
        placed(make_parameter(name_ + ".bias", bias_, dbias_), replicated({n_out()}))};
    if (autoencoder_)
      for (auto& prm : autoencoder_->parameters()) list.push_back(prm);
    return list;
  }
  std::size_t global_parameter_count() const override {
    return n_out() * n_in_ + n_out() + (autoencoder_ ? autoencoder_->global_parameter_count() : 0);
  }
  double forward_flops_per_sample() const override {
    return 2.0 * n_out() * weight_.extent(1) +
           (autoencoder_ ? autoencoder_->forward_flops_per_sample() : 0.0);
  }
  double backward_flops_per_sample() const override {
    return 4.0 * n_out() * weight_.extent(1) +
           (autoencoder_ ? autoencoder_->backward_flops_per_sample() : 0.0);
  }
  // The forward all-reduce of (batch x n_out): 2 (p-1)/p n_out batch s, or its
  // compressed form; backward has no communication.
  double bytes_per_step(std::size_t batch) const override {
    return compressed_allreduce_bytes(compression_, batch, n_out(), sizeof(Scalar), comm_.size());
  }
  const std::string& name() const override { return name_; }
  void collect_remainders(std::vector<std::vector<Scalar>*>& out) override {
    if (allreduce_) allreduce_->collect_remainders(std::size_t(comm_.size()), out);
  }
  const Space& execution_space() const { return space_; }
  std::size_t n_out() const { return weight_.extent(0); }
  const M& weight() const { return weight_; }
  const V& bias() const { return bias_; }
  const M& weight_gradient() const { return dweight_; }
  const V& bias_gradient_view() const { return dbias_; }

 private:
  // Allocation on this layer's instance, labelled with its name.
  auto alloc(const char* what) const { return Kokkos::view_alloc(space_, name_ + what); }

  void resize(std::size_t batch) {
    if (partial_.extent(0) == batch) return;
    out_.resize(batch, n_out());
    partial_ = M(alloc(".partial"), batch, n_out());
    if (autoencoder_) code_sum_ = M(alloc(".ae_code_sum"), batch, autoencoder_->dim());
    dx_ = M(alloc(".dx"), batch, weight_.extent(1));
  }

  Space space_;
  Communicator& comm_;
  std::string name_, region_;
  ActivatedOutput<Scalar, Space> out_;
  std::size_t layer_, n_in_;
  M weight_;
  V bias_;
  M dweight_;
  V dbias_;
  M x_, partial_, dx_;
  CompressionConfig compression_;  // method none: plain all-reduce
  std::unique_ptr<Autoencoder<Scalar, Space>> autoencoder_;
  std::unique_ptr<CompressedAllReduce<Scalar, Space>> allreduce_;
  M code_sum_;  // ae: the all-reduced code h
};

}  // namespace phantom
