// The parallel strategies of a distributed network (model/distributed_ffn.hpp has
// what each one builds). Kept apart so the cost model and the planner can name
// strategies without Kokkos.
#pragma once

#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

enum class Strategy { dense, pp, tp, megatron };

inline const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::dense: return "dense";
    case Strategy::pp: return "pp";
    case Strategy::tp: return "tp";
    case Strategy::megatron: return "megatron";
  }
  return "?";
}

inline Strategy parse_strategy(const std::string& name) {
  if (name == "dense") return Strategy::dense;
  if (name == "pp") return Strategy::pp;
  if (name == "tp") return Strategy::tp;
  if (name == "megatron") return Strategy::megatron;
  throw InvalidArgument("unknown strategy '" + name + "' (allowed: dense, pp, tp, megatron)");
}

}  // namespace phantom
