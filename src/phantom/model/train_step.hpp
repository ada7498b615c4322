// One training step of any network with forward(x), backward(dy),
// parameters() and execution_space(): forward, loss and its gradient,
// backward, optimizer update, all on the network's instance.
#pragma once

#include "phantom/core/loss.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/core/profiling.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

// dy is the caller's buffer for dL/d(output), (re)allocated here on a shape
// change. before_update() runs between the backward pass and the update, with
// every gradient in place (gradient clipping). Returns the loss.
template <class Network, class Scalar, class Space, class BeforeUpdate>
double train_step(Network& net, const Matrix<Scalar, Space>& x, const Matrix<Scalar, Space>& target,
                  Loss loss, Optimizer<Scalar, Space>& opt, Matrix<Scalar, Space>& dy,
                  BeforeUpdate&& before_update) {
  const Matrix<Scalar, Space> y = net.forward(x);
  if (dy.extent(0) != y.extent(0) || dy.extent(1) != y.extent(1))
    dy = Matrix<Scalar, Space>(Kokkos::view_alloc(net.execution_space(), std::string("dy")),
                               y.extent(0), y.extent(1));
  const double value = loss_and_gradient(net.execution_space(), loss, y, target, dy);
  net.backward(dy);
  before_update();
  ProfilingRegion region("phantom::optimizer");
  opt.step(net.parameters());
  return value;
}

template <class Network, class Scalar, class Space>
double train_step(Network& net, const Matrix<Scalar, Space>& x, const Matrix<Scalar, Space>& target,
                  Loss loss, Optimizer<Scalar, Space>& opt, Matrix<Scalar, Space>& dy) {
  return train_step(net, x, target, loss, opt, dy, [] {});
}

}  // namespace phantom
