// The cost model's view of a phantom-train deck: the network, batch,
// optimizer, precision and compression (the rank count is the caller's).
#pragma once

#include <string>
#include <vector>

#include "phantom/cost/network_costs.hpp"
#include "phantom/io/deck.hpp"

namespace phantom::cost {

// The deck's [compression] section (docs/compression.md).
inline CompressionConfig compression_config(const Deck& deck) {
  CompressionConfig c;
  c.method = parse_compression_method(deck.compression.method);
  c.topk_fraction = deck.compression.topk_fraction;
  c.error_feedback = deck.compression.error_feedback;
  c.ae_dim = std::size_t(deck.compression.ae_dim);
  c.messages = parse_compressed_messages(deck.compression.messages);
  c.first_layer = std::size_t(deck.compression.first_layer);
  return c;
}

// The deck's compression with each named method in turn (for sweeps such as
// phantom-cost --compressors int8,topk,ae): the other settings come from the
// deck, except that ae compresses forward messages only (its requirement).
inline std::vector<CompressionConfig> compression_variants(const Deck& deck,
                                                           const std::vector<std::string>& names) {
  std::vector<CompressionConfig> out;
  for (const auto& name : names) {
    CompressionConfig c = compression_config(deck);
    c.method = parse_compression_method(name);
    if (c.method == CompressionMethod::ae) c.messages = CompressedMessages::forward;
    if (c.method != CompressionMethod::topk) c.error_feedback = false;
    out.push_back(c);
  }
  return out;
}

inline CostInput cost_input(const Deck& deck, int ranks = 1) {
  CostInput in;
  in.input_dim = std::size_t(deck.model.input_dim);
  in.width = std::size_t(deck.model.width);
  in.depth = std::size_t(deck.model.depth);
  in.output_dim = std::size_t(deck.model.output_dim);
  in.strategy = parse_strategy(deck.model.strategy);
  in.ghost = std::size_t(deck.model.ghost);
  in.ranks = ranks;
  in.batch = std::size_t(deck.train.batch);
  in.scalar_bytes = deck.train.precision == "double" ? 8 : 4;
  in.optimizer = deck.train.optimizer;
  in.activation = deck.model.activation;
  in.compression = compression_config(deck);
  return in;
}

}  // namespace phantom::cost
