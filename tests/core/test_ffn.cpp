// The single-rank FFN: it learns the teacher problem, it is reproducible from
// its seed, and bad shapes are clear errors; on every execution space Kokkos
// enables.
#include <gtest/gtest.h>

#include "backends.hpp"
#include "phantom/phantom.hpp"
#include "test_helpers.hpp"

namespace {

template <class Scalar, class Space>
double train(const Space& space, std::size_t steps, phantom::OptimizerKind kind, double lr,
             double* first_loss) {
  using M = phantom::Matrix<Scalar, Space>;
  phantom::TeacherConfig dc;
  dc.samples = 512;
  dc.input_dim = 8;
  dc.output_dim = 3;
  auto data = phantom::make_teacher_dataset<Scalar, Space>(dc, space);
  phantom::SequentialFFN<Scalar, Space> model({8, 64, 2, 3}, phantom::Activation::tanh, space);
  model.initialize(7);
  phantom::OptimizerConfig oc;
  oc.kind = kind;
  oc.learning_rate = lr;
  oc.momentum = kind == phantom::OptimizerKind::sgd ? 0.9 : 0.0;
  phantom::Optimizer<Scalar, Space> opt(oc, space);
  const std::size_t batch = 32;
  M xb("x", batch, 8), yb("y", batch, 3);
  phantom::BatchSampler sampler(data.size(), batch, false, 0);
  double loss = 0;
  for (std::size_t step = 0; step < steps; ++step) {
    phantom::gather_batch(space, data, sampler.rows_for_step(step), xb, yb);
    loss = model.train_step(xb, yb, phantom::Loss::mse, opt);
    if (step == 0) *first_loss = loss;
  }
  // Judge on the whole data set, not one batch.
  M y_all("y_all", data.size(), 3), dy("dy", data.size(), 3);
  Kokkos::deep_copy(y_all, model.forward(data.x));
  return phantom::loss_and_gradient(space, phantom::Loss::mse, y_all, data.y, dy);
}

template <class Space>
class FFN : public ::testing::Test {};
TYPED_TEST_SUITE(FFN, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(FFN, TeacherLossFallsTenfoldWithAdam) {
  double first = 0;
  const double final_loss =
      train<float>(TypeParam(), 300, phantom::OptimizerKind::adam, 3e-3, &first);
  EXPECT_LT(final_loss, first / 10) << "first " << first << " final " << final_loss;
}

TYPED_TEST(FFN, TeacherLossFallsTenfoldWithSgdMomentum) {
  double first = 0;
  const double final_loss =
      train<double>(TypeParam(), 600, phantom::OptimizerKind::sgd, 0.05, &first);
  EXPECT_LT(final_loss, first / 10) << "first " << first << " final " << final_loss;
}

TYPED_TEST(FFN, SameSeedSameWeights) {
  const TypeParam space;
  phantom::SequentialFFN<double, TypeParam> a({4, 8, 1, 2}, phantom::Activation::relu, space),
      b({4, 8, 1, 2}, phantom::Activation::relu, space);
  a.initialize(5);
  b.initialize(5);
  const auto pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), 6u);
  for (std::size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(phantom_test::to_host_vector(pa[i].value), phantom_test::to_host_vector(pb[i].value));
  b.initialize(6);
  EXPECT_NE(phantom_test::to_host_vector(a.parameters()[0].value),
            phantom_test::to_host_vector(b.parameters()[0].value));
  EXPECT_EQ(a.parameter_count(), std::size_t(4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2));
}

TYPED_TEST(FFN, BadShapesAreClearErrors) {
  using M = phantom::Matrix<double, TypeParam>;
  const TypeParam space;
  phantom::SequentialFFN<double, TypeParam> model({4, 8, 1, 2}, phantom::Activation::relu, space);
  model.initialize(1);
  M wrong_x("x", 3, 5);
  try {
    model.forward(wrong_x);
    FAIL() << "expected ShapeError";
  } catch (const phantom::ShapeError& e) {
    EXPECT_STREQ(e.what(), "layer_000 forward: input columns is 5 but n_in is 4");
  }
  M x("x", 3, 4), t("t", 3, 3), dy("dy", 3, 2);
  M y = model.forward(x);
  EXPECT_THROW(phantom::loss_and_gradient(space, phantom::Loss::mse, y, t, dy),
               phantom::ShapeError);
  M bad_dy("dy", 2, 2);
  EXPECT_THROW(model.backward(bad_dy), phantom::ShapeError);
  EXPECT_THROW(
      (phantom::DenseLayer<double, TypeParam>(0, 3, phantom::Activation::relu, "l", space)),
      phantom::ShapeError);
}

}  // namespace
