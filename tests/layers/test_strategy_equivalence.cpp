// tp and megatron networks hold the same global weights as the dense network
// from the same seed at any rank count, so they must give the same outputs,
// the same gradients (each rank's shard of them) and the same 20-step SGD loss
// trajectory.
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

class StrategyEquivalence : public ::testing::TestWithParam<phantom::Strategy> {};

TEST_P(StrategyEquivalence, OutputsAndGradientsMatchDense) {
  auto comm = phantom::make_world_communicator();
  const std::size_t p = comm->size(), r = comm->rank();
  const auto cfg = config(GetParam(), 4, phantom::Activation::gelu);
  phantom::DistributedFFN<double, Space> net(*comm, cfg);
  phantom::SequentialFFN<double, Space> dense(cfg.shape, cfg.activation);
  net.initialize(21);
  dense.initialize(21);
  EXPECT_EQ(net.global_parameter_count(), dense.parameter_count());

  const Batch batch(5);
  const HostMatrix y = to_host(phantom::flatten(net.forward(batch.x)), kBatch, 3);
  const HostMatrix y_dense = to_host(phantom::flatten(dense.forward(batch.x)), kBatch, 3);
  EXPECT_LE(relative_difference(y, y_dense), 1e-10);

  const double loss = forward_backward(net, batch);
  const double loss_dense = forward_backward(dense, batch);
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

TEST_P(StrategyEquivalence, TwentyStepSgdTrajectoryMatchesDense) {
  auto comm = phantom::make_world_communicator();
  const auto cfg = config(GetParam(), 2, phantom::Activation::relu);
  phantom::DistributedFFN<double, Space> net(*comm, cfg);
  phantom::SequentialFFN<double, Space> dense(cfg.shape, cfg.activation);
  net.initialize(8);
  dense.initialize(8);
  phantom::OptimizerConfig oc;
  oc.learning_rate = 0.05;
  oc.momentum = 0.9;
  phantom::Optimizer<double, Space> opt(oc), opt_dense(oc);
  for (int step = 0; step < 20; ++step) {
    const Batch batch(100 + step);
    const double a = net.train_step(batch.x, batch.t, phantom::Loss::mse, opt);
    const double b = dense.train_step(batch.x, batch.t, phantom::Loss::mse, opt_dense);
    EXPECT_LE(std::abs(a - b) / b, 1e-10) << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, StrategyEquivalence,
                         ::testing::Values(phantom::Strategy::tp, phantom::Strategy::megatron),
                         [](const auto& info) {
                           return std::string(phantom::to_string(info.param));
                         });

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
