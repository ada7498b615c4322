// What a distributed network is, as plain data: its shape, strategy, ghost
// count, activation and compression, and the rules for building it on p
// ranks. Kokkos-free, so the cost model, the planner and configurations can
// use it; model/distributed_ffn.hpp builds the network it describes.
#pragma once

#include <cstddef>
#include <string>

#include "phantom/compress/compression_config.hpp"
#include "phantom/core/activation_kind.hpp"
#include "phantom/core/error.hpp"
#include "phantom/core/strategy.hpp"

namespace phantom {

struct FFNShape {
  std::size_t input_dim = 0;
  std::size_t width = 0;
  std::size_t depth = 0;  // hidden layers
  std::size_t output_dim = 0;
};

// n / p, or an error naming both when p does not divide n.
inline std::size_t shard_size(std::size_t n, int p, const std::string& what) {
  if (p <= 0 || n % std::size_t(p) != 0)
    throw InvalidArgument(what + " " + std::to_string(n) + " is not divisible by the rank count " +
                          std::to_string(p));
  return n / std::size_t(p);
}

struct NetworkConfig {
  FFNShape shape;
  Strategy strategy = Strategy::pp;
  std::size_t ghost = 16;  // k, pp only
  Activation activation = Activation::relu;
  CompressionConfig compression;  // tp and megatron hidden layers only
};

// Throws InvalidArgument naming the problem if the network cannot be built on p ranks.
inline void validate(const NetworkConfig& c, int p) {
  const auto& s = c.shape;
  if (s.input_dim == 0 || s.width == 0 || s.output_dim == 0)
    throw InvalidArgument("input_dim, width and output_dim must be positive");
  shard_size(s.width, p, "width");
  if (c.strategy == Strategy::dense && p != 1)
    throw InvalidArgument("strategy 'dense' runs on 1 rank only, not " + std::to_string(p));
  if (c.strategy == Strategy::megatron && s.depth % 2 != 0)
    throw InvalidArgument("strategy 'megatron' needs an even depth, got " +
                          std::to_string(s.depth));
  if (c.strategy == Strategy::pp && c.ghost == 0)
    throw InvalidArgument("strategy 'pp' needs ghost >= 1");
  const CompressionConfig& z = c.compression;
  if (!z.enabled()) return;
  const std::string method = to_string(z.method);
  if (c.strategy != Strategy::tp && c.strategy != Strategy::megatron)
    throw InvalidArgument("compression method '" + method +
                          "' applies to strategies 'tp' and 'megatron' only, not '" +
                          to_string(c.strategy) + "'");
  if (z.method == CompressionMethod::ae && c.strategy != Strategy::megatron)
    throw InvalidArgument(
        "compression method 'ae' needs strategy 'megatron': the autoencoder commutes with an "
        "all-reduce, not with tp's all-gather and reduce-scatter");
  validate(z, s.width);
  if (z.first_layer > s.depth)
    throw InvalidArgument("compression first_layer " + std::to_string(z.first_layer) +
                          " is past the last hidden layer (depth " + std::to_string(s.depth) +
                          "): nothing would be compressed");
}

}  // namespace phantom
