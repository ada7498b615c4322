// Activation compression under MPI (1-4 ranks): the compressed collectives
// against exact sums and their error bounds, TopK at K = 100% equal to the
// uncompressed tp and megatron networks, the communicator's byte counters
// against the layers' figures and closed forms, the autoencoder's gradients
// by finite differences through a megatron network, replicated values staying
// identical on every rank, and configuration errors; on every execution space.
#include <gtest/gtest.h>

#include <cmath>

#include "network_fixture.hpp"
#include "phantom/compress/compressed_collectives.hpp"

namespace {

using namespace phantom_test;
using phantom::CompressionMethod;
using phantom::Strategy;

int world_size() {
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

// Rank s's message: the same values on every rank that generates it.
template <class Space>
M<Space> message(const Space& space, std::size_t rows, std::size_t cols, int s,
                 std::uint64_t salt) {
  M<Space> m("message", rows, cols);
  phantom::fill_uniform(space, m, 1000 + salt, std::uint64_t(s), 2.0);
  return m;
}

template <class View>
HostMatrix host(const View& m) {
  phantom::Matrix<double, typename View::execution_space> c("copy", m.extent(0), m.extent(1));
  Kokkos::deep_copy(c, m);
  return to_host(phantom::flatten(c), m.extent(0), m.extent(1));
}

// The int8 error bound of each column of a message: max |column| / (2 127).
std::vector<double> int8_bounds(const HostMatrix& x) {
  std::vector<double> b(x.cols, 0.0);
  for (std::size_t j = 0; j < x.cols; ++j)
    for (std::size_t i = 0; i < x.rows; ++i) b[j] = std::max(b[j], std::abs(x(i, j)) / 254.0);
  return b;
}

phantom::CompressionConfig compression(CompressionMethod m) {
  phantom::CompressionConfig c;
  c.method = m;
  return c;
}

template <class Space>
class CompressedCollectives : public ::testing::Test {};
TYPED_TEST_SUITE(CompressedCollectives, ExecutionSpaces, SpaceName);

TYPED_TEST(CompressedCollectives, AllGatherKeepsOwnBlockAndBoundsOthers) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size(), r = comm->rank();
  const std::size_t rows = 5, c = 3;
  phantom::CompressedAllGather<double, Space> gather(compression(CompressionMethod::int8), true,
                                                     "test.gather", space);
  M<Space> gathered("gathered", rows, p * c);
  comm->reset_stats();
  gather.start(*comm, message(space, rows, c, r, 1), gathered);
  gather.finish();
  EXPECT_EQ(comm->stats().total_bytes(), double((p - 1) * c * (rows + 8)));
  EXPECT_EQ(comm->stats()[phantom::Collective::allgather].calls, p > 1 ? 1u : 0u);
  const HostMatrix g = host(gathered);
  bool differs = false;
  for (int s = 0; s < p; ++s) {
    const HostMatrix x = host(message(space, rows, c, s, 1));
    const auto bound = int8_bounds(x);
    for (std::size_t j = 0; j < c; ++j)
      for (std::size_t i = 0; i < rows; ++i) {
        const double got = g(i, s * c + j);
        if (s == r) {
          EXPECT_EQ(got, x(i, j));
        }
        EXPECT_LE(std::abs(got - x(i, j)), bound[j] * (1 + 1e-12)) << "block " << s;
        differs |= got != x(i, j);
      }
  }
  EXPECT_EQ(differs, p > 1);
}

TYPED_TEST(CompressedCollectives, ReduceScatterSumsWithinBound) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size(), r = comm->rank();
  const std::size_t rows = 4, c = 3;
  phantom::CompressedReduceScatter<double, Space> scatter(compression(CompressionMethod::int8),
                                                          "test.scatter", space);
  M<Space> out("out", rows, c);
  comm->reset_stats();
  scatter.run(*comm, message(space, rows, p * c, r, 2), out);
  EXPECT_EQ(comm->stats().total_bytes(), double((p - 1) * c * (rows + 8)));
  EXPECT_EQ(comm->stats()[phantom::Collective::alltoall].calls, p > 1 ? 1u : 0u);
  HostMatrix exact(rows, c);
  std::vector<double> bound(c, 0.0);
  for (int s = 0; s < p; ++s) {
    const HostMatrix block =
        host(phantom::columns(message(space, rows, p * c, s, 2), r * c, (r + 1) * c));
    const auto b = int8_bounds(block);
    for (std::size_t j = 0; j < c; ++j) {
      if (s != r) bound[j] += b[j];
      for (std::size_t i = 0; i < rows; ++i) exact(i, j) += block(i, j);
    }
  }
  const HostMatrix got = host(out);
  for (std::size_t j = 0; j < c; ++j)
    for (std::size_t i = 0; i < rows; ++i)
      EXPECT_LE(std::abs(got(i, j) - exact(i, j)), bound[j] * (1 + 1e-12) + 1e-14);
}

// Every rank ends with the same matrix (its own block decoded too), close to the sum.
TYPED_TEST(CompressedCollectives, AllReduceIsReplicatedAndClose) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size(), r = comm->rank();
  const std::size_t rows = 4, n = 12;
  for (auto method : {CompressionMethod::int8, CompressionMethod::bf16, CompressionMethod::topk}) {
    auto cfg = compression(method);
    cfg.topk_fraction = 0.5;
    phantom::CompressedAllReduce<double, Space> allreduce(cfg, "test.allreduce", space);
    M<Space> out("out", rows, n);
    comm->reset_stats();
    allreduce.run(*comm, message(space, rows, n, r, 3), out);
    EXPECT_EQ(comm->stats().total_bytes(),
              2.0 * (p - 1) * phantom::compressed_bytes(cfg, rows, n / p, sizeof(double)));
    const HostMatrix got = host(out);
    for (const auto& other : allgather(got))
      EXPECT_EQ(other.a, got.a) << phantom::to_string(method);
    if (method == CompressionMethod::topk) continue;  // TopK is not close, only sparse
    HostMatrix exact(rows, n);
    for (int s = 0; s < p; ++s) {
      const HostMatrix x = host(message(space, rows, n, s, 3));
      for (std::size_t i = 0; i < exact.a.size(); ++i) exact.a[i] += x.a[i];
    }
    EXPECT_LE(relative_difference(got, exact), 0.05) << phantom::to_string(method);
    if (p == 1) {
      EXPECT_EQ(got.a, exact.a);
    }
  }
}

// --- networks -------------------------------------------------------------------

phantom::NetworkConfig compressed(Strategy s, const phantom::CompressionConfig& c,
                                  std::size_t depth = 4) {
  auto cfg = config(s, depth, phantom::Activation::tanh);
  cfg.compression = c;
  return cfg;
}

struct Result {
  HostMatrix y;
  std::vector<std::pair<std::string, HostMatrix>> grads;
};

template <class Space>
Result run(const Space& space, phantom::Communicator& comm, const phantom::NetworkConfig& cfg,
           int steps = 1) {
  phantom::DistributedFFN<double, Space> net(comm, cfg, space);
  net.initialize(5);
  phantom::OptimizerConfig oc;
  oc.learning_rate = 0.05;
  phantom::Optimizer<double, Space> opt(oc, space);
  for (int t = 0; t + 1 < steps; ++t) {
    const Batch<Space> b(space, 40 + t);
    net.train_step(b.x, b.t, phantom::Loss::mse, opt);
  }
  const Batch<Space> batch(space, 6);
  Result r;
  r.y = to_host(phantom::flatten(net.forward(batch.x)), kBatch, 3);
  forward_backward(space, net, batch);
  for (const auto& prm : net.parameters()) r.grads.emplace_back(prm.name, grad_of(prm));
  return r;
}

template <class Space>
class CompressedNetworks : public ::testing::Test {};
TYPED_TEST_SUITE(CompressedNetworks, ExecutionSpaces, SpaceName);

// TopK keeping every value sends the messages whole: the same network as
// without compression (sums may add in another order: 1e-12).
TYPED_TEST(CompressedNetworks, TopKFullFractionEqualsUncompressed) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  for (auto s : {Strategy::tp, Strategy::megatron})
    for (bool feedback : {false, true}) {
      auto c = compression(CompressionMethod::topk);
      c.topk_fraction = 1.0;
      c.error_feedback = feedback;
      const Result a = run(space, *comm, compressed(s, c), 3);
      const Result b = run(space, *comm, compressed(s, compression(CompressionMethod::none)), 3);
      EXPECT_LE(relative_difference(a.y, b.y), 1e-12) << phantom::to_string(s);
      ASSERT_EQ(a.grads.size(), b.grads.size());
      for (std::size_t i = 0; i < a.grads.size(); ++i)
        EXPECT_LE(relative_difference(a.grads[i].second, b.grads[i].second), 1e-12)
            << phantom::to_string(s) << " " << a.grads[i].first;
    }
}

// Lossy compressors change the network's output, but only a little.
TYPED_TEST(CompressedNetworks, QuantizedNetworksStayClose) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  for (auto s : {Strategy::tp, Strategy::megatron})
    for (auto m : {CompressionMethod::int8, CompressionMethod::fp16, CompressionMethod::bf16}) {
      const Result a = run(space, *comm, compressed(s, compression(m)));
      const Result b = run(space, *comm, compressed(s, compression(CompressionMethod::none)));
      const double d = relative_difference(a.y, b.y);
      EXPECT_LE(d, 0.02) << phantom::to_string(s) << " " << phantom::to_string(m);
      if (p > 1)
        EXPECT_GT(d, 0.0) << phantom::to_string(s) << " " << phantom::to_string(m);
      else
        EXPECT_EQ(d, 0.0);  // one rank: no messages, nothing compressed
    }
}

// One message's size, written out independently of compressed_bytes().
double message_bytes(const phantom::CompressionConfig& c, bool on, std::size_t rows,
                     std::size_t cols, std::size_t s) {
  if (!on) return double(rows * cols * s);
  switch (c.method) {
    case CompressionMethod::int8: return double(cols * (rows + s));
    case CompressionMethod::int4: return double(cols * ((rows + 1) / 2 + s));
    case CompressionMethod::int2: return double(cols * ((rows + 3) / 4 + s));
    case CompressionMethod::fp16:
    case CompressionMethod::bf16: return double(2 * rows * cols);
    case CompressionMethod::topk: {
      const double k = std::max(1.0, std::floor(c.topk_fraction * rows * cols + 0.5));
      return k * double(s + 4);
    }
    default: return double(rows * cols * s);
  }
}

// Bytes one rank receives in a training step, from the formulas of docs/compression.md.
double expected_step_bytes(const phantom::NetworkConfig& cfg, int p, std::size_t B, std::size_t s) {
  const auto& c = cfg.compression;
  const std::size_t n = cfg.shape.width, m = n / p;
  double total = 2.0 * (p - 1) * double(cfg.shape.output_dim * B * s) / p;  // output layer
  for (std::size_t l = 1; l <= cfg.shape.depth; ++l) {
    if (cfg.strategy == Strategy::tp) {
      total += (p - 1) * message_bytes(c, c.applies(l, true), B, m, s);
      total += (p - 1) * message_bytes(c, c.applies(l, false), B, m, s);
      continue;
    }
    const bool forward = l % 2 == 1;  // megatron: odd layers all-reduce forward, even backward
    const bool on = c.applies(l, forward);
    if (!on)
      total += 2.0 * (p - 1) * double(B * n * s) / p;
    else if (c.method == CompressionMethod::ae)
      total += 2.0 * (p - 1) * double(B * c.ae_dim * s) / p;
    else
      total += 2.0 * (p - 1) * message_bytes(c, true, B, n / p, s);
  }
  return total;
}

template <class Scalar, class Space>
void check_counters(const Space& space, phantom::Communicator& comm,
                    const phantom::NetworkConfig& cfg, const std::string& what) {
  phantom::DistributedFFN<Scalar, Space> net(comm, cfg, space);
  net.initialize(3);
  phantom::OptimizerConfig oc;
  phantom::Optimizer<Scalar, Space> opt(oc, space);
  phantom::Matrix<Scalar, Space> x("x", kBatch, 5), t("t", kBatch, 3);
  phantom::fill_uniform(space, x, 9, 1, 1.0);
  phantom::fill_uniform(space, t, 9, 2, 1.0);
  for (int step = 0; step < 2; ++step) {  // the second step too (error feedback state)
    comm.reset_stats();
    net.train_step(x, t, phantom::Loss::mse, opt);
    const double counted = comm.stats().total_bytes();
    EXPECT_DOUBLE_EQ(counted, net.bytes_per_step(kBatch)) << what;
    EXPECT_DOUBLE_EQ(counted, expected_step_bytes(cfg, comm.size(), kBatch, sizeof(Scalar)))
        << what;
  }
}

TYPED_TEST(CompressedNetworks, ByteCountersEqualCompressedSizes) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  using CM = phantom::CompressedMessages;
  for (auto s : {Strategy::tp, Strategy::megatron})
    for (auto m : {CompressionMethod::none, CompressionMethod::int8, CompressionMethod::int4,
                   CompressionMethod::int2, CompressionMethod::fp16, CompressionMethod::bf16,
                   CompressionMethod::topk, CompressionMethod::ae})
      for (auto which : {CM::both, CM::forward, CM::backward})
        for (std::size_t first : {1, 2}) {
          if (m == CompressionMethod::ae && (s != Strategy::megatron || which != CM::forward))
            continue;
          auto c = compression(m);
          c.messages = which;
          c.first_layer = first;
          c.topk_fraction = 0.3;
          c.error_feedback = m == CompressionMethod::topk;
          c.ae_dim = 5;
          const auto cfg = compressed(s, c);
          const std::string what = std::string(phantom::to_string(s)) + " " +
                                   phantom::to_string(m) + " " + phantom::to_string(which) +
                                   " from layer " + std::to_string(first);
          check_counters<float>(space, *comm, cfg, what + " float");
          check_counters<double>(space, *comm, cfg, what + " double");
        }
}

// After training, every value that megatron replicates (row-parallel biases,
// autoencoder decoders) is still bitwise the same on every rank.
TYPED_TEST(CompressedNetworks, ReplicatedParametersStayIdentical) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  for (auto m : {CompressionMethod::int4, CompressionMethod::topk, CompressionMethod::ae}) {
    auto c = compression(m);
    c.topk_fraction = 0.25;
    c.error_feedback = m == CompressionMethod::topk;
    c.ae_dim = 4;
    if (m == CompressionMethod::ae) c.messages = phantom::CompressedMessages::forward;
    phantom::DistributedFFN<double, Space> net(*comm, compressed(Strategy::megatron, c), space);
    net.initialize(2);
    phantom::OptimizerConfig oc;
    oc.kind = phantom::OptimizerKind::adam;
    phantom::Optimizer<double, Space> opt(oc, space);
    for (int t = 0; t < 5; ++t) {
      const Batch<Space> b(space, 70 + t);
      net.train_step(b.x, b.t, phantom::Loss::mse, opt);
    }
    std::size_t replicated = 0;
    for (const auto& prm : net.parameters()) {
      if (!prm.placement.replicated) continue;
      ++replicated;
      const HostMatrix v = value_of(prm);
      for (const auto& other : allgather(v)) EXPECT_EQ(other.a, v.a) << prm.name;
    }
    EXPECT_EQ(replicated,
              m == CompressionMethod::ae ? 5u : 3u);  // 2 hidden + output (+ 2 decoders)
  }
}

// Gradients of a megatron network with autoencoders, by central differences
// in double: the encoders (one per rank), the decoders (replicated) and the
// weights before them, which the gradient reaches through the autoencoder.
TYPED_TEST(CompressedNetworks, AutoencoderGradientsMatchFiniteDifferences) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size(), r = comm->rank();
  auto c = compression(CompressionMethod::ae);
  c.ae_dim = 3;
  c.messages = phantom::CompressedMessages::forward;
  phantom::DistributedFFN<double, Space> net(*comm, compressed(Strategy::megatron, c, 2), space);
  net.initialize(12);
  const Batch<Space> batch(space, 13);
  M<Space> dy("dy", kBatch, 3);
  auto loss = [&] {
    return phantom::loss_and_gradient(space, phantom::Loss::mse, net.forward(batch.x), batch.t, dy);
  };
  forward_backward(space, net, batch);
  const auto params = net.parameters();
  std::vector<HostMatrix> grads;
  for (const auto& prm : params) grads.push_back(grad_of(prm));
  const double h = 1e-6;
  std::size_t checked = 0;
  for (const std::string name :
       {"layer_001.ae_encoder", "layer_001.ae_decoder", "layer_001.weight", "layer_000.weight"}) {
    std::size_t at = params.size();
    for (std::size_t i = 0; i < params.size(); ++i)
      if (params[i].name == name) at = i;
    ASSERT_LT(at, params.size()) << name;
    const auto& prm = params[at];
    const bool replicated = prm.placement.replicated;
    // Sharded tensors: one rank at a time perturbs its own block.
    for (int owner = 0; owner < (replicated ? 1 : p); ++owner)
      for (std::size_t k = 0; k < prm.value.extent(0); k += 5) {
        const bool mine = replicated || owner == r;
        HostMatrix v = value_of(prm);
        const double keep = v.a[k];
        auto set = [&](double value) {
          if (!mine) return;
          v.a[k] = value;
          from_host(v, prm.value);
        };
        set(keep + h);
        const double up = loss();
        set(keep - h);
        const double down = loss();
        set(keep);
        if (!mine) continue;
        const double fd = (up - down) / (2 * h), g = grads[at].a[k];
        EXPECT_NEAR(g, fd, 1e-7 * std::max(1.0, std::abs(fd))) << name << " [" << k << "]";
        ++checked;
      }
  }
  EXPECT_GT(checked, 10u);
}

TYPED_TEST(CompressedNetworks, ClearConfigurationErrors) {
  const TypeParam space;
  const int p = world_size();
  auto error = [&](Strategy s, const phantom::CompressionConfig& c, std::size_t depth = 4) {
    try {
      phantom::validate(compressed(s, c, depth), p);
    } catch (const phantom::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(Strategy::pp, compression(CompressionMethod::int8)),
            "compression method 'int8' applies to strategies 'tp' and 'megatron' only, not 'pp'");
  if (p == 1) {
    EXPECT_EQ(error(Strategy::dense, compression(CompressionMethod::fp16)),
              "compression method 'fp16' applies to strategies 'tp' and 'megatron' only, not "
              "'dense'");
  }
  auto ae = compression(CompressionMethod::ae);
  ae.messages = phantom::CompressedMessages::forward;
  EXPECT_EQ(error(Strategy::tp, ae).find("compression method 'ae' needs strategy 'megatron'"), 0u);
  ae.ae_dim = 12;
  EXPECT_EQ(error(Strategy::megatron, ae), "no error");
  ae.ae_dim = 13;
  EXPECT_EQ(error(Strategy::megatron, ae),
            "compression: ae_dim must be in [1, width = 12], got 13");
  auto topk = compression(CompressionMethod::topk);
  topk.topk_fraction = 1.01;
  EXPECT_EQ(error(Strategy::tp, topk),
            "compression: topk_fraction must be in (0, 1], got 1.010000");
  auto late = compression(CompressionMethod::int2);
  late.first_layer = 5;
  EXPECT_EQ(error(Strategy::tp, late),
            "compression first_layer 5 is past the last hidden layer (depth 4): nothing would be "
            "compressed");
  // The layers themselves refuse what they cannot do.
  auto comm = phantom::make_world_communicator();
  EXPECT_THROW((phantom::TensorParallelLayer<double, TypeParam>(
                   *comm, 12, phantom::Activation::relu, 1, ae, space)),
               phantom::InvalidArgument);
}

}  // namespace
