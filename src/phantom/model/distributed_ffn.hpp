// The distributed feed-forward network: an input layer (input_dim -> width,
// column-parallel from the replicated input), `depth` hidden layers (width ->
// width) of the chosen strategy, and a linear output layer (width ->
// output_dim, row-parallel, all-reduced so every rank holds the full output and
// computes the same loss). Hidden activations are sharded: rank r holds
// features [r m, (r+1) m), m = width / p, except between Megatron's pairs.
//   dense:    p = 1 only, the plain network (the reference)
//   pp:       phantom layers with k ghost neurons per rank
//   tp:       TP-1D, row-sharded weights
//   megatron: pairs of a row-parallel layer (sharded -> replicated, all-reduce
//             forward) and a column-parallel layer (replicated -> sharded,
//             all-reduce backward); depth must be even
// tp and megatron can compress their hidden layers' messages (config.compression,
// docs/compression.md); the input and output layers are never compressed.
// Every layer runs on the execution-space instance the network was built with
// (default: the default instance), so a caller can hand Phantom its stream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/compress/compression_config.hpp"
#include "phantom/core/loss.hpp"
#include "phantom/core/network_config.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/core/strategy.hpp"
#include "phantom/layers/column_parallel_layer.hpp"
#include "phantom/layers/phantom_layer.hpp"
#include "phantom/layers/row_parallel_layer.hpp"
#include "phantom/layers/tensor_parallel_layer.hpp"
#include "phantom/model/sequential_ffn.hpp"
#include "phantom/model/train_step.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class DistributedFFN {
 public:
  using M = Matrix<Scalar, Space>;
  using Layer = DistributedLayer<Scalar, Space>;

  DistributedFFN(Communicator& comm, const NetworkConfig& config, const Space& space = Space())
      : comm_(comm), config_(config), space_(space) {
    validate(config, comm.size());
    const auto& s = config.shape;
    const Activation act = config.activation;
    const std::string hidden_region = std::string("phantom::") + to_string(config.strategy);
    const CompressionConfig none;
    add(std::make_unique<ColumnParallelLayer<Scalar, Space>>(comm, s.input_dim, s.width, act, 0,
                                                             false, "phantom::input", none, space));
    for (std::size_t l = 1; l <= s.depth; ++l) {
      switch (config.strategy) {
        case Strategy::dense:  // p = 1: column-parallel is the plain layer
          add(std::make_unique<ColumnParallelLayer<Scalar, Space>>(
              comm, s.width, s.width, act, l, true, hidden_region, none, space));
          break;
        case Strategy::pp:
          add(std::make_unique<PhantomLayer<Scalar, Space>>(comm, s.width, config.ghost, act, l,
                                                            space));
          break;
        case Strategy::tp:
          add(std::make_unique<TensorParallelLayer<Scalar, Space>>(comm, s.width, act, l,
                                                                   config.compression, space));
          break;
        case Strategy::megatron:
          if (l % 2 == 1)
            add(std::make_unique<RowParallelLayer<Scalar, Space>>(
                comm, s.width, s.width, act, l, hidden_region, config.compression, space));
          else
            add(std::make_unique<ColumnParallelLayer<Scalar, Space>>(
                comm, s.width, s.width, act, l, true, hidden_region, config.compression, space));
          break;
      }
    }
    add(std::make_unique<RowParallelLayer<Scalar, Space>>(comm, s.width, s.output_dim,
                                                          Activation::identity, s.depth + 1,
                                                          "phantom::output", none, space));
    // Every parameter and gradient into one buffer each, layer after layer.
    for (auto& layer : layers_) layer->bind_storage(storage_);
    storage_.allocate();
    for (auto& layer : layers_) {
      storage_.begin_layer();
      layer->bind_storage(storage_);
      storage_.end_layer();
    }
  }

  void initialize(std::uint64_t seed) {
    for (auto& layer : layers_) layer->initialize(seed);
  }

  // x: (B x input_dim), replicated -> (B x output_dim), replicated.
  M forward(const M& x) {
    M h = x;
    for (auto& layer : layers_) h = layer->forward(h);
    return h;
  }

  // after_layer(l), if set, runs once layer l's gradients are enqueued on
  // the network's instance (data parallelism starts reducing them there).
  void backward(const M& dy) {
    M g = dy;
    for (std::size_t l = layers_.size(); l-- > 0;) {
      g = layers_[l]->backward(g);
      if (after_layer_backward_) after_layer_backward_(l);
    }
  }
  void set_after_layer_backward(std::function<void(std::size_t)> hook) {
    after_layer_backward_ = std::move(hook);
  }

  double train_step(const M& x, const M& target, Loss loss, Optimizer<Scalar, Space>& opt) {
    return phantom::train_step(*this, x, target, loss, opt, dy_);
  }
  // The same with before_update() called between the backward pass and the update.
  template <class BeforeUpdate>
  double train_step(const M& x, const M& target, Loss loss, Optimizer<Scalar, Space>& opt,
                    BeforeUpdate&& before_update) {
    return phantom::train_step(*this, x, target, loss, opt, dy_,
                               std::forward<BeforeUpdate>(before_update));
  }

  ParameterList<Scalar, Space> parameters() const {
    ParameterList<Scalar, Space> all;
    for (const auto& layer : layers_)
      for (auto& p : layer->parameters()) all.push_back(p);
    return all;
  }

  std::size_t global_parameter_count() const {
    std::size_t n = 0;
    for (const auto& layer : layers_) n += layer->global_parameter_count();
    return n;
  }
  // Forward + backward GEMM FLOPs per sample on this rank.
  double flops_per_sample() const {
    double f = 0;
    for (const auto& layer : layers_)
      f += layer->forward_flops_per_sample() + layer->backward_flops_per_sample();
    return f;
  }
  // Logical bytes this rank receives in one training step on `batch` samples.
  double bytes_per_step(std::size_t batch) const {
    double b = 0;
    for (const auto& layer : layers_) b += layer->bytes_per_step(batch);
    return b;
  }

  const NetworkConfig& config() const { return config_; }
  Communicator& communicator() const { return comm_; }
  const Space& execution_space() const { return space_; }
  std::vector<std::unique_ptr<Layer>>& layers() { return layers_; }
  // Every layer's TopK error-feedback remainders, layer by layer (empty
  // without error feedback): the training state beyond the parameters.
  std::vector<std::vector<Scalar>*> feedback_remainders() {
    std::vector<std::vector<Scalar>*> all;
    for (auto& layer : layers_) layer->collect_remainders(all);
    return all;
  }
  // This rank's parameters and gradients, contiguous (layer l: layer_range(l)).
  const ParameterStorage<Scalar, Space>& storage() const { return storage_; }

 private:
  void add(std::unique_ptr<Layer> layer) { layers_.push_back(std::move(layer)); }

  Communicator& comm_;
  NetworkConfig config_;
  Space space_;
  std::vector<std::unique_ptr<Layer>> layers_;
  ParameterStorage<Scalar, Space> storage_{space_};
  std::function<void(std::size_t)> after_layer_backward_;
  M dy_;
};

}  // namespace phantom
