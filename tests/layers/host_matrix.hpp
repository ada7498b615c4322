// Host copies of matrices for the parallel-layer tests, and their all-gather
// over MPI_COMM_WORLD with plain MPI (independent of Phantom's communicators).
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "phantom/core/parameter.hpp"

namespace phantom_test {

// Column-major (rows x cols) matrix on the host.
struct HostMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> a;
  HostMatrix() = default;
  HostMatrix(std::size_t r, std::size_t c) : rows(r), cols(c), a(r * c, 0.0) {}
  double& operator()(std::size_t i, std::size_t j) { return a[i + rows * j]; }
  double operator()(std::size_t i, std::size_t j) const { return a[i + rows * j]; }
};

template <class FlatView>
HostMatrix to_host(const FlatView& flat, std::size_t rows, std::size_t cols) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), flat);
  HostMatrix m(rows, cols);
  for (std::size_t i = 0; i < m.a.size(); ++i) m.a[i] = h(i);
  return m;
}

template <class Param>
HostMatrix value_of(const Param& p) {
  return to_host(p.value, p.rows, p.cols);
}
template <class Param>
HostMatrix grad_of(const Param& p) {
  return to_host(p.grad, p.rows, p.cols);
}

// Writes m into a flat device view.
template <class FlatView>
void from_host(const HostMatrix& m, const FlatView& flat) {
  auto h = Kokkos::create_mirror_view(flat);
  for (std::size_t i = 0; i < m.a.size(); ++i) h(i) = m.a[i];
  Kokkos::deep_copy(flat, h);
}

// Every rank's copy of a same-shaped matrix, indexed by rank.
inline std::vector<HostMatrix> allgather(const HostMatrix& local) {
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  std::vector<double> all(local.a.size() * p);
  MPI_Allgather(local.a.data(), int(local.a.size()), MPI_DOUBLE, all.data(), int(local.a.size()),
                MPI_DOUBLE, MPI_COMM_WORLD);
  std::vector<HostMatrix> out(p, HostMatrix(local.rows, local.cols));
  for (int r = 0; r < p; ++r)
    std::copy(all.begin() + r * local.a.size(), all.begin() + (r + 1) * local.a.size(),
              out[r].a.begin());
  return out;
}

inline HostMatrix block(const HostMatrix& m, std::size_t row0, std::size_t col0, std::size_t rows,
                        std::size_t cols) {
  HostMatrix b(rows, cols);
  for (std::size_t j = 0; j < cols; ++j)
    for (std::size_t i = 0; i < rows; ++i) b(i, j) = m(row0 + i, col0 + j);
  return b;
}

inline void set_block(HostMatrix& m, std::size_t row0, std::size_t col0, const HostMatrix& b) {
  for (std::size_t j = 0; j < b.cols; ++j)
    for (std::size_t i = 0; i < b.rows; ++i) m(row0 + i, col0 + j) = b(i, j);
}

// C = op(A) op(B) on the host.
inline HostMatrix multiply(const HostMatrix& A, bool ta, const HostMatrix& B, bool tb) {
  const std::size_t m = ta ? A.cols : A.rows, k = ta ? A.rows : A.cols;
  const std::size_t n = tb ? B.rows : B.cols;
  HostMatrix C(m, n);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t i = 0; i < m; ++i) {
      double s = 0;
      for (std::size_t l = 0; l < k; ++l) s += (ta ? A(l, i) : A(i, l)) * (tb ? B(j, l) : B(l, j));
      C(i, j) = s;
    }
  return C;
}

// max |a - b| / max(max |b|, tiny): one relative error for a whole matrix.
inline double relative_difference(const HostMatrix& a, const HostMatrix& b) {
  double diff = 0, scale = 1e-300;
  for (std::size_t i = 0; i < a.a.size(); ++i) {
    diff = std::max(diff, std::abs(a.a[i] - b.a[i]));
    scale = std::max(scale, std::abs(b.a[i]));
  }
  return a.a.size() == b.a.size() ? diff / scale : INFINITY;
}

}  // namespace phantom_test
