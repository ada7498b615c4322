// Timing helpers shared by the MPI study drivers in perf/: a duration is the
// median over repetitions on each rank, then the maximum over ranks.
#pragma once

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace phantom::perf {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline double max_over_ranks(double v) {
  double m = 0;
  MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return m;
}

inline double min_over_ranks(double v) {
  double m = 0;
  MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  return m;
}

// Median over reps of f's duration (after one warm-up call, each repetition
// starting at a barrier and ending after a fence), the maximum over ranks.
inline double time_it(int reps, const std::function<void()>& f) {
  f();
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

}  // namespace phantom::perf
