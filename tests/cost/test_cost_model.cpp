// The cost model against the running code: for every strategy at this rank
// count, network_costs() must give exactly the parameters, GEMM FLOPs and
// communicated bytes the network reports and the communicator counts over a
// training step, the sizes of the parameters and of the optimizer state, and
// the bytes of the batch-sized buffers a step allocates (seen through Kokkos'
// allocation callbacks; not used for the parameters because Kokkos records a
// zero-extent view, such as pp's decompression block at p = 1, as 128 bytes).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

#include "phantom/comm/communicator.hpp"
#include "phantom/cost/network_costs.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace {

using Space = phantom::DefaultSpace;
using M = phantom::Matrix<double, Space>;

// Live Kokkos allocations by pointer: label and size.
std::map<const void*, std::pair<std::string, std::uint64_t>> g_live;

void on_allocate(Kokkos::Profiling::SpaceHandle, const char* label, const void* ptr,
                 std::uint64_t size) {
  g_live[ptr] = {label, size};
}
void on_deallocate(Kokkos::Profiling::SpaceHandle, const char*, const void* ptr, std::uint64_t) {
  g_live.erase(ptr);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Bytes of live allocations whose label starts with "layer_", the optimizer
// state (".m", ".v") apart.
struct LiveBytes {
  double layers = 0, optimizer = 0;
};
LiveBytes live_layer_bytes() {
  LiveBytes b;
  for (const auto& [ptr, entry] : g_live) {
    const auto& [label, size] = entry;
    if (label.rfind("layer_", 0) != 0) continue;
    (ends_with(label, ".m") || ends_with(label, ".v") ? b.optimizer : b.layers) += double(size);
  }
  return b;
}

struct Case {
  phantom::Strategy strategy;
  std::size_t input_dim, width, depth, output_dim, ghost, batch;
  const char* activation;
  phantom::OptimizerKind optimizer;
  phantom::CompressionConfig compression = {};
};

class CostModel : public ::testing::TestWithParam<Case> {};

TEST_P(CostModel, EqualsWhatTheNetworkCounts) {
  const Case c = GetParam();
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  if (c.strategy == phantom::Strategy::dense && p != 1) GTEST_SKIP() << "dense runs on 1 rank";

  phantom::cost::CostInput in;
  in.input_dim = c.input_dim;
  in.width = c.width;
  in.depth = c.depth;
  in.output_dim = c.output_dim;
  in.strategy = c.strategy;
  in.ghost = c.ghost;
  in.ranks = p;
  in.batch = c.batch;
  in.scalar_bytes = sizeof(double);
  in.optimizer = phantom::to_string(c.optimizer);
  in.activation = c.activation;
  in.compression = c.compression;
  const auto costs = phantom::cost::network_costs(in);

  Kokkos::Tools::Experimental::set_allocate_data_callback(on_allocate);
  Kokkos::Tools::Experimental::set_deallocate_data_callback(on_deallocate);
  g_live.clear();
  {
    phantom::NetworkConfig cfg;
    cfg.shape = {c.input_dim, c.width, c.depth, c.output_dim};
    cfg.strategy = c.strategy;
    cfg.ghost = c.ghost;
    cfg.activation = phantom::parse_activation(c.activation);
    cfg.compression = c.compression;
    phantom::DistributedFFN<double, Space> net(*comm, cfg);
    net.initialize(7);
    const LiveBytes before = live_layer_bytes();  // weights and gradients only

    std::size_t rank_parameters = 0;
    for (const auto& param : net.parameters()) rank_parameters += param.value.extent(0);
    EXPECT_EQ(double(net.global_parameter_count()), costs.parameters_global);
    EXPECT_EQ(double(rank_parameters), costs.parameters_rank);
    EXPECT_EQ(net.flops_per_sample() * double(c.batch), costs.flops);
    ASSERT_EQ(net.layers().size(), costs.layers.size());
    for (std::size_t l = 0; l < costs.layers.size(); ++l) {
      const auto& layer = *net.layers()[l];
      EXPECT_EQ(layer.name(), costs.layers[l].name);
      EXPECT_EQ(layer.forward_flops_per_sample() * double(c.batch), costs.layers[l].forward_flops())
          << layer.name();
      EXPECT_EQ(layer.backward_flops_per_sample() * double(c.batch),
                costs.layers[l].backward_flops())
          << layer.name();
    }
    EXPECT_EQ(double(rank_parameters * sizeof(double)), costs.weight_bytes);

    M x("x", c.batch, c.input_dim), t("t", c.batch, c.output_dim);
    phantom::fill_uniform(Space(), x, 3, 77, 1.0);
    phantom::fill_uniform(Space(), t, 3, 78, 1.0);
    phantom::OptimizerConfig oc;
    oc.kind = c.optimizer;
    oc.momentum = 0.9;
    phantom::Optimizer<double, Space> opt(oc);
    comm->reset_stats();
    net.train_step(x, t, phantom::Loss::mse, opt);
    EXPECT_EQ(comm->stats().total_bytes(), costs.bytes);

    double state_values = 0;
    for (const auto& v : opt.first_moments()) state_values += double(v.extent(0));
    for (const auto& v : opt.second_moments()) state_values += double(v.extent(0));
    EXPECT_EQ(state_values * sizeof(double), costs.optimizer_bytes);
    // What the step allocated besides the optimizer state: the batch-sized
    // buffers (compressed messages' byte buffers are not in the model).
    const LiveBytes after = live_layer_bytes();
    if (!c.compression.enabled()) {
      EXPECT_EQ(after.layers - before.layers, costs.activation_bytes);
    }
  }
  Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr);
  Kokkos::Tools::Experimental::set_deallocate_data_callback(nullptr);
}

using phantom::OptimizerKind;
using phantom::Strategy;

phantom::CompressionConfig compressed(
    phantom::CompressionMethod method,
    phantom::CompressedMessages messages = phantom::CompressedMessages::both,
    std::size_t first_layer = 1) {
  phantom::CompressionConfig z;
  z.method = method;
  z.messages = messages;
  z.first_layer = first_layer;
  z.topk_fraction = 0.3;
  z.ae_dim = 5;
  return z;
}
using phantom::CompressedMessages;
using phantom::CompressionMethod;
// Widths divisible by 1..4; odd batch and dimensions so no two figures agree by accident.
INSTANTIATE_TEST_SUITE_P(
    Strategies, CostModel,
    ::testing::Values(Case{Strategy::dense, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam},
                      Case{Strategy::pp, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam},
                      Case{Strategy::pp, 9, 24, 3, 4, 5, 3, "relu", OptimizerKind::sgd},
                      Case{Strategy::pp, 3, 12, 1, 2, 1, 5, "identity", OptimizerKind::adam},
                      Case{Strategy::tp, 5, 12, 2, 3, 2, 7, "gelu", OptimizerKind::adam},
                      Case{Strategy::tp, 9, 24, 3, 4, 2, 3, "identity", OptimizerKind::sgd},
                      Case{Strategy::megatron, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam},
                      Case{Strategy::megatron, 9, 24, 4, 4, 2, 3, "relu", OptimizerKind::sgd},
                      // compressed messages (docs/compression.md): bytes, FLOPs, parameters
                      Case{Strategy::tp, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam,
                           compressed(CompressionMethod::int8)},
                      Case{Strategy::tp, 5, 24, 3, 3, 2, 6, "relu", OptimizerKind::adam,
                           compressed(CompressionMethod::int4, CompressedMessages::forward, 2)},
                      Case{Strategy::tp, 5, 12, 2, 3, 2, 7, "relu", OptimizerKind::adam,
                           compressed(CompressionMethod::topk, CompressedMessages::backward)},
                      Case{Strategy::megatron, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam,
                           compressed(CompressionMethod::int2)},
                      Case{Strategy::megatron, 5, 24, 2, 3, 2, 8, "relu", OptimizerKind::sgd,
                           compressed(CompressionMethod::bf16)},
                      Case{Strategy::megatron, 5, 12, 2, 3, 2, 7, "tanh", OptimizerKind::adam,
                           compressed(CompressionMethod::ae, CompressedMessages::forward)}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(CostModel, RejectsWhatTheNetworkRejects) {
  phantom::cost::CostInput in;
  in.input_dim = 4;
  in.width = 10;
  in.depth = 2;
  in.output_dim = 2;
  in.ranks = 3;
  try {
    phantom::cost::network_costs(in);
    FAIL() << "width 10 on 3 ranks accepted";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "width 10 is not divisible by the rank count 3");
  }
  in.ranks = 2;
  in.strategy = phantom::Strategy::dense;
  EXPECT_THROW(phantom::cost::network_costs(in), phantom::InvalidArgument);
}

}  // namespace
