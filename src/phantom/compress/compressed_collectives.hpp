// Collectives of (batch x features) LayoutLeft matrices whose messages travel
// compressed (quantized or TopK) as byte Views through the ordinary
// Communicator, so its byte counters see exactly the compressed sizes:
//   all-gather:     each rank encodes its block; all-gather of the encoded
//                   blocks; each decodes the others' (its own stays exact, or
//                   is replaced by its own decoding where every rank must
//                   hold the same result)
//   reduce-scatter: each rank encodes the block of its partial destined for
//                   every other rank; all-to-all; each adds the p-1 decoded
//                   blocks it received to its own exact block (in rank order)
//   all-reduce:     the compressed reduce-scatter, then the compressed
//                   all-gather of the summed blocks (each rank decodes its own
//                   too, so all ranks hold the same matrix). As a ring
//                   all-reduce, it moves 2 (p-1) blocks of n/p features.
// Bytes: compressed_allgather_bytes etc. in compression_config.hpp. At p = 1
// there is no message, nothing is compressed and the result is exact.
// The all-to-all is blocking (the Communicator has no non-blocking form), so
// a compressed reduce-scatter does not overlap with local work.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/comm/request.hpp"
#include "phantom/compress/compression_config.hpp"
#include "phantom/compress/quantize.hpp"
#include "phantom/compress/topk.hpp"
#include "phantom/core/profiling.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

// Encodes and decodes messages with one method. Each sender-side stream of
// messages (a `slot`, e.g. the block for one destination) keeps its own TopK
// error-feedback remainder.
template <class Scalar, class Space = DefaultSpace>
class MessageCodec {
 public:
  using M = Matrix<Scalar, Space>;
  using Bytes = Kokkos::View<unsigned char*, Space>;

  explicit MessageCodec(const CompressionConfig& c, const Space& space = Space())
      : config_(c), space_(space) {
    if (!is_quantization(c.method) && c.method != CompressionMethod::topk)
      throw InvalidArgument(std::string("compressed collectives: method '") + to_string(c.method) +
                            "' is not a message codec (quantization or topk)");
  }

  std::size_t bytes(std::size_t rows, std::size_t cols) const {
    return compressed_bytes(config_, rows, cols, sizeof(Scalar));
  }

  template <class In, class Out>
  void encode(std::size_t slot, const In& x, const Out& out) {
    if (config_.method != CompressionMethod::topk) return quantize(space_, config_.method, x, out);
    topk(slot).encode(space_, x, out);
  }

  template <class In, class Out>
  void decode(const In& in, const Out& out, bool accumulate) {
    if (config_.method != CompressionMethod::topk)
      return dequantize(space_, config_.method, in, out, accumulate);
    topk(0).decode(space_, in, out, accumulate);  // decoding keeps no state
  }

  const CompressionConfig& config() const { return config_; }
  const Space& execution_space() const { return space_; }
  // The error-feedback remainders of slots 0..slots-1 (none without error
  // feedback): the state a restart needs (Session::save).
  void collect_remainders(std::size_t slots, std::vector<std::vector<Scalar>*>& out) {
    if (!config_.error_feedback || slots == 0) return;
    topk(slots - 1);  // all coders first: adding one moves the others
    for (std::size_t s = 0; s < slots; ++s) out.push_back(&topk_[s].remainder());
  }
  // The TopK coder of a slot (its error-feedback remainder), for tests.
  TopK<Scalar>& topk(std::size_t slot) {
    while (topk_.size() <= slot) topk_.emplace_back(config_.topk_fraction, config_.error_feedback);
    return topk_[slot];
  }

 private:
  CompressionConfig config_;
  Space space_;
  std::vector<TopK<Scalar>> topk_;
};

// Byte block s (of `block` bytes) of a buffer.
template <class Bytes>
auto byte_block(const Bytes& b, std::size_t s, std::size_t block) {
  return Kokkos::subview(b, Kokkos::make_pair(s * block, (s + 1) * block));
}

template <class Scalar, class Space = DefaultSpace>
class CompressedAllGather {
 public:
  using M = Matrix<Scalar, Space>;
  using Bytes = Kokkos::View<unsigned char*, Space>;

  // exact_own: keep this rank's block exact in the result (false: replace it by
  // its own decoding, so every rank holds the same matrix).
  CompressedAllGather(const CompressionConfig& c, bool exact_own, std::string label,
                      const Space& space = Space())
      : codec_(c, space), exact_own_(exact_own), label_(std::move(label)) {}

  // Starts gathering x (B x c) into gathered (B x p c); finish() completes it.
  void start(Communicator& comm, const M& x, const M& gathered) {
    const std::size_t p = std::size_t(comm.size()), r = std::size_t(comm.rank());
    const std::size_t rows = x.extent(0), c = x.extent(1);
    require_equal(gathered.extent(1), p * c, label_, "gathered columns", "p x block columns");
    comm_ = &comm;
    gathered_ = gathered;
    cols_ = c;
    const Space& space = codec_.execution_space();
    Kokkos::deep_copy(space, columns(gathered, r * c, (r + 1) * c), x);
    if (p == 1) return;
    block_ = codec_.bytes(rows, c);
    if (send_.extent(0) != block_) {
      send_ = Bytes(Kokkos::view_alloc(space, label_ + ".send"), block_);
      recv_ = Bytes(Kokkos::view_alloc(space, label_ + ".recv"), p * block_);
    }
    {
      ProfilingRegion region("phantom::compress::encode");
      codec_.encode(0, x, send_);
    }
    request_ = comm.iallgather(space, send_, recv_);
  }

  void finish() {
    if (comm_ == nullptr || comm_->size() == 1) return;
    request_.wait();
    ProfilingRegion region("phantom::compress::decode");
    const std::size_t p = std::size_t(comm_->size()), r = std::size_t(comm_->rank());
    for (std::size_t s = 0; s < p; ++s)
      if (s != r || !exact_own_)
        codec_.decode(byte_block(recv_, s, block_), columns(gathered_, s * cols_, (s + 1) * cols_),
                      false);
  }

  MessageCodec<Scalar, Space>& codec() { return codec_; }
  // Error-feedback state: one stream of messages (slot 0).
  void collect_remainders(std::vector<std::vector<Scalar>*>& out) {
    codec_.collect_remainders(1, out);
  }

 private:
  MessageCodec<Scalar, Space> codec_;
  bool exact_own_;
  std::string label_;
  Communicator* comm_ = nullptr;
  M gathered_;
  std::size_t cols_ = 0, block_ = 0;
  Bytes send_, recv_;
  Request request_;
};

template <class Scalar, class Space = DefaultSpace>
class CompressedReduceScatter {
 public:
  using M = Matrix<Scalar, Space>;
  using Bytes = Kokkos::View<unsigned char*, Space>;

  CompressedReduceScatter(const CompressionConfig& c, std::string label,
                          const Space& space = Space())
      : codec_(c, space), label_(std::move(label)) {}

  // out (B x c) = sum over ranks of their block rank() of partial (B x p c).
  void run(Communicator& comm, const M& partial, const M& out) {
    const std::size_t p = std::size_t(comm.size()), r = std::size_t(comm.rank());
    const std::size_t rows = out.extent(0), c = out.extent(1);
    require_equal(partial.extent(1), p * c, label_, "partial columns", "p x block columns");
    const Space& space = codec_.execution_space();
    Kokkos::deep_copy(space, out, columns(partial, r * c, (r + 1) * c));
    if (p == 1) return;
    const std::size_t block = codec_.bytes(rows, c);
    if (send_.extent(0) != p * block) {
      send_ = Bytes(Kokkos::view_alloc(space, label_ + ".send"), p * block);
      recv_ = Bytes(Kokkos::view_alloc(space, label_ + ".recv"), p * block);
    }
    {
      ProfilingRegion region("phantom::compress::encode");
      for (std::size_t s = 0; s < p; ++s)  // block r stays here, exact
        if (s != r)
          codec_.encode(s, columns(partial, s * c, (s + 1) * c), byte_block(send_, s, block));
    }
    comm.alltoall(space, send_, recv_);
    ProfilingRegion region("phantom::compress::decode");
    for (std::size_t s = 0; s < p; ++s)
      if (s != r) codec_.decode(byte_block(recv_, s, block), out, true);
  }

  MessageCodec<Scalar, Space>& codec() { return codec_; }
  // Error-feedback state: one stream per destination of `ranks` (slot r, this
  // rank's own block, stays empty).
  void collect_remainders(std::size_t ranks, std::vector<std::vector<Scalar>*>& out) {
    codec_.collect_remainders(ranks, out);
  }

 private:
  MessageCodec<Scalar, Space> codec_;
  std::string label_;
  Bytes send_, recv_;
};

template <class Scalar, class Space = DefaultSpace>
class CompressedAllReduce {
 public:
  using M = Matrix<Scalar, Space>;

  CompressedAllReduce(const CompressionConfig& c, const std::string& label,
                      const Space& space = Space())
      : scatter_(c, label + ".reduce_scatter", space),
        gather_(c, false, label + ".allgather", space),
        label_(label),
        space_(space) {}

  // out (B x n) = sum over ranks of partial (B x n); n divisible by p.
  void run(Communicator& comm, const M& partial, const M& out) {
    const std::size_t c = shard_columns(comm, partial);
    if (shard_.extent(0) != partial.extent(0) || shard_.extent(1) != c)
      shard_ = M(Kokkos::view_alloc(space_, label_ + ".shard"), partial.extent(0), c);
    scatter_.run(comm, partial, shard_);
    gather_.start(comm, shard_, out);
    gather_.finish();
  }

  CompressedReduceScatter<Scalar, Space>& reduce_scatter() { return scatter_; }
  CompressedAllGather<Scalar, Space>& allgather() { return gather_; }
  void collect_remainders(std::size_t ranks, std::vector<std::vector<Scalar>*>& out) {
    scatter_.collect_remainders(ranks, out);
    gather_.collect_remainders(out);
  }

 private:
  std::size_t shard_columns(Communicator& comm, const M& partial) const {
    const std::size_t n = partial.extent(1), p = std::size_t(comm.size());
    if (n % p != 0)
      throw ShapeError(label_ + ": " + std::to_string(n) + " features do not split over " +
                       std::to_string(p) + " ranks");
    return n / p;
  }

  CompressedReduceScatter<Scalar, Space> scatter_;
  CompressedAllGather<Scalar, Space> gather_;
  std::string label_;
  Space space_;
  M shard_;
};

}  // namespace phantom
