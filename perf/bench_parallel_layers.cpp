// Phantom vs tensor parallelism on this machine (a study driver, plain MPI):
//  1. forward + backward of one hidden layer, pp (k = 16) and tp, widths 2048
//     and 4096, batch 256, float: time per layer split into local compute,
//     communication issued and waiting, and the fraction of the communication
//     time that overlap hid (1 - exposed / the same collectives run alone);
//  2. a whole training step of the SPEC.md network (width 2048, depth 4,
//     batch 256, float, Adam) for pp and tp, and their ratio.
// Times are the maximum over ranks of the median of the repetitions.
//
//   mpiexec -n 2 build/perf/bench_parallel_layers [repetitions]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace {

using Space = phantom::DefaultSpace;
using Scalar = float;
using M = phantom::Matrix<Scalar, Space>;
constexpr std::size_t kBatch = 256, kGhost = 16;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double max_over_ranks(double v) {
  double m = 0;
  MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return m;
}

// Median over reps of f's duration, the maximum over ranks.
double time_it(int reps, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = now();
    f();
    Kokkos::fence();
    t.push_back(now() - t0);
  }
  return max_over_ranks(median(t));
}

struct LayerTiming {
  double total = 0, issue = 0, wait = 0, alone = 0;
  double compute() const { return std::max(0.0, total - issue - wait); }
  double hidden() const {
    return alone > 0 ? std::clamp(1.0 - (issue + wait) / alone, 0.0, 1.0) : 0.0;
  }
};

LayerTiming time_layer(phantom::Communicator& comm, const std::string& strategy, std::size_t width,
                       int reps) {
  const int p = comm.size();
  const std::size_t m = width / p;
  std::unique_ptr<phantom::DistributedLayer<Scalar, Space>> layer;
  if (strategy == "pp") {
    auto l = std::make_unique<phantom::PhantomLayer<Scalar, Space>>(comm, width, kGhost,
                                                                    phantom::Activation::relu, 1);
    l->initialize(1);
    layer = std::move(l);
  } else {
    auto l = std::make_unique<phantom::TensorParallelLayer<Scalar, Space>>(
        comm, width, phantom::Activation::relu, 1);
    l->initialize(1);
    layer = std::move(l);
  }
  M x("x", kBatch, m), dy("dy", kBatch, m);
  phantom::fill_uniform(Space(), x, 2 + comm.rank(), 0, 1.0);
  phantom::fill_uniform(Space(), dy, 3 + comm.rank(), 0, 1.0);

  LayerTiming t;
  std::vector<double> issue, wait;
  auto step = [&] {
    const auto before = comm.stats();
    layer->forward(x);
    layer->backward(dy);
    Kokkos::fence();
    const auto after = comm.stats();
    issue.push_back(after.total_issue_seconds() - before.total_issue_seconds());
    wait.push_back(after.total_wait_seconds() - before.total_wait_seconds());
  };
  t.total = time_it(reps, step);
  t.issue = max_over_ranks(median(issue));
  t.wait = max_over_ranks(median(wait));

  // The layer's collectives alone, same sizes: what overlap could hide at most.
  const std::size_t gathered = strategy == "pp" ? kGhost : m;
  M send("send", kBatch, gathered), all("all", kBatch, gathered * p);
  t.alone = time_it(reps, [&] {
    comm.allgather(send, all);
    comm.reduce_scatter(all, send);
  });
  return t;
}

double time_training_step(phantom::Communicator& comm, phantom::Strategy s, int reps) {
  phantom::NetworkConfig c;
  c.shape = {64, 2048, 4, 16};
  c.strategy = s;
  c.ghost = kGhost;
  c.activation = phantom::Activation::relu;
  phantom::DistributedFFN<Scalar, Space> net(comm, c);
  net.initialize(1);
  phantom::OptimizerConfig oc;
  oc.kind = phantom::OptimizerKind::adam;
  phantom::Optimizer<Scalar, Space> opt(oc);
  M x("x", kBatch, 64), y("y", kBatch, 16);
  phantom::fill_uniform(Space(), x, 5, 0, 1.0);
  phantom::fill_uniform(Space(), y, 5, 1, 1.0);
  return time_it(reps, [&] { net.train_step(x, y, phantom::Loss::mse, opt); });
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
    auto comm = phantom::make_world_communicator();
    const bool root = comm->rank() == 0;
    if (root)
      std::printf(
          "bench_parallel_layers: %d ranks, batch %zu, float, k = %zu, %d repetitions\n\n"
          "one hidden layer, forward + backward (ms; max over ranks of the median)\n"
          "%-9s %6s %9s %9s %9s %9s %12s %8s\n",
          comm->size(), kBatch, kGhost, reps, "strategy", "width", "total", "compute", "issued",
          "waiting", "comm alone", "hidden");
    for (std::size_t width : {2048, 4096}) {
      double totals[2] = {0, 0};
      int i = 0;
      for (const char* s : {"pp", "tp"}) {
        const LayerTiming t = time_layer(*comm, s, width, reps);
        totals[i++] = t.total;
        if (root)
          std::printf("%-9s %6zu %9.2f %9.2f %9.2f %9.2f %12.2f %7.0f%%\n", s, width, 1e3 * t.total,
                      1e3 * t.compute(), 1e3 * t.issue, 1e3 * t.wait, 1e3 * t.alone,
                      100 * t.hidden());
      }
      if (root) std::printf("%-9s %6zu  pp/tp time ratio %.3f\n", "", width, totals[0] / totals[1]);
    }
    const double pp = time_training_step(*comm, phantom::Strategy::pp, reps);
    const double tp = time_training_step(*comm, phantom::Strategy::tp, reps);
    if (root)
      std::printf(
          "\ntraining step, 64 -> 2048 x 4 -> 16, Adam (s)\n"
          "  pp %.4f   tp %.4f   pp/tp %.3f\n",
          pp, tp, pp / tp);
  }
  MPI_Finalize();
  return 0;
}
