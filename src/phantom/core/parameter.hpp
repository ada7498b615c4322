// A trainable tensor seen flat: its values and its gradient as 1-D views over
// the same contiguous storage as the layer's matrices, so the optimizer and the
// checkpoint code need not know shapes.
#pragma once

#include <string>
#include <vector>

#include <Kokkos_Core.hpp>

namespace phantom {

template <class Scalar, class Space>
struct Parameter {
  using Flat = Kokkos::View<Scalar*, Space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  std::string name;  // e.g. "layer_001.weight"
  Flat value;
  Flat grad;
};

// Flat view over a contiguous view's storage.
template <class View>
auto flatten(const View& v) {
  using Flat = Kokkos::View<typename View::value_type*, typename View::device_type,
                            Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  return Flat(v.data(), v.size());
}

template <class Scalar, class Space>
using ParameterList = std::vector<Parameter<Scalar, Space>>;

}  // namespace phantom
