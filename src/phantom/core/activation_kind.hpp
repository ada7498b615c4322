// The activations a layer can apply, by name (activation.hpp has the kernels).
// Kokkos-free, so configurations and the cost model can name them.
#pragma once

#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

enum class Activation { identity, relu, gelu, tanh };

inline const char* to_string(Activation a) {
  switch (a) {
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::tanh: return "tanh";
  }
  return "?";
}

inline Activation parse_activation(const std::string& name) {
  if (name == "identity") return Activation::identity;
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "tanh") return Activation::tanh;
  throw InvalidArgument("unknown activation '" + name + "' (allowed: identity, relu, gelu, tanh)");
}

}  // namespace phantom
