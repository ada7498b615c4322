// Finite-difference checks of the PP layer's gradients for W, b, C, D and x
// at any rank count. The scalar checked is L = sum over ranks of
// sum(w_r .* y_r), so dL/dy_r = w_r; a perturbation on one rank changes every
// rank's output through the ghost exchange, and all ranks recompute L. On
// every execution space.
#include <gtest/gtest.h>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

double global_sum(double local) {
  double total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

template <class Space>
class PhantomGradients : public ::testing::Test {};
TYPED_TEST_SUITE(PhantomGradients, ExecutionSpaces, SpaceName);

TYPED_TEST(PhantomGradients, FiniteDifferences) {
  using Space = TypeParam;
  const Space space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size(), r = comm->rank();
  const std::size_t width = 12, k = 3, m = width / p, batch = 3;
  phantom::PhantomLayer<double, Space> layer(*comm, width, k, phantom::Activation::tanh, 1, space);
  layer.initialize(4);
  M<Space> x("x", batch, m), w("w", batch, m);
  phantom::fill_uniform(space, x, 50 + r, 0, 1.0);
  phantom::fill_uniform(space, w, 60 + r, 0, 1.0);
  const HostMatrix wh = to_host(phantom::flatten(w), batch, m);

  auto loss = [&] {
    const HostMatrix y = to_host(phantom::flatten(layer.forward(x)), batch, m);
    double s = 0;
    for (std::size_t i = 0; i < y.a.size(); ++i) s += y.a[i] * wh.a[i];
    return global_sum(s);
  };
  loss();
  const HostMatrix dx = to_host(phantom::flatten(layer.backward(w)), batch, m);

  // Tensors to check: the four parameters and the input.
  struct Checked {
    std::string name;
    typename phantom::Parameter<double, Space>::Flat value;
    HostMatrix grad;
  };
  std::vector<Checked> checked;
  for (const auto& prm : layer.parameters()) checked.push_back({prm.name, prm.value, grad_of(prm)});
  checked.push_back({"x", phantom::flatten(x), dx});

  const double h = 1e-6;
  for (auto& c : checked) {
    const std::size_t n = c.grad.a.size();  // the same on every rank
    for (int owner = 0; owner < p; ++owner) {
      for (std::size_t i = 0; i < n; i += 2) {
        const double x0 = to_host(c.value, n, 1).a[i];
        auto set = [&](double v) {
          if (r != owner) return;
          HostMatrix cur = to_host(c.value, n, 1);
          cur.a[i] = v;
          from_host(cur, c.value);
        };
        set(x0 + h);
        const double lp = loss();
        set(x0 - h);
        const double lm = loss();
        set(x0);
        if (r == owner) {
          const double fd = (lp - lm) / (2 * h);
          const double scale = std::max({std::abs(fd), std::abs(c.grad.a[i]), 1e-6});
          EXPECT_LE(std::abs(fd - c.grad.a[i]) / scale, 1e-6)
              << c.name << "[" << i << "] on rank " << r << ": fd " << fd << " analytic "
              << c.grad.a[i];
        }
      }
    }
  }
}

}  // namespace
