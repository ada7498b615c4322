// Views Phantom computes on.
//
// Batch layout: activations and their gradients are (batch x features) in
// LayoutLeft, so each feature's values over the batch are contiguous. A block of
// features (one rank's shard, one all-gather block) is then a contiguous column
// range, itself a plain LayoutLeft view, and the blocks that collectives gather
// or scatter line up end to end without packing. Weights are (out x in), also
// LayoutLeft: z = x W^T. Kokkos Kernels 3.4 sends gemm to the vendor BLAS only
// when all three operands share LayoutLeft (or all LayoutRight) in HostSpace.
#pragma once

#include <Kokkos_Core.hpp>

namespace phantom {

using DefaultSpace = Kokkos::DefaultExecutionSpace;

// (rows x cols) column-major matrix on Space's memory.
template <class Scalar, class Space = DefaultSpace>
using Matrix = Kokkos::View<Scalar**, Kokkos::LayoutLeft, Space>;

template <class Scalar, class Space = DefaultSpace>
using Vector = Kokkos::View<Scalar*, Kokkos::LayoutLeft, Space>;

// Columns [begin, end) of a matrix: still LayoutLeft, so still a BLAS operand.
template <class View>
auto columns(const View& m, std::size_t begin, std::size_t end) {
  return Kokkos::subview(m, Kokkos::ALL, Kokkos::make_pair(begin, end));
}

}  // namespace phantom
