// tp and megatron networks hold the same global weights as the dense network
// from the same seed at any rank count, so they must give the same outputs,
// the same gradients (each rank's shard of them) and the same 20-step SGD loss
// trajectory, on every execution space.
#include <gtest/gtest.h>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

// Where this rank's shard of a parameter sits in the dense parameter.
struct Slice {
  std::size_t row0 = 0, col0 = 0;
};

Slice slice_of(phantom::Strategy s, const std::string& name, std::size_t depth, std::size_t r,
               std::size_t m) {
  const std::size_t l = layer_of(name);
  const bool bias = field_of(name) == "bias";
  // Row-parallel layers (input sharded): the output layer and megatron's odd layers.
  const bool row_parallel = l == depth + 1 || (s == phantom::Strategy::megatron && l % 2 == 1);
  if (row_parallel) return bias ? Slice{0, 0} : Slice{0, r * m};
  return Slice{r * m, 0};  // column-parallel and tp: output features [r m, (r+1) m)
}

// The checks of one strategy on one execution space. ASSERTs leave only the
// check they are in.
template <class Space>
void outputs_and_gradients_match_dense(phantom::Strategy strategy) {
  const Space space;
  auto comm = phantom::make_world_communicator();
  const std::size_t p = comm->size(), r = comm->rank();
  const auto cfg = config(strategy, 4, phantom::Activation::gelu);
  phantom::DistributedFFN<double, Space> net(*comm, cfg, space);
  phantom::SequentialFFN<double, Space> dense(cfg.shape, cfg.activation, space);
  net.initialize(21);
  dense.initialize(21);
  EXPECT_EQ(net.global_parameter_count(), dense.parameter_count());

  const Batch<Space> batch(space, 5);
  const HostMatrix y = to_host(phantom::flatten(net.forward(batch.x)), kBatch, 3);
  const HostMatrix y_dense = to_host(phantom::flatten(dense.forward(batch.x)), kBatch, 3);
  EXPECT_LE(relative_difference(y, y_dense), 1e-10);

  const double loss = forward_backward(space, net, batch);
  const double loss_dense = forward_backward(space, dense, batch);
  EXPECT_LE(std::abs(loss - loss_dense) / loss_dense, 1e-10);

  const std::size_t m = cfg.shape.width / p;
  const auto dense_params = dense.parameters();
  for (const auto& prm : net.parameters()) {
    const auto* it = find_parameter(dense_params, prm.name);
    ASSERT_NE(it, nullptr) << prm.name;
    const Slice sl = slice_of(cfg.strategy, prm.name, cfg.shape.depth, r, m);
    const HostMatrix v = value_of(prm), g = grad_of(prm);
    const HostMatrix dv = value_of(*it), dg = grad_of(*it);
    EXPECT_EQ(v.a, block(dv, sl.row0, sl.col0, v.rows, v.cols).a) << prm.name << " values";
    EXPECT_LE(relative_difference(g, block(dg, sl.row0, sl.col0, g.rows, g.cols)), 1e-10)
        << prm.name << " gradient on rank " << r;
  }
}

template <class Space>
void twenty_step_sgd_trajectory_matches_dense(phantom::Strategy strategy) {
  const Space space;
  auto comm = phantom::make_world_communicator();
  const auto cfg = config(strategy, 2, phantom::Activation::relu);
  phantom::DistributedFFN<double, Space> net(*comm, cfg, space);
  phantom::SequentialFFN<double, Space> dense(cfg.shape, cfg.activation, space);
  net.initialize(8);
  dense.initialize(8);
  phantom::OptimizerConfig oc;
  oc.learning_rate = 0.05;
  oc.momentum = 0.9;
  phantom::Optimizer<double, Space> opt(oc, space), opt_dense(oc, space);
  for (int step = 0; step < 20; ++step) {
    const Batch<Space> batch(space, 100 + step);
    const double a = net.train_step(batch.x, batch.t, phantom::Loss::mse, opt);
    const double b = dense.train_step(batch.x, batch.t, phantom::Loss::mse, opt_dense);
    EXPECT_LE(std::abs(a - b) / b, 1e-10) << "step " << step;
  }
}

// One test per strategy (tp, megatron) and execution space.
template <class Space>
class StrategyEquivalence : public ::testing::Test {};
TYPED_TEST_SUITE(StrategyEquivalence, ExecutionSpaces, SpaceName);

TYPED_TEST(StrategyEquivalence, TpOutputsAndGradientsMatchDense) {
  outputs_and_gradients_match_dense<TypeParam>(phantom::Strategy::tp);
}
TYPED_TEST(StrategyEquivalence, MegatronOutputsAndGradientsMatchDense) {
  outputs_and_gradients_match_dense<TypeParam>(phantom::Strategy::megatron);
}
TYPED_TEST(StrategyEquivalence, TpTwentyStepSgdTrajectoryMatchesDense) {
  twenty_step_sgd_trajectory_matches_dense<TypeParam>(phantom::Strategy::tp);
}
TYPED_TEST(StrategyEquivalence, MegatronTwentyStepSgdTrajectoryMatchesDense) {
  twenty_step_sgd_trajectory_matches_dense<TypeParam>(phantom::Strategy::megatron);
}

// Configuration checks only (no views, no kernels): one plain test.
TEST(StrategyValidation, ClearErrors) {
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  auto cfg = config(phantom::Strategy::megatron, 3);
  EXPECT_THROW(phantom::validate(cfg, p), phantom::InvalidArgument);
  cfg = config(phantom::Strategy::tp);
  cfg.shape.width = 7;
  if (p > 1) {
    try {
      phantom::validate(cfg, p);
      FAIL() << "expected InvalidArgument";
    } catch (const phantom::InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()),
                "width 7 is not divisible by the rank count " + std::to_string(p));
    }
    EXPECT_THROW(phantom::validate(config(phantom::Strategy::dense), p), phantom::InvalidArgument);
  }
  auto pp = config(phantom::Strategy::pp);
  pp.ghost = 0;
  EXPECT_THROW(phantom::validate(pp, p), phantom::InvalidArgument);
  EXPECT_THROW(phantom::parse_strategy("fsdp"), phantom::InvalidArgument);
}

}  // namespace
