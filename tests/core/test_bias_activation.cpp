// The fused bias + activation kernels against the separate kernels they
// replace (add_bias then activation_forward; activation_backward then
// bias_gradient): bitwise the same, for every activation, on every execution
// space, on a shape whose columns are split into row runs on host spaces and
// on one that is not.
#include <gtest/gtest.h>

#include <cmath>

#include "backends.hpp"
#include "phantom/core/bias.hpp"
#include "phantom/core/bias_activation.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"
#include "test_helpers.hpp"

namespace {

using phantom::Activation;
using phantom_test::to_host_vector;

template <class Space>
class BiasActivation : public ::testing::Test {};
TYPED_TEST_SUITE(BiasActivation, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(BiasActivation, FusedKernelsEqualTheSeparateOnes) {
  using M = phantom::Matrix<float, TypeParam>;
  using V = phantom::Vector<float, TypeParam>;
  const TypeParam space;
  for (auto shape : {std::pair<std::size_t, std::size_t>{300, 37}, {5, 3}, {1000, 1}}) {
    const auto [rows, cols] = shape;
    M z0("z0", rows, cols), dy("dy", rows, cols);
    V b("b", cols);
    phantom::fill_uniform(space, z0, 1, 0, 2.0);
    phantom::fill_uniform(space, dy, 1, 1, 1.0);
    phantom::fill_uniform(space, b, 1, 2, 1.0);
    for (Activation a :
         {Activation::relu, Activation::gelu, Activation::tanh, Activation::identity}) {
      SCOPED_TRACE(std::string(phantom::to_string(a)) + ", " + std::to_string(rows) + " x " +
                   std::to_string(cols));
      // Separate: z += b; y = act(z); dz = dy act'(z); db = sum dz.
      M z1("z1", rows, cols), y1("y1", rows, cols), dz1("dz1", rows, cols);
      V db1("db1", cols);
      Kokkos::deep_copy(z1, z0);
      phantom::add_bias(space, z1, b);
      phantom::activation_forward(space, a, z1, y1);
      phantom::activation_backward(space, a, z1, dy, dz1);
      phantom::bias_gradient(space, dz1, db1);
      // Fused.
      M z2("z2", rows, cols), y2("y2", rows, cols), dz2("dz2", rows, cols);
      V db2("db2", cols);
      Kokkos::deep_copy(z2, z0);
      phantom::bias_activation_forward(space, a, z2, b, y2);
      phantom::activation_backward_bias(space, a, z2, y2, dy, dz2, db2);
      EXPECT_EQ(to_host_vector(z1), to_host_vector(z2));
      EXPECT_EQ(to_host_vector(y1), to_host_vector(y2));
      EXPECT_EQ(to_host_vector(dz1), to_host_vector(dz2));
      EXPECT_EQ(to_host_vector(db1), to_host_vector(db2));
      // And db is the column sum of dz (an independent host sum, in double).
      const auto dz = to_host_vector(dz2), db = to_host_vector(db2);
      for (std::size_t j = 0; j < cols; ++j) {
        double s = 0;
        for (std::size_t i = 0; i < rows; ++i) s += dz[j * rows + i];
        EXPECT_NEAR(db[j], s, 1e-4 * (1 + std::abs(s)));
      }
    }
  }
}

TYPED_TEST(BiasActivation, ShapeMismatchesAreErrors) {
  using M = phantom::Matrix<float, TypeParam>;
  using V = phantom::Vector<float, TypeParam>;
  const TypeParam space;
  M z("z", 4, 3), y("y", 4, 3), wrong("w", 4, 2);
  V b("b", 3), short_b("s", 2);
  EXPECT_THROW(phantom::bias_activation_forward(space, Activation::relu, z, short_b, y),
               phantom::ShapeError);
  EXPECT_THROW(phantom::bias_activation_forward(space, Activation::relu, z, b, wrong),
               phantom::ShapeError);
  EXPECT_THROW(phantom::activation_backward_bias(space, Activation::relu, z, y, y, y, short_b),
               phantom::ShapeError);
  EXPECT_THROW(phantom::activation_backward_bias(space, Activation::relu, z, y, wrong, wrong, b),
               phantom::ShapeError);
  EXPECT_THROW(phantom::activation_backward_bias(space, Activation::tanh, z, wrong, y, y, b),
               phantom::ShapeError);
}

}  // namespace
