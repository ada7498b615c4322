// Column-parallel layer: rank r owns output features [r m, (r+1) m) of a global
// (n_out x n_in) layer and reads the replicated input x (B x n_in).
//   forward:  y_r = act(x W_r^T + b_r)          no communication
//   backward: dW_r = delta_r^T x, db_r = sum_batch delta_r
//             dx = sum_r delta_r W_r            all-reduce of n_in per sample,
//                                               overlapped with dW_r
// The network's input layer (no dx) and Megatron's second hidden layer of a
// pair. At p = 1 it is a plain dense layer.
// Compression (compress/, docs/compression.md): the backward all-reduce can be
// a compressed all-reduce (quantization or topk; blocking, so dW is computed
// after it rather than under it).
#pragma once

#include <memory>

#include "phantom/comm/communicator.hpp"
#include "phantom/compress/compressed_collectives.hpp"
#include "phantom/core/profiling.hpp"
#include "phantom/layers/dense_layer.hpp"
#include "phantom/layers/distributed_layer.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class ColumnParallelLayer : public DistributedLayer<Scalar, Space> {
 public:
  using M = Matrix<Scalar, Space>;

  ColumnParallelLayer(Communicator& comm, std::size_t n_in, std::size_t n_out,
                      Activation activation, std::size_t layer, bool input_gradient,
                      const std::string& region, const CompressionConfig& compression = {},
                      const Space& space = Space())
      : comm_(comm),
        local_(n_in, shard_size(n_out, comm.size(), "layer width"), activation, layer_name(layer),
               space),
        layer_(layer),
        n_out_(n_out),
        input_gradient_(input_gradient),
        region_(region) {
    if (!input_gradient || !compression.applies(layer, false)) return;
    if (compression.method == CompressionMethod::ae)
      throw InvalidArgument(local_.name() +
                            ": compression method 'ae' compresses forward activations only");
    compression_ = compression;
    allreduce_ = std::make_unique<CompressedAllReduce<Scalar, Space>>(
        compression, local_.name() + ".allreduce", space);
  }

  void initialize(std::uint64_t seed) override {
    local_.initialize_rows_of(seed, layer_, std::size_t(comm_.rank()) * local_.n_out(), n_out_);
  }

  M forward(const M& x) override {
    ProfilingRegion region(region_ + "::forward");
    return local_.forward(x);
  }

  M backward(const M& dy) override {
    ProfilingRegion region(region_ + "::backward");
    local_.backward_delta(dy);
    if (!input_gradient_) {
      local_.backward_weights();
      return M();
    }
    M partial = local_.backward_input();  // delta_r W_r
    if (comm_.size() == 1) {
      local_.backward_weights();
      return partial;
    }
    const Space& space = local_.execution_space();
    if (dx_.extent(0) != partial.extent(0))
      dx_ = M(Kokkos::view_alloc(space, local_.name() + ".dx_sum"), partial.extent(0),
              partial.extent(1));
    if (allreduce_) {
      allreduce_->run(comm_, partial, dx_);
      local_.backward_weights();
      return dx_;
    }
    auto request = comm_.iallreduce(space, partial, dx_);
    local_.backward_weights(&request);  // polls the all-reduce between GEMM blocks
    request.wait();
    return dx_;
  }

  // The local block is rows [r m, (r+1) m) of the global weight and bias.
  void bind_storage(ParameterStorage<Scalar, Space>& storage) override {
    local_.bind_storage(storage);
  }

  ParameterList<Scalar, Space> parameters() const override {
    auto list = local_.parameters();
    const std::size_t m = local_.n_out(), row0 = std::size_t(comm_.rank()) * m;
    list[0] = placed(list[0], matrix_block(n_out_, local_.n_in(), row0, 0, m, local_.n_in()));
    list[1] = placed(list[1], vector_block(n_out_, row0, m));
    return list;
  }
  std::size_t global_parameter_count() const override { return n_out_ * (local_.n_in() + 1); }
  double forward_flops_per_sample() const override { return local_.forward_flops_per_sample(); }
  double backward_flops_per_sample() const override {
    return local_.backward_flops_per_sample(input_gradient_);
  }
  // The backward all-reduce of (batch x n_in), plain or compressed; none
  // without input gradient.
  double bytes_per_step(std::size_t batch) const override {
    if (!input_gradient_) return 0.0;
    return compressed_allreduce_bytes(compression_, batch, local_.n_in(), sizeof(Scalar),
                                      comm_.size());
  }
  const std::string& name() const override { return local_.name(); }
  void collect_remainders(std::vector<std::vector<Scalar>*>& out) override {
    if (allreduce_) allreduce_->collect_remainders(std::size_t(comm_.size()), out);
  }
  const Space& execution_space() const { return local_.execution_space(); }
  DenseLayer<Scalar, Space>& local() { return local_; }

 private:
  Communicator& comm_;
  DenseLayer<Scalar, Space> local_;
  std::size_t layer_, n_out_;
  bool input_gradient_;
  std::string region_;
  M dx_;
  CompressionConfig compression_;  // method none: plain all-reduce
  std::unique_ptr<CompressedAllReduce<Scalar, Space>> allreduce_;
};

}  // namespace phantom
