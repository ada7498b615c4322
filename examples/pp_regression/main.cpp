// A user's own training loop around Phantom's phantom-parallel layers: its own
// data (y = sin(2 x0) cos(x1) + x2 x3 on random points), its own layer stack
// (a column-parallel input layer, two phantom layers, a row-parallel output
// layer), Phantom's loss and Adam. Exits 0 when the loss fell at least 4x.
//
//   mpiexec -n 2 pp_regression
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <phantom/layers/column_parallel_layer.hpp>
#include <phantom/layers/phantom_layer.hpp>
#include <phantom/layers/row_parallel_layer.hpp>
#include <phantom/phantom.hpp>
#include <random>
#include <vector>

namespace {

using Space = phantom::DefaultSpace;
using M = phantom::Matrix<float, Space>;

// The user's data, made on the host and copied to the device (same seed on every rank).
void make_batch(std::mt19937& rng, const M& x, const M& y) {
  std::uniform_real_distribution<float> u(-1, 1);
  auto xh = Kokkos::create_mirror_view(x);
  auto yh = Kokkos::create_mirror_view(y);
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    for (std::size_t j = 0; j < x.extent(1); ++j) xh(i, j) = u(rng);
    yh(i, 0) = std::sin(2 * xh(i, 0)) * std::cos(xh(i, 1)) + xh(i, 2) * xh(i, 3);
  }
  Kokkos::deep_copy(x, xh);
  Kokkos::deep_copy(y, yh);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 1;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    auto comm = phantom::make_world_communicator();
    const std::size_t inputs = 4, width = 64, ghosts = 4, batch = 64;

    // Layer l draws its weights from (seed, l): any layer order the user likes.
    std::vector<std::unique_ptr<phantom::DistributedLayer<float, Space>>> layers;
    layers.push_back(std::make_unique<phantom::ColumnParallelLayer<float, Space>>(
        *comm, inputs, width, phantom::Activation::tanh, 0, false, "example::input"));
    for (std::size_t l = 1; l <= 2; ++l)
      layers.push_back(std::make_unique<phantom::PhantomLayer<float, Space>>(
          *comm, width, ghosts, phantom::Activation::tanh, l));
    layers.push_back(std::make_unique<phantom::RowParallelLayer<float, Space>>(
        *comm, width, 1, phantom::Activation::identity, 3, "example::output"));
    phantom::ParameterList<float, Space> params;
    for (auto& layer : layers) {
      layer->initialize(7);
      for (auto& p : layer->parameters()) params.push_back(p);
    }
    phantom::OptimizerConfig oc;
    oc.kind = phantom::OptimizerKind::adam;
    oc.learning_rate = 3e-3;
    phantom::Optimizer<float, Space> adam(oc);

    std::mt19937 rng(2024);
    M x("x", batch, inputs), y("y", batch, 1), dy("dy", batch, 1);
    double first = 0, last = 0;
    for (int step = 0; step < 600; ++step) {
      make_batch(rng, x, y);
      M h = x;
      for (auto& layer : layers) h = layer->forward(h);
      last = phantom::loss_and_gradient(Space(), phantom::Loss::mse, h, y, dy);
      M g = dy;
      for (std::size_t l = layers.size(); l-- > 0;) g = layers[l]->backward(g);
      adam.step(params);
      if (step == 0) first = last;
      if (comm->rank() == 0 && step % 100 == 0) std::printf("step %3d  loss %.5f\n", step, last);
    }
    if (comm->rank() == 0)
      std::printf("pp_regression on %d ranks: loss %.5f -> %.5f, %.3g bytes moved per rank\n",
                  comm->size(), first, last, comm->stats().total_bytes());
    status = last < first / 4 ? 0 : 1;
  }
  MPI_Finalize();
  return status;
}
