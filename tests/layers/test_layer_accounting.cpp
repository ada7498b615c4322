// Parameter, FLOP and byte accounting: the layers' figures equal the formulas
// of docs/parallel-layers.md, and the communicator's byte counters over one
// training step equal the layers' figures.
#include <gtest/gtest.h>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

class Accounting : public ::testing::TestWithParam<phantom::Strategy> {};

TEST_P(Accounting, CountersEqualFormulas) {
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  if (GetParam() == phantom::Strategy::dense && p != 1) GTEST_SKIP() << "dense runs on 1 rank";
  const auto cfg = config(GetParam(), 2);
  const std::size_t n = cfg.shape.width, d = cfg.shape.depth, in = cfg.shape.input_dim,
                    out = cfg.shape.output_dim, k = cfg.ghost, m = n / p, B = kBatch;
  const double s = sizeof(double);
  phantom::DistributedFFN<double, Space> net(*comm, cfg);
  net.initialize(1);

  // Hidden-layer bytes per rank and step (issue 4): pp 2(p-1)kB, tp 2(p-1)(n/p)B,
  // megatron n B 2(p-1)/p per layer; the output layer 2(p-1)/p out B.
  double hidden = 0;
  std::size_t hidden_params = 0;
  double hidden_flops = 0;  // forward + backward per sample
  switch (cfg.strategy) {
    case phantom::Strategy::pp:
      hidden = 2.0 * (p - 1) * k * B;
      hidden_params = p * (m * m + m + k * m + (p - 1) * k * m);
      hidden_flops = (2.0 * m * m + 2.0 * k * m + 2.0 * (p - 1) * k * m) +
                     (4.0 * m * m + 4.0 * (p - 1) * k * m + 4.0 * k * m);
      break;
    case phantom::Strategy::tp:
      hidden = 2.0 * (p - 1) * double(n) / p * B;
      hidden_params = n * n + n;
      hidden_flops = 2.0 * n * n / p + 4.0 * n * n / p;
      break;
    case phantom::Strategy::megatron:
      hidden = n * B * 2.0 * (p - 1) / p;
      hidden_params = n * n + n;
      hidden_flops = 2.0 * n * n / p + 4.0 * n * n / p;  // both kinds: 2 m n + 4 m n
      break;
    case phantom::Strategy::dense:
      hidden_params = n * n + n;
      hidden_flops = 6.0 * n * n;
      break;
  }
  const double output_bytes = 2.0 * (p - 1) / p * out * B * s;
  const double expected_bytes = d * hidden * s + output_bytes;
  const std::size_t expected_params = (in * n + n) + d * hidden_params + (n * out + out);
  const double expected_flops =
      (2.0 * m * in + 2.0 * m * in) + d * hidden_flops + (2.0 * out * m + 4.0 * out * m);

  EXPECT_EQ(net.global_parameter_count(), expected_params);
  EXPECT_DOUBLE_EQ(net.flops_per_sample(), expected_flops);
  EXPECT_DOUBLE_EQ(net.bytes_per_step(B), expected_bytes);

  phantom::OptimizerConfig oc;
  phantom::Optimizer<double, Space> opt(oc);
  const Batch batch(3);
  comm->reset_stats();
  net.train_step(batch.x, batch.t, phantom::Loss::mse, opt);
  EXPECT_DOUBLE_EQ(comm->stats().total_bytes(), expected_bytes);
}

INSTANTIATE_TEST_SUITE_P(Strategies, Accounting,
                         ::testing::Values(phantom::Strategy::dense, phantom::Strategy::pp,
                                           phantom::Strategy::tp, phantom::Strategy::megatron),
                         [](const auto& info) {
                           return std::string(phantom::to_string(info.param));
                         });

}  // namespace
