// Optimizer steps against values computed by hand from PyTorch's rules, on
// every execution space Kokkos enables.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

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

// Parameters end to end in one buffer (a network's ParameterStorage) take one
// fused pass; the same parameters in separate allocations one pass each. Both
// must give bitwise the same values and state, with sizes that cross the host
// kernels' runs of 16 Ki elements.
template <class Space>
struct ThreeParameters {
  using Flat = Kokkos::View<float*, Space>;
  static constexpr std::size_t sizes[3] = {20000, 7, 16500};
  Flat values, grads;                // contiguous, or
  Flat own_values[3], own_grads[3];  // one allocation each
  explicit ThreeParameters(bool contiguous) {
    const std::size_t n = sizes[0] + sizes[1] + sizes[2];
    if (contiguous) {
      values = Flat("values", n);
      grads = Flat("grads", n);
    }
    std::size_t offset = 0;
    for (int i = 0; i < 3; ++i) {
      const auto r = Kokkos::make_pair(offset, offset + sizes[i]);
      own_values[i] = contiguous ? Flat(Kokkos::subview(values, r)) : Flat("v", sizes[i]);
      own_grads[i] = contiguous ? Flat(Kokkos::subview(grads, r)) : Flat("g", sizes[i]);
      offset += sizes[i];
    }
  }
  phantom::ParameterList<float, Space> list() const {
    phantom::ParameterList<float, Space> l;
    for (int i = 0; i < 3; ++i)
      l.push_back(phantom::make_parameter("p" + std::to_string(i), own_values[i], own_grads[i]));
    return l;
  }
  // Values and gradients from a formula of (parameter, element, step).
  void fill(int step) {
    for (int i = 0; i < 3; ++i) {
      auto v = Kokkos::create_mirror_view(own_values[i]);
      auto g = Kokkos::create_mirror_view(own_grads[i]);
      Kokkos::deep_copy(v, own_values[i]);
      for (std::size_t j = 0; j < sizes[i]; ++j) {
        if (step == 0) v(j) = float(std::sin(0.37 * double(j) + i));
        g(j) = float(std::cos(0.11 * double(j) * (step + 1) - i));
      }
      Kokkos::deep_copy(own_values[i], v);
      Kokkos::deep_copy(own_grads[i], g);
    }
  }
  std::vector<double> all_values() const {
    std::vector<double> out;
    for (const auto& v : own_values) {
      const auto h = phantom_test::to_host_vector(v);
      out.insert(out.end(), h.begin(), h.end());
    }
    return out;
  }
};

TYPED_TEST(Optimizer, FusedPassEqualsOnePassPerParameter) {
  const TypeParam space;
  ThreeParameters<TypeParam> fused(true), separate(false);
  ASSERT_TRUE(phantom::detail::contiguous(fused.list()));
  ASSERT_FALSE(phantom::detail::contiguous(separate.list()));
  for (auto kind : {phantom::OptimizerKind::sgd, phantom::OptimizerKind::adam}) {
    for (double decay : {0.0, 0.05}) {
      phantom::OptimizerConfig c;
      c.kind = kind;
      c.learning_rate = 0.01;
      c.momentum = 0.9;
      c.weight_decay = decay;
      phantom::Optimizer<float, TypeParam> a(c, space), b(c, space);
      for (int step = 0; step < 3; ++step) {
        fused.fill(step);
        separate.fill(step);
        a.step(fused.list());
        b.step(separate.list());
      }
      const auto va = fused.all_values(), vb = separate.all_values();
      ASSERT_EQ(va.size(), vb.size());
      std::size_t differ = 0;
      for (std::size_t i = 0; i < va.size(); ++i) differ += va[i] != vb[i];
      EXPECT_EQ(differ, 0u) << phantom::to_string(kind) << ", weight decay " << decay;
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(phantom_test::to_host_vector(a.first_moments()[i]),
                  phantom_test::to_host_vector(b.first_moments()[i]));
        if (kind == phantom::OptimizerKind::adam) {
          EXPECT_EQ(phantom_test::to_host_vector(a.second_moments()[i]),
                    phantom_test::to_host_vector(b.second_moments()[i]));
        }
      }
    }
  }
}

}  // namespace
