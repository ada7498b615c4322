// The single-rank feed-forward network every parallel strategy is checked
// against: an input layer (input_dim -> width), `depth` hidden layers
// (width -> width), all with the same activation, and a linear output layer
// (width -> output_dim).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "phantom/core/loss.hpp"
#include "phantom/core/network_config.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/layers/dense_layer.hpp"
#include "phantom/model/train_step.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class SequentialFFN {
 public:
  using M = Matrix<Scalar, Space>;

  SequentialFFN(const FFNShape& shape, Activation activation, const Space& space = Space())
      : shape_(shape), space_(space) {
    layers_.reserve(shape.depth + 2);
    layers_.emplace_back(shape.input_dim, shape.width, activation, layer_name(0), space);
    for (std::size_t l = 1; l <= shape.depth; ++l)
      layers_.emplace_back(shape.width, shape.width, activation, layer_name(l), space);
    layers_.emplace_back(shape.width, shape.output_dim, Activation::identity,
                         layer_name(shape.depth + 1), space);
  }

  void initialize(std::uint64_t seed) {
    for (std::size_t l = 0; l < layers_.size(); ++l) layers_[l].initialize(seed, l);
  }

  // x: (B x input_dim) -> (B x output_dim)
  M forward(const M& x) {
    M h = x;
    for (auto& layer : layers_) h = layer.forward(h);
    return h;
  }

  // dy = dL/d(output). Fills every parameter gradient; the input's dx is skipped.
  void backward(const M& dy) {
    M g = dy;
    for (std::size_t l = layers_.size(); l-- > 0;) g = layers_[l].backward(g, l > 0);
  }

  // forward, loss, backward and one optimizer step; returns the loss.
  double train_step(const M& x, const M& target, Loss loss, Optimizer<Scalar, Space>& opt) {
    return phantom::train_step(*this, x, target, loss, opt, dy_);
  }

  ParameterList<Scalar, Space> parameters() const {
    ParameterList<Scalar, Space> all;
    for (const auto& layer : layers_)
      for (auto& p : layer.parameters()) all.push_back(p);
    return all;
  }

  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (const auto& layer : layers_) n += layer.parameter_count();
    return n;
  }

  const FFNShape& shape() const { return shape_; }
  const Space& execution_space() const { return space_; }
  std::vector<DenseLayer<Scalar, Space>>& layers() { return layers_; }

 private:
  FFNShape shape_;
  Space space_;
  std::vector<DenseLayer<Scalar, Space>> layers_;
  M dy_;
};

}  // namespace phantom
