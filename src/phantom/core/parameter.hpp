// A trainable tensor seen flat: its values and its gradient as 1-D views over
// the same contiguous storage as the layer's matrix or vector, so the optimizer
// need not know shapes; rows and cols (1 for a vector) say how to read it back
// (column-major).
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
  std::size_t rows = 0, cols = 0;
};

// Flat view over a contiguous view's storage.
template <class View>
auto flatten(const View& v) {
  using Flat = Kokkos::View<typename View::value_type*, typename View::device_type,
                            Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  return Flat(v.data(), v.size());
}

// The parameter over a contiguous matrix or vector and its gradient.
template <class View>
auto make_parameter(const std::string& name, const View& value, const View& grad) {
  using Scalar = typename View::non_const_value_type;
  using Space = typename View::execution_space;
  const std::size_t cols = View::rank == 2 ? value.extent(1) : 1;
  return Parameter<Scalar, Space>{name, flatten(value), flatten(grad), value.extent(0), cols};
}

template <class Scalar, class Space>
using ParameterList = std::vector<Parameter<Scalar, Space>>;

}  // namespace phantom
