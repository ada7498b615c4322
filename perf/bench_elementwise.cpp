// The element-wise passes around a layer's GEMMs, on one (256 x 1024) float
// output, per activation (0 relu, 1 gelu, 2 tanh): the fused forward
// (z += b, y = act(z)), the fused backward (dz = dy act'(z), db = column sums
// of dz; tanh's derivative from the forward's y), and the two separate
// kernels the backward replaces (activation_backward from z, then
// bias_gradient). GB/s counts the bytes each pass must read and write once.
//
//   build/perf/bench_elementwise [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <KokkosBlas1_scal.hpp>

#include "phantom/core/bias.hpp"
#include "phantom/core/bias_activation.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace {

using Space = phantom::DefaultSpace;
using M = phantom::Matrix<float, Space>;
using V = phantom::Vector<float, Space>;
constexpr int kRows = 256, kCols = 1024;
constexpr phantom::Activation kActivations[] = {
    phantom::Activation::relu, phantom::Activation::gelu, phantom::Activation::tanh};

struct Buffers {
  M z{"z", kRows, kCols}, y{"y", kRows, kCols}, dy{"dy", kRows, kCols}, dz{"dz", kRows, kCols};
  V b{"b", kCols}, db{"db", kCols};
  Buffers() {
    phantom::fill_uniform(Space(), z, 1, 0, 2.0);
    phantom::fill_uniform(Space(), dy, 1, 1, 1.0);
    phantom::fill_uniform(Space(), b, 1, 2, 1.0);
    Kokkos::fence();
  }
};

// `matrices`: how many (rows x cols) float arrays the pass reads or writes.
void finish(benchmark::State& state, int matrices) {
  state.SetLabel(phantom::to_string(kActivations[state.range(0)]));
  state.counters["GB/s"] = benchmark::Counter(double(matrices) * kRows * kCols * sizeof(float),
                                              benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_BiasActivationForward(benchmark::State& state) {
  const auto a = kActivations[state.range(0)];
  Buffers m;
  V minus_b("-b", kCols);
  Kokkos::deep_copy(minus_b, m.b);
  KokkosBlas::scal(minus_b, -1.0f, minus_b);
  bool add = true;
  for (auto _ : state) {
    // z += b, then z -= b next time: z stays in its range (z += b every time
    // would drive tanh and GELU into their cheap saturated branches).
    phantom::bias_activation_forward(Space(), a, m.z, add ? m.b : minus_b, m.y);
    add = !add;
    Kokkos::fence();
  }
  finish(state, 3);  // z read and written, y written
}

void BM_ActivationBackwardBias(benchmark::State& state) {
  const auto a = kActivations[state.range(0)];
  Buffers m;
  phantom::bias_activation_forward(Space(), a, m.z, m.b, m.y);
  for (auto _ : state) {
    phantom::activation_backward_bias(Space(), a, m.z, m.y, m.dy, m.dz, m.db);
    Kokkos::fence();
  }
  finish(state, 3);  // z (or y), dy read, dz written
}

void BM_SeparateBackward(benchmark::State& state) {
  const auto a = kActivations[state.range(0)];
  Buffers m;
  phantom::bias_activation_forward(Space(), a, m.z, m.b, m.y);  // the same z as the fused one
  for (auto _ : state) {
    phantom::activation_backward(Space(), a, m.z, m.dy, m.dz);
    phantom::bias_gradient(Space(), m.dz, m.db);
    Kokkos::fence();
  }
  finish(state, 3);
}

BENCHMARK(BM_BiasActivationForward)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ActivationBackwardBias)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SeparateBackward)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
