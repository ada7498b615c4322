// Parameter, FLOP and byte accounting: the layers' figures equal the formulas
// of docs/parallel-layers.md, and the communicator's byte counters over one
// training step equal the layers' figures; for every strategy, on every
// execution space.
#include <gtest/gtest.h>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

// The checks of one strategy on one execution space.
template <class Space>
void counters_equal_formulas(phantom::Strategy strategy) {
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  if (strategy == phantom::Strategy::dense && p != 1) GTEST_SKIP() << "dense runs on 1 rank";
  const auto cfg = config(strategy, 2);
  const std::size_t n = cfg.shape.width, d = cfg.shape.depth, in = cfg.shape.input_dim,
                    out = cfg.shape.output_dim, k = cfg.ghost, m = n / p, B = kBatch;
  const double s = sizeof(double);
  phantom::DistributedFFN<double, Space> net(*comm, cfg, space);
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
  phantom::Optimizer<double, Space> opt(oc, space);
  const Batch<Space> batch(space, 3);
  comm->reset_stats();
  net.train_step(batch.x, batch.t, phantom::Loss::mse, opt);
  EXPECT_DOUBLE_EQ(comm->stats().total_bytes(), expected_bytes);
}

// One test per strategy and execution space.
template <class Space>
class Accounting : public ::testing::Test {};
TYPED_TEST_SUITE(Accounting, ExecutionSpaces, SpaceName);

TYPED_TEST(Accounting, DenseCountersEqualFormulas) {
  counters_equal_formulas<TypeParam>(phantom::Strategy::dense);
}
TYPED_TEST(Accounting, PpCountersEqualFormulas) {
  counters_equal_formulas<TypeParam>(phantom::Strategy::pp);
}
TYPED_TEST(Accounting, TpCountersEqualFormulas) {
  counters_equal_formulas<TypeParam>(phantom::Strategy::tp);
}
TYPED_TEST(Accounting, MegatronCountersEqualFormulas) {
  counters_equal_formulas<TypeParam>(phantom::Strategy::megatron);
}

// Every parameter and its gradient lie in the network's two contiguous
// buffers, end to end in order, each layer's inside its range; the
// buffers hold the values a step reads and the gradients it writes.
template <class Space>
void parameters_are_contiguous(phantom::Strategy strategy, bool compressed) {
  const Space space;
  auto comm = phantom::make_world_communicator();
  if (strategy == phantom::Strategy::dense && comm->size() != 1) GTEST_SKIP();
  auto cfg = config(strategy, 2);
  if (compressed) {
    cfg.compression.method = phantom::CompressionMethod::ae;
    cfg.compression.ae_dim = 4;
    cfg.compression.messages = phantom::CompressedMessages::forward;
  }
  phantom::DistributedFFN<double, Space> net(*comm, cfg, space);
  net.initialize(1);
  const auto& storage = net.storage();
  const double* values = storage.values().data();
  const double* grads = storage.gradients().data();
  std::size_t end = 0, count = 0;
  for (const auto& p : net.parameters()) {
    const std::size_t at = std::size_t(p.value.data() - values);
    EXPECT_EQ(p.grad.data() - grads, std::ptrdiff_t(at)) << p.name;
    EXPECT_EQ(at, end) << p.name << " does not follow the tensor before it";
    end = at + p.value.size();
    EXPECT_LE(end, storage.size()) << p.name;
    const auto range = storage.layer_range(layer_of(p.name));
    EXPECT_TRUE(at >= range.first && end <= range.second) << p.name << " outside its layer";
    count += p.value.size();
  }
  EXPECT_EQ(storage.layer_count(), net.layers().size());
  EXPECT_EQ(storage.size(), count);

  // A backward pass's gradients land in the buffer: its norm is the parameters' one.
  const Batch<Space> batch(space, 3);
  M<Space> dy("dy", kBatch, 3);
  phantom::loss_and_gradient(space, phantom::Loss::mse, net.forward(batch.x), batch.t, dy);
  net.backward(dy);
  double by_parameter = 0, by_buffer = 0;
  for (const auto& p : net.parameters()) {
    auto g = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.grad);
    for (std::size_t i = 0; i < g.size(); ++i) by_parameter += g(i) * g(i);
  }
  auto all = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), storage.gradients());
  for (std::size_t i = 0; i < all.size(); ++i) by_buffer += all(i) * all(i);
  EXPECT_GT(by_buffer, 0);
  EXPECT_DOUBLE_EQ(by_buffer, by_parameter);
}

TYPED_TEST(Accounting, PpParametersAreContiguous) {
  parameters_are_contiguous<TypeParam>(phantom::Strategy::pp, false);
}
TYPED_TEST(Accounting, TpParametersAreContiguous) {
  parameters_are_contiguous<TypeParam>(phantom::Strategy::tp, false);
}
TYPED_TEST(Accounting, MegatronWithAutoencoderParametersAreContiguous) {
  parameters_are_contiguous<TypeParam>(phantom::Strategy::megatron, true);
}
TYPED_TEST(Accounting, DenseParametersAreContiguous) {
  parameters_are_contiguous<TypeParam>(phantom::Strategy::dense, false);
}

}  // namespace
