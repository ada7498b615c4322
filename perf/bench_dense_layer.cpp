// Dense layer forward+backward at width 2048, batch 256, float, and the three
// GEMMs it is made of, through KokkosBlas::gemm (phantom::gemm) and through a
// direct Fortran BLAS sgemm_ call on the same shapes. At the end it prints, per
// shape, direct_time / kokkos_time: the fraction of the direct BLAS speed the
// KokkosBlas path reaches (target >= 0.9; a native fallback would show ~0.1).
// The direct sgemm_ works on host memory: where the default space is a GPU the
// comparison is skipped (perf/bench_gpu_layers compares with cuBLAS instead).
//
//   build/perf/bench_dense_layer [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "phantom/phantom.hpp"

extern "C" void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b,
                       const int* ldb, const float* beta, float* c, const int* ldc);

namespace {

using Space = phantom::DefaultSpace;
using HostSpace = Kokkos::DefaultHostExecutionSpace;
using M = phantom::Matrix<float, Space>;
using HostM = phantom::Matrix<float, HostSpace>;
constexpr bool kHostDefault =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, Space::memory_space>::accessible;
constexpr int kBatch = 256;
constexpr int kWidth = 2048;

// The layer's three products, with x: (B x n), W: (n x n), delta: (B x n).
struct Shape {
  const char* name;
  const char* ta;
  const char* tb;
  int a_rows, a_cols, b_rows, b_cols, c_rows, c_cols;
};
const Shape kShapes[] = {
    {"forward z=xW^T", "N", "T", kBatch, kWidth, kWidth, kWidth, kBatch, kWidth},
    {"backward dW=delta^T x", "T", "N", kBatch, kWidth, kBatch, kWidth, kWidth, kWidth},
    {"backward dx=delta W", "N", "N", kBatch, kWidth, kWidth, kWidth, kBatch, kWidth},
};

double gemm_flops(const Shape& s) {
  const double k = s.ta[0] == 'T' ? s.a_rows : s.a_cols;
  return 2.0 * s.c_rows * s.c_cols * k;
}

void set_flops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_KokkosGemm(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  M a("a", s.a_rows, s.a_cols), b("b", s.b_rows, s.b_cols), c("c", s.c_rows, s.c_cols);
  phantom::fill_uniform(Space(), a, 1, 1, 1.0);
  phantom::fill_uniform(Space(), b, 1, 2, 1.0);
  for (auto _ : state) {
    phantom::gemm(Space(), s.ta, s.tb, 1.0f, a, b, 0.0f, c);
    Kokkos::fence();
  }
  state.SetLabel(s.name);
  set_flops(state, gemm_flops(s));
}

void BM_DirectSgemm(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  HostM a("a", s.a_rows, s.a_cols), b("b", s.b_rows, s.b_cols), c("c", s.c_rows, s.c_cols);
  phantom::fill_uniform(HostSpace(), a, 1, 1, 1.0);
  phantom::fill_uniform(HostSpace(), b, 1, 2, 1.0);
  HostSpace().fence();
  const int m = s.c_rows, n = s.c_cols, k = s.ta[0] == 'T' ? s.a_rows : s.a_cols;
  const int lda = s.a_rows, ldb = s.b_rows, ldc = s.c_rows;
  const float one = 1, zero = 0;
  for (auto _ : state)
    sgemm_(s.ta, s.tb, &m, &n, &k, &one, a.data(), &lda, b.data(), &ldb, &zero, c.data(), &ldc);
  state.SetLabel(s.name);
  set_flops(state, gemm_flops(s));
}

void BM_DenseLayerForwardBackward(benchmark::State& state) {
  const int width = int(state.range(0)), batch = int(state.range(1));
  phantom::DenseLayer<float, Space> layer(width, width, phantom::Activation::relu, "layer");
  layer.initialize(1, 0);
  M x("x", batch, width), dy("dy", batch, width);
  phantom::fill_uniform(Space(), x, 2, 0, 1.0);
  phantom::fill_uniform(Space(), dy, 2, 1, 1.0);
  for (auto _ : state) {
    layer.forward(x);
    layer.backward(dy, true);
    Kokkos::fence();
  }
  set_flops(state, double(batch) *
                       (layer.forward_flops_per_sample() + layer.backward_flops_per_sample(true)));
}

BENCHMARK(BM_KokkosGemm)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
// Host memory: a comparison with KokkosBlas only where the default space is the host.
BENCHMARK(BM_DirectSgemm)
    ->DenseRange(0, kHostDefault ? 2 : -1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DenseLayerForwardBackward)
    ->Args({kWidth, kBatch})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Console output plus, at the end, the KokkosBlas / direct BLAS ratio per shape.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration) seconds_[r.benchmark_name()] = r.GetAdjustedRealTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nKokkosBlas::gemm vs direct sgemm (direct_time / kokkos_time, target >= 0.9)\n");
    for (int i = 0; i < 3; ++i) {
      const std::string suffix = "/" + std::to_string(i) + "/real_time";
      const double kokkos = seconds_["BM_KokkosGemm" + suffix];
      const double direct = seconds_["BM_DirectSgemm" + suffix];
      if (kokkos > 0 && direct > 0)
        std::printf("  %-24s ratio %.3f\n", kShapes[i].name, direct / kokkos);
    }
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
