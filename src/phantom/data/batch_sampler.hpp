// Which rows of a data set step t trains on. Sample i (i < B) of step t is
// position q = t B + i of an endless stream over the N rows:
//   shuffle = false: row q mod N, so a run is reproducible and comparable with
//                    other tools;
//   shuffle = true:  row perm_e(q mod N), e = q div N the epoch, perm_e a
//                    permutation drawn from (seed, e).
// Both are pure functions of t, so a restarted run sees the same batches.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"
#include "phantom/data/teacher.hpp"

namespace phantom {

// A permutation of 0..n-1 by Fisher-Yates with counter-based draws from
// (seed, stream): the same on every rank and machine.
inline std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed,
                                                   std::uint64_t stream) {
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = std::size_t(uniform01(seed, stream, i) * i);
    std::swap(perm[i - 1], perm[std::min(j, i - 1)]);
  }
  return perm;
}

class BatchSampler {
 public:
  BatchSampler(std::size_t rows, std::size_t batch, bool shuffle, std::uint64_t seed)
      : rows_(rows), batch_(batch), shuffle_(shuffle), seed_(seed) {}

  std::vector<std::size_t> rows_for_step(std::size_t step) {
    std::vector<std::size_t> out(batch_);
    for (std::size_t i = 0; i < batch_; ++i) {
      const std::size_t q = step * batch_ + i;
      out[i] = shuffle_ ? permutation(q / rows_)[q % rows_] : q % rows_;
    }
    return out;
  }

 private:
  // The epoch's permutation, cached for the current epoch.
  const std::vector<std::size_t>& permutation(std::size_t epoch) {
    if (epoch != cached_epoch_ || perm_.empty()) {
      perm_ = seeded_permutation(rows_, seed_, streams::kShuffle + epoch);
      cached_epoch_ = epoch;
    }
    return perm_;
  }

  std::size_t rows_, batch_;
  bool shuffle_;
  std::uint64_t seed_;
  std::size_t cached_epoch_ = 0;
  std::vector<std::size_t> perm_;
};

// Copies rows[0..count) of d.x and d.y into xb and yb (count rows each), on
// the instance space. idx is the caller's device copy of the row numbers,
// (re)allocated only when count changes: a training loop that keeps it
// allocates nothing per step.
template <class Scalar, class Space>
void gather_batch(const Space& space, const Dataset<Scalar, Space>& d, const std::size_t* rows,
                  std::size_t count, const Matrix<Scalar, Space>& xb,
                  const Matrix<Scalar, Space>& yb, Kokkos::View<std::size_t*, Space>& idx) {
  require_equal(count, xb.extent(0), "gather_batch", "rows", "batch");
  require_equal(count, yb.extent(0), "gather_batch", "rows", "batch");
  if (idx.extent(0) != count)
    idx = Kokkos::View<std::size_t*, Space>(Kokkos::view_alloc(space, std::string("batch_rows")),
                                            count);
  Kokkos::deep_copy(
      space, idx,
      Kokkos::View<const std::size_t*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
          rows, count));
  // The host rows may change once this returns: the copy must have read them.
  space.fence();
  auto x = d.x, y = d.y;
  auto index = idx;
  for_each_element(
      space, "phantom::gather_batch_x", xb.extent(0), xb.extent(1),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { xb(i, j) = x(index(i), j); });
  for_each_element(
      space, "phantom::gather_batch_y", yb.extent(0), yb.extent(1),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { yb(i, j) = y(index(i), j); });
}

// The same for a one-off gather (allocates its index buffer).
template <class Scalar, class Space>
void gather_batch(const Space& space, const Dataset<Scalar, Space>& d,
                  const std::vector<std::size_t>& rows, const Matrix<Scalar, Space>& xb,
                  const Matrix<Scalar, Space>& yb) {
  Kokkos::View<std::size_t*, Space> idx;
  gather_batch(space, d, rows.data(), rows.size(), xb, yb, idx);
}

}  // namespace phantom
