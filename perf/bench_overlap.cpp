// Which way of progressing a non-blocking collective hides it behind local
// work with this machine's MPI (a study driver, plain MPI;
// docs/parallel-layers.md). One collective of `floats` values per rank (an
// all-reduce, then an all-gather) runs beside local work of two kinds: a GEMM
// on the rank's core, C (256 x 1024) = A (256 x 2048) W^T, and idle time of
// the GEMM's length (the core free, as while a GPU kernel runs). Each is run
//   alone              the work; the blocking collective
//   no progress        issue; work; wait
//   polling, 8 blocks  issue; the work in 8 column blocks with
//                      Request::test() between them (what gemm_overlapping
//                      does in the layers); wait
//   polling, 32 blocks the same with 32 blocks
//   progress thread    issue; a second thread calls MPI_Test until the
//                      collective completes (MPI_THREAD_MULTIPLE) while this
//                      one works; join
//   thread, 50 us naps the same thread sleeping 50 us between tests
// and each overlapped time is printed with the share of the collective it hid:
//   hidden = (work alone + collective alone - overlapped) / collective alone,
// the fraction of the collective's time that no longer adds to the wall clock
// (100% if the overlapped pair takes the work's time). Times are the maximum
// over ranks of the median of the repetitions.
//
//   mpiexec -n 2 build/perf/bench_overlap [repetitions] [floats per rank, default 4 Mi]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mpi_timing.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/comm/mpi_defaults.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace {

using Space = Kokkos::DefaultHostExecutionSpace;
using Scalar = float;
using M = phantom::Matrix<Scalar, Space>;
using V = Kokkos::View<Scalar*, Kokkos::LayoutLeft, Space>;

using phantom::perf::time_it;

// Tests `request` on its own thread until it completes (MPI_THREAD_MULTIPLE:
// the caller's thread may call MPI meanwhile), sleeping `nap` between tests.
class ProgressThread {
 public:
  ProgressThread(MPI_Request* request, std::chrono::microseconds nap)
      : thread_([request, nap] {
          int done = 0;
          while (!done) {
            MPI_Test(request, &done, MPI_STATUS_IGNORE);
            if (!done && nap.count() > 0) std::this_thread::sleep_for(nap);
          }
        }) {}
  ~ProgressThread() { thread_.join(); }

 private:
  std::thread thread_;
};

// The local work in `blocks` pieces with a test of r between pieces (none
// when r is null): the GEMM's column blocks, or, with `idle` > 0, sleeping that
// long in all: work that leaves this core free, as a GPU kernel does.
void local_work(const M& a, const M& w, const M& c, std::size_t blocks, double idle,
                phantom::Request* r) {
  const std::size_t width = (c.extent(1) + blocks - 1) / blocks;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t c0 = 0; c0 < c.extent(1); c0 += width) {
    const std::size_t c1 = std::min(c.extent(1), c0 + width);
    if (idle > 0)  // until the block's deadline, so the sleeps' overshoots do not add up
      std::this_thread::sleep_until(
          t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(idle * double(c1) / double(c.extent(1)))));
    else if (!phantom::detail::host_blas_columns(Space(), "N", "T", Scalar(1), a, w, Scalar(0), c,
                                                 a.extent(1), c0, c1))
      phantom::gemm(Space(), "N", "T", Scalar(1), a, w, Scalar(0), c);
    if (r && !r->done()) r->test();
  }
}

struct Row {
  std::string name;
  double seconds;
};

void study(phantom::Communicator& comm, int reps, std::size_t floats, bool allreduce, bool threads,
           bool root) {
  const int p = comm.size();
  M a("a", 256, 2048), w("w", 1024, 2048), c("c", 256, 1024);
  phantom::fill_uniform(Space(), a, 7, 0, 1.0);
  phantom::fill_uniform(Space(), w, 7, 1, 1.0);
  V send("send", floats), recv("recv", allreduce ? floats : floats * p);
  phantom::fill_uniform(Space(), send, 7, 2 + comm.rank(), 1.0);

  auto start = [&] {
    return allreduce ? comm.iallreduce(Space(), send, recv) : comm.iallgather(Space(), send, recv);
  };
  auto start_raw = [&](MPI_Request* r) {
    if (allreduce)
      MPI_Iallreduce(send.data(), recv.data(), int(floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r);
    else
      MPI_Iallgather(send.data(), int(floats), MPI_FLOAT, recv.data(), int(floats), MPI_FLOAT,
                     MPI_COMM_WORLD, r);
  };
  const double t_coll = time_it(reps, [&] { start().wait(); });
  const double t_gemm = time_it(reps, [&] { local_work(a, w, c, 1, 0, nullptr); });
  if (root)
    std::printf("\n%s of %zu floats per rank (%.1f MiB received per rank): %.2f ms alone\n",
                allreduce ? "all-reduce" : "all-gather", floats,
                double(allreduce ? floats : floats * (p - 1)) * sizeof(Scalar) / (1 << 20),
                1e3 * t_coll);

  // Each kind of local work: the GEMM on this core, then idling for the GEMM's time.
  for (const double idle : {0.0, t_gemm}) {
    const double t_work = idle > 0 ? idle : t_gemm;
    std::vector<Row> rows;
    rows.push_back({"no progress", time_it(reps, [&] {
                      auto r = start();
                      local_work(a, w, c, 1, idle, nullptr);
                      r.wait();
                    })});
    for (const std::size_t blocks : {8, 32})
      rows.push_back({"polling, " + std::to_string(blocks) + " blocks", time_it(reps, [&] {
                        auto r = start();
                        local_work(a, w, c, blocks, idle, &r);
                        r.wait();
                      })});
    for (const int nap : {0, 50}) {
      if (!threads) break;
      rows.push_back({nap == 0 ? "progress thread" : "thread, 50 us naps", time_it(reps, [&] {
                        MPI_Request r;
                        start_raw(&r);
                        ProgressThread progress(&r, std::chrono::microseconds(nap));
                        local_work(a, w, c, 1, idle, nullptr);
                      })});
    }
    if (!root) continue;
    std::printf("  local work: %s, %.2f ms alone\n",
                idle > 0 ? "idle (the core free, as under a GPU kernel)" : "the GEMM on this core",
                1e3 * t_work);
    for (const auto& r : rows)
      std::printf("    %-20s %8.2f ms   hidden %4.0f%%\n", r.name.c_str(), 1e3 * r.seconds,
                  100 * std::clamp((t_work + t_coll - r.seconds) / t_coll, 0.0, 1.0));
  }
}

}  // namespace

int main(int argc, char** argv) {
  phantom::apply_mpi_defaults();
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
    const std::size_t floats = argc > 2 ? std::size_t(std::atol(argv[2])) : std::size_t(1) << 22;
    auto comm = phantom::make_world_communicator();
    const bool root = comm->rank() == 0;
    if (root)
      std::printf("bench_overlap: %d ranks, %d repetitions, GEMM (256 x 2048) (2048 x 1024), float\n",
                  comm->size(), reps);
    const bool threads = provided >= MPI_THREAD_MULTIPLE;
    if (root && !threads)
      std::printf("MPI does not provide MPI_THREAD_MULTIPLE: no progress-thread rows\n");
    study(*comm, reps, floats, true, threads, root);
    study(*comm, reps, floats, false, threads, root);
  }
  MPI_Finalize();
}
