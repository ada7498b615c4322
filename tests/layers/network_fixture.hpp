// Shared set-up for the parallel-network tests: the world communicator, a
// small network shape that every rank count 1..4 divides, and data, in the
// memory of the execution space a typed test runs on (backends.hpp).
#pragma once

#include <memory>
#include <string>

#include "backends.hpp"
#include "host_matrix.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace phantom_test {

template <class Space>
using M = phantom::Matrix<double, Space>;

constexpr std::size_t kBatch = 4;
inline phantom::FFNShape small_shape(std::size_t depth = 2) {
  return {5, 12, depth, 3};
}

inline phantom::NetworkConfig config(phantom::Strategy s, std::size_t depth = 2,
                                     phantom::Activation act = phantom::Activation::tanh) {
  phantom::NetworkConfig c;
  c.shape = small_shape(depth);
  c.strategy = s;
  c.ghost = 2;
  c.activation = act;
  return c;
}

// Replicated inputs and targets, the same on every rank, filled on space.
template <class Space>
struct Batch {
  M<Space> x{"x", kBatch, 5}, t{"t", kBatch, 3};
  Batch(const Space& space, std::uint64_t seed) {
    phantom::fill_uniform(space, x, seed, 77, 1.0);
    phantom::fill_uniform(space, t, seed, 78, 1.0);
  }
};

// Layer index from a parameter name "layer_00l.xxx".
inline std::size_t layer_of(const std::string& name) {
  return std::stoul(name.substr(6, 3));
}
inline std::string field_of(const std::string& name) {
  return name.substr(name.find('.') + 1);
}

// The parameter of `list` called `name`, or nullptr.
template <class List>
const typename List::value_type* find_parameter(const List& list, const std::string& name) {
  for (const auto& p : list)
    if (p.name == name) return &p;
  return nullptr;
}

// forward + mse + backward of a network built on space; returns the loss.
template <class Space, class Net>
double forward_backward(const Space& space, Net& net, const Batch<Space>& b) {
  M<Space> y = net.forward(b.x);
  M<Space> dy("dy", y.extent(0), y.extent(1));
  const double loss = phantom::loss_and_gradient(space, phantom::Loss::mse, y, b.t, dy);
  net.backward(dy);
  return loss;
}

}  // namespace phantom_test
