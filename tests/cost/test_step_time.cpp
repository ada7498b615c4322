// The step-time and energy model of src/phantom/cost/step_time.hpp against
// values computed by hand from its formulas.
#include <gtest/gtest.h>

#include "phantom/cost/step_time.hpp"

namespace {

using namespace phantom::cost;

DeviceProfile round_profile() {
  DeviceProfile p;
  p.name = "round";
  p.gemm_flops_s = 1e9;
  p.gemm_half_dim = 0;
  p.memory_bytes_s = 1e8;
  p.busy_watts = 10;
  p.idle_watts = 2;
  p.ranks_per_node = 4;
  p.intra_node = {1e-6, 1e9};
  p.inter_node = {1e-5, 1e8};
  return p;
}

TEST(StepTime, RingCollectives) {
  const auto p = round_profile();
  // allgather on 4 ranks, 1000 floats per block: 3 (1 us + 4000 B / 1 GB/s)
  EXPECT_DOUBLE_EQ(collective_seconds(CollectiveKind::allgather, 1000, 4, 4, p), 3 * 5e-6);
  EXPECT_DOUBLE_EQ(collective_seconds(CollectiveKind::reduce_scatter, 1000, 4, 4, p), 3 * 5e-6);
  // allreduce: 2 (p-1) (alpha + c s / (p bw)) = 6 (1 us + 1 us)
  EXPECT_DOUBLE_EQ(collective_seconds(CollectiveKind::allreduce, 1000, 4, 4, p), 6 * 2e-6);
  // 8 ranks leave the node: the inter-node link, 7 (10 us + 40 us)
  EXPECT_DOUBLE_EQ(collective_seconds(CollectiveKind::allgather, 1000, 4, 8, p), 7 * 5e-5);
  EXPECT_EQ(collective_seconds(CollectiveKind::allreduce, 1000, 4, 1, p), 0.0);
}

TEST(StepTime, SkinnyGemmsRunBelowPeak) {
  auto p = round_profile();
  p.gemm_half_dim = 16;
  EXPECT_DOUBLE_EQ(p.gemm_rate(256, 16, 1024), 0.5e9);  // d = 16: half the peak
  EXPECT_DOUBLE_EQ(p.gemm_rate(48, 1024, 64), 0.75e9);  // d = 48
}

TEST(StepTime, SumsTheNetworksTerms) {
  CostInput in;
  in.input_dim = 6;
  in.width = 8;
  in.depth = 2;
  in.output_dim = 2;
  in.strategy = phantom::Strategy::tp;
  in.ranks = 2;
  in.batch = 10;
  in.optimizer = "sgd";
  const auto costs = network_costs(in);
  const auto p = round_profile();
  const auto s = predict_step(costs, p);
  // half-dim 0: every GEMM at peak
  EXPECT_DOUBLE_EQ(s.gemm_s, costs.flops / 1e9);
  double streamed = costs.optimizer_values;
  for (const auto& l : costs.layers) streamed += l.elementwise_values;
  EXPECT_DOUBLE_EQ(s.memory_s, streamed * 4 / 1e8);
  // tp hidden layers: all-gather and reduce-scatter of m = 4 per sample, 40 values;
  // output: all-reduce of 2 per sample, 20 values.
  const double gather = 1e-6 + 160 / 1e9;
  const double reduce = 2 * (1e-6 + 80.0 / 2 / 1e9);
  EXPECT_DOUBLE_EQ(s.comm_s, 2 * 2 * gather + reduce);
  EXPECT_DOUBLE_EQ(s.energy_j, 2 * (10 * (s.gemm_s + s.memory_s) + 2 * s.comm_s));
  EXPECT_DOUBLE_EQ(s.step_s(), s.gemm_s + s.memory_s + s.comm_s);
  EXPECT_TRUE(s.fits_memory);
  auto small = p;
  small.memory_capacity_bytes = costs.memory_bytes() - 1;
  EXPECT_FALSE(predict_step(costs, small).fits_memory);
}

// D replicas: each on B / D samples, plus the gradient all-reduce of its N
// parameters over D on the link of D p ranks; energy over all D p ranks.
TEST(StepTime, DataParallelReplicas) {
  CostInput in;
  in.input_dim = 6;
  in.width = 8;
  in.depth = 2;
  in.output_dim = 2;
  in.strategy = phantom::Strategy::tp;
  in.ranks = 2;
  in.batch = 20;
  in.optimizer = "sgd";
  CostInput half = in;
  half.batch = 10;
  in.data_parallel = 2;
  const auto costs = network_costs(in), one = network_costs(half);
  EXPECT_EQ(costs.flops, one.flops);
  EXPECT_EQ(costs.parameters_rank, one.parameters_rank);
  const double N = costs.parameters_rank;
  EXPECT_DOUBLE_EQ(costs.data_parallel_bytes, 2.0 * 1 * (N * 4) / 2);
  EXPECT_DOUBLE_EQ(costs.bytes, one.bytes + costs.data_parallel_bytes);
  const auto p = round_profile();
  const auto s = predict_step(costs, p), t = predict_step(one, p);
  // 4 ranks stay on the node: 2 (D-1) (1 us + N 4 / (2 x 1 GB/s))
  EXPECT_DOUBLE_EQ(s.data_parallel_s, 2 * (1e-6 + N * 4 / 2 / 1e9));
  EXPECT_DOUBLE_EQ(s.comm_s, t.comm_s + s.data_parallel_s);
  EXPECT_DOUBLE_EQ(s.energy_j, 4 * (10 * (s.gemm_s + s.memory_s) + 2 * s.comm_s));
  in.data_parallel = 3;  // 20 samples do not split into 3 shares
  EXPECT_THROW(network_costs(in), phantom::InvalidArgument);
}

TEST(StepTime, PhantomMovesFewerBytesThanTensorParallel) {
  CostInput in;
  in.input_dim = 64;
  in.width = 2048;
  in.depth = 4;
  in.output_dim = 16;
  in.ranks = 2;
  in.batch = 256;
  in.strategy = phantom::Strategy::pp;
  const auto pp = network_costs(in);
  in.strategy = phantom::Strategy::tp;
  const auto tp = network_costs(in);
  // SPEC: per hidden layer and sample pp moves 2 (p-1) k values, tp 2 (p-1) n / p.
  const double output = 2.0 * 1 * 16 / 2 * 256 * 4;
  EXPECT_DOUBLE_EQ(pp.bytes, 4 * 2.0 * 16 * 256 * 4 + output);
  EXPECT_DOUBLE_EQ(tp.bytes, 4 * 2.0 * 1024 * 256 * 4 + output);
}

}  // namespace
