// A PP network equals the dense network whose hidden weights have block
// (r, r) = W_r and block (r, s) = D_{r,s} C_s (SPEC.md): outputs, loss and
// every gradient, at any rank count, in double, on every execution space.
#include <gtest/gtest.h>

#include <map>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

template <class Space>
class PhantomEquivalence : public ::testing::Test {};
TYPED_TEST_SUITE(PhantomEquivalence, ExecutionSpaces, SpaceName);

TYPED_TEST(PhantomEquivalence, MatchesDenseNetworkBuiltFromItsBlocks) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const std::size_t p = comm->size(), r = comm->rank();
  const auto cfg = config(phantom::Strategy::pp);
  const std::size_t n = cfg.shape.width, m = n / p, k = cfg.ghost;

  phantom::DistributedFFN<double, Space> pp(*comm, cfg, space);
  pp.initialize(3);
  phantom::SequentialFFN<double, Space> dense(cfg.shape, cfg.activation, space);

  // Gather every rank's parameters and build the dense network from them.
  const auto params = pp.parameters();
  std::map<std::string, std::vector<HostMatrix>> all;  // name -> per rank
  for (const auto& prm : params) all[prm.name] = allgather(value_of(prm));
  const auto dense_params = dense.parameters();
  auto dense_param = [&](std::size_t layer, const std::string& field) {
    const std::string name = phantom::layer_name(layer) + "." + field;
    const auto* dp = find_parameter(dense_params, name);
    if (!dp) throw std::runtime_error("no dense parameter " + name);
    return *dp;
  };
  const std::size_t last = cfg.shape.depth + 1;
  for (std::size_t l = 0; l <= last; ++l) {
    const std::string L = phantom::layer_name(l);
    auto w = dense_param(l, "weight");
    auto b = dense_param(l, "bias");
    HostMatrix W(w.rows, w.cols), B(b.rows, 1);
    for (std::size_t s = 0; s < p; ++s) {
      if (l == 0) {
        set_block(W, s * m, 0, all[L + ".weight"][s]);
        set_block(B, s * m, 0, all[L + ".bias"][s]);
      } else if (l == last) {
        set_block(W, 0, s * m, all[L + ".weight"][s]);
        B = all[L + ".bias"][0];
      } else {
        set_block(B, s * m, 0, all[L + ".bias"][s]);
        for (std::size_t t = 0; t < p; ++t) {
          if (s == t) {
            set_block(W, s * m, s * m, all[L + ".local"][s]);
          } else {
            const std::size_t j = t < s ? t : t - 1;
            const HostMatrix D = block(all[L + ".decompress"][s], 0, j * k, m, k);
            set_block(W, s * m, t * m, multiply(D, false, all[L + ".ghost"][t], false));
          }
        }
      }
    }
    from_host(W, w.value);
    from_host(B, b.value);
  }

  const Batch<Space> batch(space, 9);
  const HostMatrix y_pp = to_host(phantom::flatten(pp.forward(batch.x)), kBatch, 3);
  const HostMatrix y_dense = to_host(phantom::flatten(dense.forward(batch.x)), kBatch, 3);
  EXPECT_LE(relative_difference(y_pp, y_dense), 1e-12);
  const double loss_pp = forward_backward(space, pp, batch);
  const double loss_dense = forward_backward(space, dense, batch);
  EXPECT_LE(std::abs(loss_pp - loss_dense) / std::abs(loss_dense), 1e-12);

  // Every gradient this rank holds, against the dense gradient's blocks.
  for (const auto& prm : params) {
    const std::size_t l = layer_of(prm.name);
    const std::string field = field_of(prm.name), L = phantom::layer_name(l);
    const HostMatrix g = grad_of(prm);
    HostMatrix expected;
    if (field == "bias") {
      const HostMatrix db = grad_of(dense_param(l, "bias"));
      expected = l == last ? db : block(db, r * m, 0, m, 1);
    } else {
      const HostMatrix dW = grad_of(dense_param(l, "weight"));
      if (l == 0) {
        expected = block(dW, r * m, 0, m, dW.cols);
      } else if (l == last) {
        expected = block(dW, 0, r * m, dW.rows, m);
      } else if (field == "local") {
        expected = block(dW, r * m, r * m, m, m);
      } else if (field == "decompress") {  // dD_{r,s} = dW_{r,s} C_s^T
        expected = HostMatrix(m, (p - 1) * k);
        for (std::size_t s = 0, j = 0; s < p; ++s)
          if (s != r)
            set_block(expected, 0, k * j++,
                      multiply(block(dW, r * m, s * m, m, m), false, all[L + ".ghost"][s], true));
      } else if (field == "ghost") {  // dC_r = sum_{s != r} D_{s,r}^T dW_{s,r}
        expected = HostMatrix(k, m);
        for (std::size_t s = 0; s < p; ++s) {
          if (s == r) continue;
          const std::size_t j = r < s ? r : r - 1;
          const HostMatrix D = block(all[L + ".decompress"][s], 0, j * k, m, k);
          const HostMatrix c = multiply(D, true, block(dW, s * m, r * m, m, m), false);
          for (std::size_t i = 0; i < c.a.size(); ++i) expected.a[i] += c.a[i];
        }
      }
    }
    if (p == 1 && field == "ghost") {  // no other rank reads the ghosts: zero gradient
      for (double v : g.a) EXPECT_EQ(v, 0.0);
      continue;
    }
    EXPECT_LE(relative_difference(g, expected), 1e-12) << prm.name << " on rank " << r;
  }
}

}  // namespace
