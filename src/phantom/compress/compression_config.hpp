// Which activation compressor the tensor-parallel strategies apply to their
// messages (docs/compression.md), and the exact size of a compressed message.
// Pure C++ without Kokkos, so a cost model can include it alone.
//
// A message is one (rows x cols) block of a (batch x features) matrix: rows =
// batch B, cols = features. Sizes in bytes, s = sizeof(Scalar):
//   none       rows cols s
//   int8/4/2   cols (ceil(rows bits / 8) + s)   codes packed per column + one scale per column
//   fp16/bf16  2 rows cols
//   topk       K (s + 4), K = topk_count(fraction, rows cols)   values + int32 indices
//   ae         rows ae_dim s                    the code the encoder makes
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

enum class CompressionMethod { none, int8, int4, int2, fp16, bf16, topk, ae };
// Which messages a compressing layer compresses: its forward activations, its
// backward gradients, or both.
enum class CompressedMessages { forward, backward, both };

inline const char* to_string(CompressionMethod m) {
  switch (m) {
    case CompressionMethod::none: return "none";
    case CompressionMethod::int8: return "int8";
    case CompressionMethod::int4: return "int4";
    case CompressionMethod::int2: return "int2";
    case CompressionMethod::fp16: return "fp16";
    case CompressionMethod::bf16: return "bf16";
    case CompressionMethod::topk: return "topk";
    case CompressionMethod::ae: return "ae";
  }
  return "?";
}

inline CompressionMethod parse_compression_method(const std::string& name) {
  for (auto m : {CompressionMethod::none, CompressionMethod::int8, CompressionMethod::int4,
                 CompressionMethod::int2, CompressionMethod::fp16, CompressionMethod::bf16,
                 CompressionMethod::topk, CompressionMethod::ae})
    if (name == to_string(m)) return m;
  throw InvalidArgument("unknown compression method '" + name +
                        "' (allowed: none, int8, int4, int2, fp16, bf16, topk, ae)");
}

inline const char* to_string(CompressedMessages m) {
  switch (m) {
    case CompressedMessages::forward: return "forward";
    case CompressedMessages::backward: return "backward";
    case CompressedMessages::both: return "both";
  }
  return "?";
}

inline CompressedMessages parse_compressed_messages(const std::string& name) {
  if (name == "forward") return CompressedMessages::forward;
  if (name == "backward") return CompressedMessages::backward;
  if (name == "both") return CompressedMessages::both;
  throw InvalidArgument("unknown compressed messages '" + name +
                        "' (allowed: forward, backward, both)");
}

struct CompressionConfig {
  CompressionMethod method = CompressionMethod::none;
  double topk_fraction = 0.1;   // topk: K = topk_count(fraction, values of the message)
  bool error_feedback = false;  // topk: the dropped remainder joins the next message
  std::size_t ae_dim = 64;      // ae: code width e
  CompressedMessages messages = CompressedMessages::both;
  std::size_t first_layer = 1;  // hidden layers l >= first_layer compress (1 = all)

  bool enabled() const { return method != CompressionMethod::none; }
  // Whether hidden layer `layer` compresses its forward (or backward) message.
  bool applies(std::size_t layer, bool forward) const {
    if (!enabled() || layer < first_layer) return false;
    return messages == CompressedMessages::both ||
           (messages == CompressedMessages::forward) == forward;
  }
};

// Bits per code of a quantizing method; 0 for the others.
inline int quantization_bits(CompressionMethod m) {
  switch (m) {
    case CompressionMethod::int8: return 8;
    case CompressionMethod::int4: return 4;
    case CompressionMethod::int2: return 2;
    default: return 0;
  }
}

// Values TopK keeps of a message of n values: round(fraction n), at least 1 and
// at most n. (fraction 1 keeps all.)
inline std::size_t topk_count(double fraction, std::size_t n) {
  if (n == 0) return 0;
  const double k = std::round(fraction * double(n));
  return std::min(n, std::max<std::size_t>(1, std::size_t(k)));
}

// Bytes of one compressed (rows x cols) message whose values have scalar_size bytes.
inline std::size_t compressed_bytes(const CompressionConfig& c, std::size_t rows, std::size_t cols,
                                    std::size_t scalar_size) {
  switch (c.method) {
    case CompressionMethod::none: return rows * cols * scalar_size;
    case CompressionMethod::int8:
    case CompressionMethod::int4:
    case CompressionMethod::int2:
      return cols * ((rows * std::size_t(quantization_bits(c.method)) + 7) / 8 + scalar_size);
    case CompressionMethod::fp16:
    case CompressionMethod::bf16: return 2 * rows * cols;
    case CompressionMethod::topk:
      return topk_count(c.topk_fraction, rows * cols) * (scalar_size + sizeof(std::int32_t));
    case CompressionMethod::ae: return rows * c.ae_dim * scalar_size;
  }
  return 0;
}

// Logical bytes (docs/communicators.md) one rank receives in each compressed
// collective of compressed_collectives.hpp, p ranks:
// all-gather of (rows x cols) blocks, one per rank: (p-1) compressed blocks.
inline double compressed_allgather_bytes(const CompressionConfig& c, std::size_t rows,
                                         std::size_t cols, std::size_t scalar_size, int p) {
  return double(p - 1) * double(compressed_bytes(c, rows, cols, scalar_size));
}
// Reduce-scatter to (rows x cols) blocks: an all-to-all of (p-1) compressed blocks.
inline double compressed_reduce_scatter_bytes(const CompressionConfig& c, std::size_t rows,
                                              std::size_t cols, std::size_t scalar_size, int p) {
  return compressed_allgather_bytes(c, rows, cols, scalar_size, p);
}
// All-reduce of a (rows x cols) matrix, cols divisible by p: a compressed
// reduce-scatter and a compressed all-gather of (rows x cols/p) blocks; the
// autoencoder all-reduces its (rows x ae_dim) code uncompressed.
inline double compressed_allreduce_bytes(const CompressionConfig& c, std::size_t rows,
                                         std::size_t cols, std::size_t scalar_size, int p) {
  if (c.method == CompressionMethod::none || c.method == CompressionMethod::ae)
    return 2.0 * (p - 1) * double(compressed_bytes(c, rows, cols, scalar_size)) / p;
  return 2.0 * double(p - 1) *
         double(compressed_bytes(c, rows, cols / std::size_t(p), scalar_size));
}

// Throws InvalidArgument unless the settings themselves make sense for a
// hidden width `width` (which strategy may use them is NetworkConfig's check).
inline void validate(const CompressionConfig& c, std::size_t width) {
  if (c.method == CompressionMethod::topk && !(c.topk_fraction > 0 && c.topk_fraction <= 1))
    throw InvalidArgument("compression: topk_fraction must be in (0, 1], got " +
                          std::to_string(c.topk_fraction));
  if (c.method == CompressionMethod::ae && (c.ae_dim < 1 || c.ae_dim > width))
    throw InvalidArgument("compression: ae_dim must be in [1, width = " + std::to_string(width) +
                          "], got " + std::to_string(c.ae_dim));
  if (c.method == CompressionMethod::ae && c.messages != CompressedMessages::forward)
    throw InvalidArgument(
        "compression: method 'ae' compresses forward activations only, set messages = "
        "'forward' (got '" +
        std::string(to_string(c.messages)) +
        "'): an autoencoder on the backward all-reduce would have no loss to train it");
  if (c.error_feedback && c.method != CompressionMethod::topk)
    throw InvalidArgument("compression: error_feedback applies to method 'topk' only, not '" +
                          std::string(to_string(c.method)) + "'");
  if (c.enabled() && c.first_layer < 1)
    throw InvalidArgument("compression: first_layer must be >= 1 (hidden layers count from 1)");
}

}  // namespace phantom
