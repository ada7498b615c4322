// The cost model's view of a phantom-train deck: the network, batch,
// optimizer and precision (the rank count is the caller's).
#pragma once

#include "phantom/cost/network_costs.hpp"
#include "phantom/io/deck.hpp"

namespace phantom::cost {

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
  return in;
}

}  // namespace phantom::cost
