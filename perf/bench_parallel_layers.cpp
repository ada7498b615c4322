// Phantom vs tensor parallelism on this machine (a study driver, plain MPI):
//  0. the sgemm rate of one rank while every rank multiplies, on the largest
//     GEMM of the step below (batch 256 x 2048 x 1024): the roofline's rate;
//  1. forward + backward of one hidden layer (a megatron pair counts as two),
//     pp (k = 16), tp and megatron, widths 2048 and 4096, batch 256, float:
//     time per layer, the communication left exposed (issuing plus waiting)
//     on the rank that reaches the collectives last (min over ranks: the
//     others' waits include their lead, which is skew, not communication),
//     the same collectives run alone, and the fraction of them that overlap
//     hid: 1 - exposed / alone;
//  2. a whole training step of the SPEC.md network (64 -> 2048 x 4 -> 16,
//     batch 256, float, Adam) for pp, tp and megatron: its time, its GEMM
//     roofline (the step's GEMM FLOPs per rank at the sgemm rate of 0,
//     measured again just before), their ratio, and the optimizer's update
//     alone.
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

#include "mpi_timing.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace {

using Space = phantom::DefaultSpace;
using Scalar = float;
using M = phantom::Matrix<Scalar, Space>;
constexpr std::size_t kBatch = 256, kGhost = 16;

using phantom::perf::max_over_ranks;
using phantom::perf::median;
using phantom::perf::min_over_ranks;
using phantom::perf::time_it;

// FLOP/s of one rank on (256 x 2048) x (2048 x 1024), every rank at once.
double sgemm_rate(int reps) {
  const std::size_t n = 2048, m = 1024;
  M a("a", kBatch, n), w("w", m, n), c("c", kBatch, m);
  phantom::fill_uniform(Space(), a, 7, 0, 1.0);
  phantom::fill_uniform(Space(), w, 7, 1, 1.0);
  const double t =
      time_it(3 * reps, [&] { phantom::gemm(Space(), "N", "T", Scalar(1), a, w, Scalar(0), c); });
  return 2.0 * kBatch * n * m / t;
}

struct LayerTiming {
  double total = 0, exposed = 0, alone = 0;
  double hidden() const { return alone > 0 ? std::clamp(1.0 - exposed / alone, 0.0, 1.0) : 0.0; }
};

using LayerPtr = std::unique_ptr<phantom::DistributedLayer<Scalar, Space>>;

// The layers one "hidden layer" of the strategy stands for (megatron: a pair).
std::vector<LayerPtr> make_layers(phantom::Communicator& comm, const std::string& strategy,
                                  std::size_t width) {
  const auto relu = phantom::Activation::relu;
  std::vector<LayerPtr> layers;
  if (strategy == "pp") {
    layers.push_back(
        std::make_unique<phantom::PhantomLayer<Scalar, Space>>(comm, width, kGhost, relu, 1));
  } else if (strategy == "tp") {
    layers.push_back(
        std::make_unique<phantom::TensorParallelLayer<Scalar, Space>>(comm, width, relu, 1));
  } else {
    layers.push_back(std::make_unique<phantom::RowParallelLayer<Scalar, Space>>(
        comm, width, width, relu, 1, "phantom::megatron"));
    layers.push_back(std::make_unique<phantom::ColumnParallelLayer<Scalar, Space>>(
        comm, width, width, relu, 2, true, "phantom::megatron"));
  }
  for (auto& l : layers) l->initialize(1);
  return layers;
}

LayerTiming time_layer(phantom::Communicator& comm, const std::string& strategy, std::size_t width,
                       int reps) {
  const int p = comm.size();
  const std::size_t m = width / p;
  auto layers = make_layers(comm, strategy, width);
  M x("x", kBatch, m), dy("dy", kBatch, m);
  phantom::fill_uniform(Space(), x, 2 + comm.rank(), 0, 1.0);
  phantom::fill_uniform(Space(), dy, 3 + comm.rank(), 0, 1.0);

  LayerTiming t;
  std::vector<double> exposed;
  auto step = [&] {
    const auto before = comm.stats();
    M h = x;
    for (auto& l : layers) h = l->forward(h);
    M g = dy;
    for (std::size_t i = layers.size(); i-- > 0;) g = layers[i]->backward(g);
    Kokkos::fence();
    const auto after = comm.stats();
    exposed.push_back(after.total_issue_seconds() + after.total_wait_seconds() -
                      before.total_issue_seconds() - before.total_wait_seconds());
  };
  const double per_layer = 1.0 / double(layers.size());
  t.total = per_layer * time_it(reps, step);
  t.exposed = per_layer * min_over_ranks(median(exposed));

  // The layers' collectives alone, same sizes: what overlap could hide at most.
  if (strategy == "megatron") {
    M part("part", kBatch, width), sum("sum", kBatch, width);
    t.alone = per_layer * time_it(reps, [&] {
                comm.allreduce(part, sum);  // row-parallel forward
                comm.allreduce(part, sum);  // column-parallel backward
              });
  } else {
    const std::size_t gathered = strategy == "pp" ? kGhost : m;
    M send("send", kBatch, gathered), all("all", kBatch, gathered * p);
    t.alone = time_it(reps, [&] {
      comm.allgather(send, all);
      comm.reduce_scatter(all, send);
    });
  }
  return t;
}

struct StepTiming {
  double rate = 0, step = 0, roofline = 0, optimizer = 0;
};

StepTiming time_training_step(phantom::Communicator& comm, phantom::Strategy s, int reps) {
  phantom::NetworkConfig c;
  c.shape = {64, 2048, 4, 16};
  c.strategy = s;
  c.ghost = kGhost;
  c.activation = phantom::Activation::relu;
  phantom::DistributedFFN<Scalar, Space> net(comm, c);
  net.initialize(1);
  phantom::OptimizerConfig oc;
  oc.kind = phantom::OptimizerKind::adam;
  oc.learning_rate = 1e-4;
  phantom::Optimizer<Scalar, Space> opt(oc);
  M x("x", kBatch, 64), y("y", kBatch, 16);
  phantom::fill_uniform(Space(), x, 5, 0, 1.0);
  phantom::fill_uniform(Space(), y, 5, 1, 1.0);
  StepTiming t;
  t.rate = sgemm_rate(reps);
  t.step = time_it(reps, [&] { net.train_step(x, y, phantom::Loss::mse, opt); });
  t.optimizer = time_it(reps, [&] { opt.step(net.parameters()); });
  // The slowest rank's GEMM work at the measured rate.
  t.roofline = max_over_ranks(net.flops_per_sample() * double(kBatch)) / t.rate;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
    auto comm = phantom::make_world_communicator();
    const bool root = comm->rank() == 0;
    const double rate = sgemm_rate(reps);
    if (root)
      std::printf(
          "bench_parallel_layers: %d ranks, batch %zu, float, k = %zu, %d repetitions\n"
          "sgemm (256 x 2048) x (2048 x 1024), every rank at once: %.1f GFLOP/s per rank\n\n"
          "one hidden layer, forward + backward (ms; total: max over ranks of the median;\n"
          "exposed communication: the rank reaching the collectives last; megatron: half\n"
          "of a row + column pair)\n"
          "%-9s %6s %9s %9s %12s %8s\n",
          comm->size(), kBatch, kGhost, reps, 1e-9 * rate, "strategy", "width", "total", "exposed",
          "comm alone", "hidden");
    for (std::size_t width : {2048, 4096}) {
      double totals[3] = {0, 0, 0};
      int i = 0;
      for (const char* s : {"pp", "tp", "megatron"}) {
        const LayerTiming t = time_layer(*comm, s, width, reps);
        totals[i++] = t.total;
        if (root)
          std::printf("%-9s %6zu %9.2f %9.2f %12.2f %7.0f%%\n", s, width, 1e3 * t.total,
                      1e3 * t.exposed, 1e3 * t.alone, 100 * t.hidden());
      }
      if (root) std::printf("%-9s %6zu  pp/tp time ratio %.3f\n", "", width, totals[0] / totals[1]);
    }
    if (root)
      std::printf(
          "\ntraining step, 64 -> 2048 x 4 -> 16, Adam (ms; roofline = the step's GEMM FLOPs\n"
          "per rank at the sgemm rate measured just before it, GFLOP/s per rank)\n"
          "%-9s %7s %9s %9s %9s %11s\n",
          "strategy", "sgemm", "step", "roofline", "ratio", "optimizer");
    double steps[3] = {0, 0, 0};
    int i = 0;
    for (auto s : {phantom::Strategy::pp, phantom::Strategy::tp, phantom::Strategy::megatron}) {
      const StepTiming t = time_training_step(*comm, s, reps);
      steps[i++] = t.step;
      if (root)
        std::printf("%-9s %7.1f %9.2f %9.2f %8.2fx %11.2f\n", phantom::to_string(s), 1e-9 * t.rate,
                    1e3 * t.step, 1e3 * t.roofline, t.step / t.roofline, 1e3 * t.optimizer);
    }
    if (root) std::printf("pp/tp step time ratio %.3f\n", steps[0] / steps[1]);
  }
  MPI_Finalize();
  return 0;
}
