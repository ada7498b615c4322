// TP-1D hidden layer (row-sharded weights). Rank r owns output features
// [r m, (r+1) m) of a global (n x n) layer: W_r = rows of W (m x n), b_r (m).
// Its input is the sharded activation x_r (B x m).
//   forward:  X = all-gather(x_r)                 (B x n), (p-1) m per sample
//             z_r = X W_r^T + b_r, y_r = act(z_r)
//             overlap: z_r = x_r W_r[:, own]^T while the gather is in flight,
//             then add the other ranks' blocks
//   backward: delta_r = dy_r * act'(z_r)
//             P = delta_r W_r                     (B x n) partial input gradient
//             dx_r = reduce-scatter(P)            (p-1) m per sample
//             dW_r = delta_r^T X, db_r            overlapped with the reduce-scatter
// Compression (compress/, docs/compression.md): the all-gather of x can travel
// quantized or TopK (this rank's own block stays exact; dW uses the decoded X
// the forward used), and the reduce-scatter of P as an all-to-all of
// compressed blocks (not overlapped: the all-to-all is blocking).
#pragma once

#include <cmath>
#include <memory>

#include "phantom/comm/communicator.hpp"
#include "phantom/comm/overlap.hpp"
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
class TensorParallelLayer : public DistributedLayer<Scalar, Space> {
 public:
  using M = Matrix<Scalar, Space>;
  using V = Vector<Scalar, Space>;

  // compression: the network's settings; this layer compresses the messages
  // they select for hidden layer `layer` (quantization or topk only).
  TensorParallelLayer(Communicator& comm, std::size_t width, Activation activation,
                      std::size_t layer, const CompressionConfig& compression = {},
                      const Space& space = Space())
      : space_(space),
        comm_(comm),
        name_(layer_name(layer)),
        out_(name_, activation, space),
        layer_(layer),
        m_(shard_size(width, comm.size(), "layer width")),
        weight_(alloc(".weight"), m_, width),
        bias_(alloc(".bias"), m_),
        dweight_(alloc(".dweight"), m_, width),
        dbias_(alloc(".dbias"), m_) {
    if (compression.method == CompressionMethod::ae)
      throw InvalidArgument(name_ +
                            ": compression method 'ae' needs strategy 'megatron' (the autoencoder "
                            "commutes with an all-reduce, not with tp's all-gather)");
    if (compression.applies(layer, true)) {
      forward_compression_ = compression;
      gather_ = std::make_unique<CompressedAllGather<Scalar, Space>>(compression, true,
                                                                     name_ + ".gather", space);
    }
    if (compression.applies(layer, false)) {
      backward_compression_ = compression;
      scatter_ = std::make_unique<CompressedReduceScatter<Scalar, Space>>(
          compression, name_ + ".scatter", space);
    }
  }

  // Rows [r m, (r+1) m) of the global layer: the same values at every p.
  void initialize(std::uint64_t seed) override {
    const double bound = 1.0 / std::sqrt(double(width()));
    const std::size_t row0 = std::size_t(comm_.rank()) * m_;
    fill_uniform_block(space_, weight_, seed, streams::weight(layer_), bound, row0, 0, width());
    fill_uniform_segment(space_, bias_, seed, streams::bias(layer_), bound, row0);
  }

  M forward(const M& x) override {
    ProfilingRegion region("phantom::tp::forward");
    require_equal(x.extent(1), m_, name_ + " forward", "input columns", "shard width");
    resize(x.extent(0));
    const std::size_t r0 = own_begin(), r1 = r0 + m_;
    Request gather;
    if (gather_)
      gather_->start(comm_, x, gathered_);
    else
      gather = comm_.iallgather(space_, x, gathered_);
    const M z = out_.z();
    // Own block, polling the gather between GEMM blocks (comm/overlap.hpp).
    gemm_overlapping(space_, "N", "T", Scalar(1), x, columns(weight_, r0, r1), Scalar(0), z,
                     gather);
    if (gather_)
      gather_->finish();
    else
      gather.wait();
    if (r0 > 0)
      gemm(space_, "N", "T", Scalar(1), columns(gathered_, 0, r0), columns(weight_, 0, r0),
           Scalar(1), z);
    if (r1 < width())
      gemm(space_, "N", "T", Scalar(1), columns(gathered_, r1, width()),
           columns(weight_, r1, width()), Scalar(1), z);
    return out_.activate(bias_);  // z_r += b_r, y_r = act(z_r)
  }

  M backward(const M& dy) override {
    ProfilingRegion region("phantom::tp::backward");
    require_equal(dy.extent(0), out_.batch(), name_ + " backward", "dy rows", "forward batch");
    require_equal(dy.extent(1), m_, name_ + " backward", "dy columns", "shard width");
    const M delta = out_.delta(dy, dbias_);                                     // and db_r
    gemm(space_, "N", "N", Scalar(1), delta, weight_, Scalar(0), partial_dx_);  // P = delta_r W_r
    Request scatter;
    if (scatter_)
      scatter_->run(comm_, partial_dx_, dx_);  // blocking: all-to-all has no non-blocking form
    else
      scatter = comm_.ireduce_scatter(space_, partial_dx_, dx_);
    // dW_r = delta_r^T X, polling the reduce-scatter between GEMM blocks
    gemm_overlapping(space_, "T", "N", Scalar(1), delta, gathered_, Scalar(0), dweight_, scatter);
    scatter.wait();
    return dx_;
  }

  // Rows [r m, (r+1) m) of the global weight and bias.
  void bind_storage(ParameterStorage<Scalar, Space>& storage) override {
    storage.bind(weight_, dweight_);
    storage.bind(bias_, dbias_);
  }

  ParameterList<Scalar, Space> parameters() const override {
    const std::size_t n = width(), row0 = own_begin();
    return {placed(make_parameter(name_ + ".weight", weight_, dweight_),
                   matrix_block(n, n, row0, 0, m_, n)),
            placed(make_parameter(name_ + ".bias", bias_, dbias_), vector_block(n, row0, m_))};
  }
  std::size_t global_parameter_count() const override { return width() * width() + width(); }
  double forward_flops_per_sample() const override { return 2.0 * m_ * width(); }
  double backward_flops_per_sample() const override { return 4.0 * m_ * width(); }
  // (p-1) blocks of (batch x m) gathered forward and reduce-scattered
  // backward, each block of compressed_bytes() where compressed.
  double bytes_per_step(std::size_t batch) const override {
    const int p = comm_.size();
    return compressed_allgather_bytes(forward_compression_, batch, m_, sizeof(Scalar), p) +
           compressed_reduce_scatter_bytes(backward_compression_, batch, m_, sizeof(Scalar), p);
  }
  const std::string& name() const override { return name_; }
  void collect_remainders(std::vector<std::vector<Scalar>*>& out) override {
    if (gather_) gather_->collect_remainders(out);
    if (scatter_) scatter_->collect_remainders(std::size_t(comm_.size()), out);
  }
  const Space& execution_space() const { return space_; }
  std::size_t width() const { return weight_.extent(1); }
  const M& weight() const { return weight_; }
  const V& bias() const { return bias_; }
  const M& weight_gradient() const { return dweight_; }
  const V& bias_gradient_view() const { return dbias_; }

 private:
  std::size_t own_begin() const { return std::size_t(comm_.rank()) * m_; }

  // Allocation on this layer's instance, labelled with its name.
  auto alloc(const char* what) const { return Kokkos::view_alloc(space_, name_ + what); }

  void resize(std::size_t batch) {
    if (gathered_.extent(0) == batch) return;
    out_.resize(batch, m_);
    gathered_ = M(alloc(".gathered"), batch, width());
    partial_dx_ = M(alloc(".partial_dx"), batch, width());
    dx_ = M(alloc(".dx"), batch, m_);
  }

  Space space_;
  Communicator& comm_;
  std::string name_;
  ActivatedOutput<Scalar, Space> out_;
  std::size_t layer_, m_;
  M weight_;
  V bias_;
  M dweight_;
  V dbias_;
  M gathered_, partial_dx_, dx_;
  CompressionConfig forward_compression_, backward_compression_;  // method none: plain
  std::unique_ptr<CompressedAllGather<Scalar, Space>> gather_;
  std::unique_ptr<CompressedReduceScatter<Scalar, Space>> scatter_;
};

}  // namespace phantom
