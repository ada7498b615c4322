// Finite-difference gradient checks, in double, for every activation, the
// dense layer (dW, db, dx), both losses and the whole FFN; all but the scalar
// activation functions on every execution space Kokkos enables.
#include <gtest/gtest.h>

#include "backends.hpp"
#include "phantom/phantom.hpp"
#include "test_helpers.hpp"

namespace {

template <class Space>
using Mat = phantom::Matrix<double, Space>;
using phantom_test::central_difference;
using phantom_test::relative_error;
using phantom_test::to_host_vector;

const phantom::Activation kActivations[] = {phantom::Activation::identity,
                                            phantom::Activation::relu, phantom::Activation::gelu,
                                            phantom::Activation::tanh};

// sum(w .* m): a scalar "loss" whose gradient with respect to m is w.
template <class Space>
double weighted_sum(const Mat<Space>& m, const Mat<Space>& w) {
  const auto a = to_host_vector(m), b = to_host_vector(w);
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// phantom::activate and its derivative on scalars, on the host: no space.
TEST(Gradients, ActivationDerivatives) {
  for (auto act : kActivations) {
    // Points away from ReLU's kink at 0.
    for (double z : {-2.3, -0.7, -0.05, 0.05, 0.4, 1.9}) {
      const double h = 1e-6;
      const double fd = (phantom::activate(act, z + h) - phantom::activate(act, z - h)) / (2 * h);
      EXPECT_LT(relative_error(phantom::activate_derivative(act, z), fd), 1e-7)
          << phantom::to_string(act) << " at " << z;
    }
  }
  EXPECT_NEAR(phantom::activate(phantom::Activation::gelu, 1.0), 0.8413447460685429, 1e-15);
}

template <class Space>
class Gradients : public ::testing::Test {};
TYPED_TEST_SUITE(Gradients, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(Gradients, DenseLayerAllActivations) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  const std::size_t batch = 5, n_in = 7, n_out = 6;
  for (auto act : kActivations) {
    phantom::DenseLayer<double, TypeParam> layer(n_in, n_out, act, "layer", space);
    layer.initialize(3, 0);
    M x("x", batch, n_in), w("w", batch, n_out);
    phantom::fill_uniform(space, x, 4, 0, 1.0);
    phantom::fill_uniform(space, w, 4, 1, 1.0);
    auto loss = [&] { return weighted_sum<TypeParam>(layer.forward(x), w); };
    loss();
    M dx = layer.backward(w);  // dL/dy = w
    const auto dW = to_host_vector(layer.weight_gradient());
    const auto db = to_host_vector(layer.bias_gradient_view());
    const auto dxh = to_host_vector(dx);
    for (std::size_t i = 0; i < dW.size(); ++i)
      EXPECT_LT(relative_error(dW[i], central_difference(layer.weight(), i, loss)), 1e-6)
          << phantom::to_string(act) << " dW[" << i << "]";
    for (std::size_t i = 0; i < db.size(); ++i)
      EXPECT_LT(relative_error(db[i], central_difference(layer.bias(), i, loss)), 1e-6)
          << phantom::to_string(act) << " db[" << i << "]";
    for (std::size_t i = 0; i < dxh.size(); ++i)
      EXPECT_LT(relative_error(dxh[i], central_difference(x, i, loss)), 1e-6)
          << phantom::to_string(act) << " dx[" << i << "]";
  }
}

TYPED_TEST(Gradients, Losses) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  const std::size_t batch = 4, d = 5;
  M y("y", batch, d), t("t", batch, d), dy("dy", batch, d), scratch("s", batch, d);
  phantom::fill_uniform(space, y, 5, 0, 2.0);
  for (auto kind : {phantom::Loss::mse, phantom::Loss::cross_entropy}) {
    if (kind == phantom::Loss::mse) {
      phantom::fill_uniform(space, t, 5, 1, 1.0);
    } else {  // one-hot targets
      auto th = Kokkos::create_mirror_view(t);
      Kokkos::deep_copy(th, 0.0);
      for (std::size_t i = 0; i < batch; ++i) th(i, (3 * i + 1) % d) = 1.0;
      Kokkos::deep_copy(t, th);
    }
    phantom::loss_and_gradient(space, kind, y, t, dy);
    const auto g = to_host_vector(dy);
    auto f = [&] { return phantom::loss_and_gradient(space, kind, y, t, scratch); };
    for (std::size_t i = 0; i < g.size(); ++i)
      EXPECT_LT(relative_error(g[i], central_difference(y, i, f)), 1e-6)
          << phantom::to_string(kind) << " dy[" << i << "]";
  }
}

TYPED_TEST(Gradients, LossValuesMatchHandComputed) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  M y("y", 2, 2), t("t", 2, 2), dy("dy", 2, 2);
  auto yh = Kokkos::create_mirror_view(y), th = Kokkos::create_mirror_view(t);
  yh(0, 0) = 1;
  yh(0, 1) = 2;
  yh(1, 0) = 0;
  yh(1, 1) = -1;
  th(0, 0) = 0;
  th(0, 1) = 2;
  th(1, 0) = 1;
  th(1, 1) = 0;
  Kokkos::deep_copy(y, yh);
  Kokkos::deep_copy(t, th);
  // mse: (1 + 0 + 1 + 1) / 4
  EXPECT_DOUBLE_EQ(phantom::loss_and_gradient(space, phantom::Loss::mse, y, t, dy), 0.75);
  // cross entropy, one-hot rows: row 0 is class 1, row 1 is class 0.
  th(0, 0) = 0;
  th(0, 1) = 1;
  th(1, 0) = 1;
  th(1, 1) = 0;
  Kokkos::deep_copy(t, th);
  const double row0 = -(2 - std::log(std::exp(1.0) + std::exp(2.0)));
  const double row1 = -(0 - std::log(std::exp(0.0) + std::exp(-1.0)));
  EXPECT_NEAR(phantom::loss_and_gradient(space, phantom::Loss::cross_entropy, y, t, dy),
              (row0 + row1) / 2, 1e-15);
}

TYPED_TEST(Gradients, WholeNetwork) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  phantom::FFNShape shape{3, 8, 2, 2};
  phantom::SequentialFFN<double, TypeParam> model(shape, phantom::Activation::gelu, space);
  model.initialize(11);
  M x("x", 4, 3), t("t", 4, 2), dy("dy", 4, 2), scratch("s", 4, 2);
  phantom::fill_uniform(space, x, 12, 0, 1.0);
  phantom::fill_uniform(space, t, 12, 1, 1.0);
  auto loss = [&] {
    return phantom::loss_and_gradient(space, phantom::Loss::mse, model.forward(x), t, scratch);
  };
  phantom::loss_and_gradient(space, phantom::Loss::mse, model.forward(x), t, dy);
  model.backward(dy);
  for (const auto& p : model.parameters()) {
    const auto g = to_host_vector(p.grad);
    for (std::size_t i = 0; i < g.size(); i += 3)
      EXPECT_LT(relative_error(g[i], central_difference(p.value, i, loss), 1e-7), 1e-6)
          << p.name << "[" << i << "]";
  }
}

}  // namespace
