// All-gather, reduce-scatter and all-reduce of float buffers from 1 KiB to
// 64 MiB, through phantom::Communicator (View front-end, MPI backend) and
// through the raw MPI call on the same buffers. Each iteration runs both,
// alternating which goes first, and times each on every rank; the time kept
// is the maximum over ranks (MPI_Allreduce MAX). Only rank 0 reports. The
// table at the end gives, per collective and size, the median times and the
// overhead ratio interface / raw twice: ratio of the medians, and median of
// the per-iteration ratios (target <= 1.05 from 1 MiB up).
//
// Size is the full buffer: all-gather receives it, reduce-scatter sends it,
// all-reduce sends and receives it; each rank's block is size / p.
//
//   mpiexec -n 2 --oversubscribe --allow-run-as-root build/perf/bench_communicator
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "phantom/comm/mpi_communicator.hpp"

namespace {

phantom::MpiCommunicator* g_comm = nullptr;
int g_rank = 0;
bool g_benchmark_out = false;

enum Kind { kAllgather, kReduceScatter, kAllreduce };
const char* kKindNames[] = {"allgather", "reduce_scatter", "allreduce"};

struct Samples {
  std::vector<double> interface, raw;
};
std::map<std::pair<int, long>, Samples> g_samples;  // (kind, bytes) -> times

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median over iterations of interface / raw: each pair ran back to back, so
// drifting load on the machine cancels out.
double paired_ratio(const Samples& s) {
  std::vector<double> r(s.raw.size());
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = s.interface[i] / s.raw[i];
  return median(r);
}

// Seconds f takes on the slowest rank.
double max_over_ranks(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return t;
}

void BM_Collective(benchmark::State& state) {
  const Kind kind = Kind(state.range(0));
  const long bytes = state.range(1);
  const int p = g_comm->size();
  const std::size_t full = std::size_t(bytes) / sizeof(float), block = full / p;
  // Host memory: raw MPI gets the same pointers (an MPI that is not GPU-aware
  // could not take device ones), and the communicator the host instance.
  using HostView = Kokkos::View<float*, Kokkos::DefaultHostExecutionSpace>;
  HostView a("a", full), b("b", full);
  Kokkos::deep_copy(a, 1.0f);
  auto small = Kokkos::subview(b, Kokkos::make_pair(std::size_t(0), block));
  auto send_block = Kokkos::subview(a, Kokkos::make_pair(std::size_t(0), block));
  MPI_Comm mpi = g_comm->comm();
  const int n = int(block);

  std::function<void()> interface, raw;
  switch (kind) {
    case kAllgather:
      interface = [&] { g_comm->allgather(send_block, b); };
      raw = [&] { MPI_Allgather(a.data(), n, MPI_FLOAT, b.data(), n, MPI_FLOAT, mpi); };
      break;
    case kReduceScatter:
      interface = [&] { g_comm->reduce_scatter(a, small); };
      raw = [&] { MPI_Reduce_scatter_block(a.data(), b.data(), n, MPI_FLOAT, MPI_SUM, mpi); };
      break;
    case kAllreduce:
      interface = [&] { g_comm->allreduce(a, b); };
      raw = [&] { MPI_Allreduce(a.data(), b.data(), int(full), MPI_FLOAT, MPI_SUM, mpi); };
      break;
  }
  interface();  // warm-up: first-touch of the buffers, MPI connections
  raw();

  Samples& s = g_samples[{kind, bytes}];
  bool interface_first = true;
  for (auto _ : state) {
    double ti, tr;
    if (interface_first) {
      ti = max_over_ranks(interface);
      tr = max_over_ranks(raw);
    } else {
      tr = max_over_ranks(raw);
      ti = max_over_ranks(interface);
    }
    interface_first = !interface_first;
    s.interface.push_back(ti);
    s.raw.push_back(tr);
    state.SetIterationTime(ti);
  }
  state.counters["raw_us"] = 1e6 * median(s.raw);
  state.counters["interface_us"] = 1e6 * median(s.interface);
  state.counters["ratio"] = paired_ratio(s);
  state.SetBytesProcessed(int64_t(state.iterations()) * bytes);
  state.SetLabel(kKindNames[kind]);
}

void register_benchmarks() {
  for (int kind : {kAllgather, kReduceScatter, kAllreduce}) {
    for (long bytes = 1 << 10; bytes <= (64l << 20); bytes *= 4) {
      // Fixed iteration counts: every rank must run the same number of collectives.
      const long iterations = std::clamp((1l << 30) / bytes, 30l, 4000l);
      benchmark::RegisterBenchmark((std::string("BM_") + kKindNames[kind]).c_str(), BM_Collective)
          ->Args({kind, bytes})
          ->Iterations(iterations)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

void print_summary() {
  std::printf("\ninterface / raw MPI, median of per-iteration max-over-ranks times, %d ranks\n",
              g_comm->size());
  std::printf("%-15s %10s %12s %12s %14s %14s\n", "collective", "size", "raw_us", "interface_us",
              "ratio_medians", "ratio_paired");
  for (const auto& [key, s] : g_samples) {
    const double raw = median(s.raw), iface = median(s.interface);
    const long bytes = key.second;
    const std::string size = bytes >= (1 << 20) ? std::to_string(bytes >> 20) + " MiB"
                                                : std::to_string(bytes >> 10) + " KiB";
    std::printf("%-15s %10s %12.2f %12.2f %14.3f %14.3f\n", kKindNames[key.first], size.c_str(),
                1e6 * raw, 1e6 * iface, iface / raw, paired_ratio(s));
  }
}

class NullReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  for (int i = 1; i < argc; ++i)
    g_benchmark_out = g_benchmark_out || std::string(argv[i]).rfind("--benchmark_out=", 0) == 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    benchmark::Initialize(&argc, argv);
    phantom::MpiCommunicator comm(MPI_COMM_WORLD);
    g_comm = &comm;
    register_benchmarks();
    if (g_rank == 0) {
      benchmark::RunSpecifiedBenchmarks();
      print_summary();
    } else {
      // Silent, but a file reporter only where --benchmark_out asks for one
      // (Google Benchmark refuses a file reporter without it).
      NullReporter display, file;
      benchmark::RunSpecifiedBenchmarks(&display, g_benchmark_out ? &file : nullptr);
    }
    g_comm = nullptr;
  }
  MPI_Finalize();
  return 0;
}
