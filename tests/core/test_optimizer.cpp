// Optimizer steps against values computed by hand from PyTorch's rules, on
// every execution space Kokkos enables.
#include <gtest/gtest.h>

#include <cmath>

#include "backends.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/core/types.hpp"
#include "test_helpers.hpp"

namespace {

template <class Space>
struct OneParameter {
  using V = phantom::Vector<double, Space>;
  V value{"p", 2}, grad{"g", 2};
  phantom::ParameterList<double, Space> list() {
    return {phantom::make_parameter("p", value, grad)};
  }
  void set(double p0, double p1, double g0, double g1) {
    auto v = Kokkos::create_mirror_view(value), g = Kokkos::create_mirror_view(grad);
    v(0) = p0;
    v(1) = p1;
    g(0) = g0;
    g(1) = g1;
    Kokkos::deep_copy(value, v);
    Kokkos::deep_copy(grad, g);
  }
  void set_grad(double g0, double g1) {
    auto g = Kokkos::create_mirror_view(grad);
    g(0) = g0;
    g(1) = g1;
    Kokkos::deep_copy(grad, g);
  }
  std::vector<double> values() { return phantom_test::to_host_vector(value); }
};

template <class Space>
class Optimizer : public ::testing::Test {};
TYPED_TEST_SUITE(Optimizer, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(Optimizer, SgdWithMomentum) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.kind = phantom::OptimizerKind::sgd;
  c.learning_rate = 0.1;
  c.momentum = 0.9;
  phantom::Optimizer<double, TypeParam> opt(c, space);
  OneParameter<TypeParam> p;
  p.set(1.0, -2.0, 0.5, 1.0);
  opt.step(p.list());  // v = g = (0.5, 1); p = (1 - 0.05, -2 - 0.1)
  EXPECT_DOUBLE_EQ(p.values()[0], 0.95);
  EXPECT_DOUBLE_EQ(p.values()[1], -2.1);
  p.set_grad(-1.0, 2.0);
  opt.step(p.list());  // v = 0.9 (0.5, 1) + (-1, 2) = (-0.55, 2.9)
  EXPECT_NEAR(p.values()[0], 0.95 + 0.055, 1e-15);
  EXPECT_NEAR(p.values()[1], -2.1 - 0.29, 1e-15);
}

TYPED_TEST(Optimizer, PlainSgd) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.learning_rate = 0.5;
  phantom::Optimizer<double, TypeParam> opt(c, space);
  OneParameter<TypeParam> p;
  p.set(1.0, 1.0, 2.0, -4.0);
  opt.step(p.list());
  opt.step(p.list());  // same gradient twice, no momentum: p -= 2 * 0.5 * g
  EXPECT_DOUBLE_EQ(p.values()[0], -1.0);
  EXPECT_DOUBLE_EQ(p.values()[1], 5.0);
}

TYPED_TEST(Optimizer, Adam) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.kind = phantom::OptimizerKind::adam;
  c.learning_rate = 0.01;
  phantom::Optimizer<double, TypeParam> opt(c, space);
  OneParameter<TypeParam> p;
  p.set(1.0, 0.0, 0.3, -2.0);
  opt.step(p.list());
  // Step 1: m_hat = g, v_hat = g^2, so p -= lr * g / (|g| + eps).
  EXPECT_NEAR(p.values()[0], 1.0 - 0.01 * 0.3 / (0.3 + 1e-8), 1e-15);
  EXPECT_NEAR(p.values()[1], 0.0 + 0.01 * 2.0 / (2.0 + 1e-8), 1e-15);
  p.set_grad(0.1, -2.0);
  const double before = p.values()[0];
  opt.step(p.list());
  const double m = 0.9 * 0.1 * 0.3 + 0.1 * 0.1;  // b1 m1 + (1 - b1) g2, m1 = 0.1 * 0.3
  const double v = 0.999 * 0.001 * 0.09 + 0.001 * 0.01;
  const double m_hat = m / (1 - 0.81), v_hat = v / (1 - 0.999 * 0.999);
  EXPECT_NEAR(p.values()[0], before - 0.01 * m_hat / (std::sqrt(v_hat) + 1e-8), 1e-15);
}

TYPED_TEST(Optimizer, RejectsBadSettings) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.learning_rate = 0;
  EXPECT_THROW((phantom::Optimizer<double, TypeParam>(c, space)), phantom::InvalidArgument);
  c.learning_rate = 0.1;
  c.momentum = 1.0;
  EXPECT_THROW((phantom::Optimizer<double, TypeParam>(c, space)), phantom::InvalidArgument);
  EXPECT_THROW(phantom::parse_optimizer("adamw"), phantom::InvalidArgument);
}

TYPED_TEST(Optimizer, DecoupledWeightDecayShrinksBeforeTheUpdate) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.kind = phantom::OptimizerKind::sgd;
  c.learning_rate = 0.1;
  c.weight_decay = 0.5;
  phantom::Optimizer<double, TypeParam> opt(c, space);
  OneParameter<TypeParam> p;
  p.set(1.0, -2.0, 0.5, 1.0);
  opt.step(p.list());  // p = p (1 - 0.1 * 0.5) - 0.1 g = (0.95 - 0.05, -1.9 - 0.1)
  EXPECT_NEAR(p.values()[0], 0.9, 1e-15);
  EXPECT_NEAR(p.values()[1], -2.0, 1e-15);

  // AdamW: the first step's Adam update is lr sign(g) (m / sqrt(v) = g / |g|
  // after bias correction, up to eps), after p *= 1 - lr wd.
  c.kind = phantom::OptimizerKind::adam;
  c.learning_rate = 0.01;
  c.weight_decay = 0.1;
  phantom::Optimizer<double, TypeParam> adamw(c, space);
  p.set(1.0, -2.0, 0.5, -1.0);
  adamw.step(p.list());
  const double keep = 1 - 0.01 * 0.1;
  EXPECT_NEAR(p.values()[0], 1.0 * keep - 0.01 * 0.5 / (0.5 + 1e-8), 1e-15);
  EXPECT_NEAR(p.values()[1], -2.0 * keep + 0.01 * 1.0 / (1.0 + 1e-8), 1e-15);
}

TYPED_TEST(Optimizer, ZeroWeightDecayIsBitwiseThePlainUpdate) {
  const TypeParam space;
  phantom::OptimizerConfig c;
  c.kind = phantom::OptimizerKind::adam;
  c.learning_rate = 0.003;
  phantom::Optimizer<double, TypeParam> plain(c, space);
  c.weight_decay = 0.0;
  phantom::Optimizer<double, TypeParam> zero(c, space);
  OneParameter<TypeParam> a, b;
  a.set(0.3, -0.7, 0.11, 0.29);
  b.set(0.3, -0.7, 0.11, 0.29);
  for (int i = 0; i < 3; ++i) {
    plain.step(a.list());
    zero.step(b.list());
  }
  EXPECT_EQ(a.values(), b.values());
}

}  // namespace
