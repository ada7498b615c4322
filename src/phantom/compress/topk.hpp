// TopK sparsification of a (rows x cols) message: the K = topk_count(fraction,
// rows cols) values of largest magnitude (ties: the lower index), sent as K
// Scalars followed by K int32 indices (column-major positions in the
// message, ascending). The receiver scatters them into zeros (or adds them).
//
// Error feedback (optional): the sender keeps what it dropped, r = v - sparse(v)
// with v = x + r_previous, and adds it to its next message of the same shape
// (a new batch size starts from zero). Checkpoints carry the remainders
// (Session::save), so a restart continues the straight run's messages.
//
// Selection is staged through the host (a copy of the message, nth_element):
// a device-wide selection is not worth its complexity for the message sizes
// here. Decoding runs on the message's own memory space.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "phantom/compress/compression_config.hpp"
#include "phantom/compress/quantize.hpp"
#include "phantom/core/error.hpp"

namespace phantom {

template <class Scalar>
class TopK {
 public:
  TopK(double fraction, bool error_feedback) : fraction_(fraction), feedback_(error_feedback) {}

  std::size_t count(std::size_t rows, std::size_t cols) const {
    return topk_count(fraction_, rows * cols);
  }
  std::size_t bytes(std::size_t rows, std::size_t cols) const {
    return count(rows, cols) * (sizeof(Scalar) + sizeof(std::int32_t));
  }

  // Encodes x (rows x cols) into out (bytes(rows, cols) bytes); the copies to
  // and from the host are ordered on the instance space.
  template <class Exec, class In, class Bytes>
  void encode(const Exec& space, const In& x, const Bytes& out) {
    const std::size_t rows = x.extent(0), cols = x.extent(1), n = rows * cols;
    const std::size_t k = count(rows, cols);
    if (n > std::size_t(INT32_MAX))
      throw InvalidArgument("topk: a message of " + std::to_string(n) +
                            " values does not fit int32 indices");
    if (v_.extent(0) != rows || v_.extent(1) != cols)
      v_ = HostMatrix("phantom::topk::v", rows, cols);
    Kokkos::deep_copy(space, v_, x);
    compat::fence(space, "phantom::compress::topk: message on the host");
    Scalar* val = v_.data();
    if (feedback_) {
      if (remainder_.size() != n) remainder_.assign(n, Scalar(0));
      for (std::size_t i = 0; i < n; ++i) val[i] += remainder_[i];
    }
    // The k-th largest magnitude by nth_element on a copy, then one ascending
    // scan: everything above it, and of the values equal to it the lowest
    // indices (the same set as sorting by magnitude, ties by index).
    magnitude_.resize(n);
    for (std::size_t i = 0; i < n; ++i) magnitude_[i] = val[i] < 0 ? -val[i] : val[i];
    work_ = magnitude_;
    std::nth_element(work_.begin(), work_.begin() + (k - 1), work_.end(), std::greater<Scalar>());
    const Scalar threshold = work_[k - 1];
    std::size_t ties = k;
    for (std::size_t i = 0; i < n; ++i) ties -= magnitude_[i] > threshold;
    index_.clear();
    for (std::size_t i = 0; i < n && index_.size() < k; ++i) {
      const bool above = magnitude_[i] > threshold;
      const bool tie = !above && magnitude_[i] == threshold && ties > 0;
      if (tie) --ties;
      if (above || tie) index_.push_back(std::int32_t(i));
    }
    if (index_.size() < k)  // only NaN compares false both ways
      throw Error("topk: the message holds NaN values (" + std::to_string(index_.size()) + " of " +
                  std::to_string(k) + " values selectable)");

    host_.resize(bytes(rows, cols));
    for (std::size_t i = 0; i < k; ++i) {
      std::memcpy(&host_[i * sizeof(Scalar)], &val[index_[i]], sizeof(Scalar));
      std::memcpy(&host_[k * sizeof(Scalar) + i * sizeof(std::int32_t)], &index_[i],
                  sizeof(std::int32_t));
    }
    if (feedback_) {
      for (std::size_t i = 0; i < n; ++i) remainder_[i] = val[i];
      for (std::size_t i = 0; i < k; ++i) remainder_[index_[i]] = Scalar(0);
    }
    Kokkos::View<unsigned char*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(
        host_.data(), host_.size());
    Kokkos::deep_copy(space, out, h);
  }

  // Decodes in (from encode) into out (rows x cols): out = sparse, or out +=
  // sparse when accumulate.
  template <class Exec, class Bytes, class Out>
  void decode(const Exec& space, const Bytes& in, const Out& out, bool accumulate) const {
    const std::size_t rows = out.extent(0), k = count(rows, out.extent(1));
    if (!accumulate) Kokkos::deep_copy(space, out, Scalar(0));
    Kokkos::parallel_for(  // indices are distinct: no two threads write one element
        "phantom::compress::topk_decode", Kokkos::RangePolicy<Exec>(space, 0, k),
        KOKKOS_LAMBDA(const std::size_t i) {
          const Scalar v = detail::load_bytes<Scalar>(in, i * sizeof(Scalar));
          const std::size_t at = std::size_t(
              detail::load_bytes<std::int32_t>(in, k * sizeof(Scalar) + i * sizeof(std::int32_t)));
          out(at % rows, at / rows) += v;
        });
  }

  // The remainder error feedback carries into the next message (column-major;
  // empty before the first message or without error feedback).
  const std::vector<Scalar>& remainder() const { return remainder_; }
  // For restoring a checkpoint: its size must be the next message's.
  std::vector<Scalar>& remainder() { return remainder_; }

 private:
  double fraction_;
  bool feedback_;
  using HostMatrix = Kokkos::View<Scalar**, Kokkos::LayoutLeft, Kokkos::HostSpace>;
  HostMatrix v_;  // the message (plus the remainder), on the host
  std::vector<Scalar> remainder_, magnitude_, work_;
  std::vector<std::int32_t> index_;
  std::vector<unsigned char> host_;
};

}  // namespace phantom
