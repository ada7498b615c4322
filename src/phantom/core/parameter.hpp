// A trainable tensor seen flat: its values and its gradient as 1-D views over
// the same contiguous storage as the layer's matrix or vector, so the optimizer
// need not know shapes; rows and cols (1 for a vector) say how to read it back
// (column-major).
#pragma once

#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

namespace phantom {

// Where a rank's block of a parameter sits in the global tensor that a
// checkpoint stores (docs/checkpoint.md): the global dataset's dimensions
// (row-major, as HDF5 and h5py see them), this rank's block in it, and how the
// rank's column-major (rows x cols) storage maps onto that block.
struct Placement {
  enum class Order {
    transpose,   // block is the local matrix in row-major order (vectors: as is)
    decompress,  // pp decompression: local (m x (p-1)k) -> block [1][p][m][k], s = r zero
  };
  std::vector<std::size_t> dims, start, count;
  bool replicated = false;  // every rank holds the whole tensor; rank 0 writes it
  Order order = Order::transpose;
  std::size_t rank = 0;  // decompress: this rank (its own block is zero)
};

template <class Scalar, class Space>
struct Parameter {
  using Flat = Kokkos::View<Scalar*, Space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  std::string name;  // e.g. "layer_001.weight"
  Flat value;
  Flat grad;
  std::size_t rows = 0, cols = 0;
  Placement placement;  // filled by the layer; default: the whole tensor, unsplit
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
  const std::size_t rows = value.extent(0), cols = View::rank == 2 ? value.extent(1) : 1;
  Placement whole;
  whole.dims =
      View::rank == 2 ? std::vector<std::size_t>{rows, cols} : std::vector<std::size_t>{rows};
  whole.start.assign(whole.dims.size(), 0);
  whole.count = whole.dims;
  return Parameter<Scalar, Space>{name, flatten(value), flatten(grad), rows, cols, whole};
}

// The same parameter placed elsewhere in the global tensor.
template <class Scalar, class Space>
Parameter<Scalar, Space> placed(Parameter<Scalar, Space> p, Placement where) {
  p.placement = std::move(where);
  return p;
}

// Placement of a (rows x cols) block at (row0, col0) of a global (R x C) matrix.
inline Placement matrix_block(std::size_t R, std::size_t C, std::size_t row0, std::size_t col0,
                              std::size_t rows, std::size_t cols) {
  return {{R, C}, {row0, col0}, {rows, cols}};
}
// Placement of n elements at offset of a global vector of N.
inline Placement vector_block(std::size_t N, std::size_t offset, std::size_t n) {
  return {{N}, {offset}, {n}};
}
// A tensor every rank holds whole.
inline Placement replicated(std::vector<std::size_t> dims) {
  Placement p{dims, std::vector<std::size_t>(dims.size(), 0), dims};
  p.replicated = true;
  return p;
}

template <class Scalar, class Space>
using ParameterList = std::vector<Parameter<Scalar, Space>>;

}  // namespace phantom
