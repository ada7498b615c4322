// gemm_overlapping: C = alpha op(A) op(B) + beta C while a non-blocking
// collective is in flight, computed in blocks of C's columns with a
// Request::test() between blocks. MPI libraries that progress non-blocking
// collectives only inside MPI calls (Open MPI 4.1's libnbc moves a schedule
// on when some MPI call runs) would otherwise leave the collective to wait(),
// hiding nothing. Each element of C is computed by one BLAS call over the
// whole inner dimension, as in gemm(), but OpenBLAS rounds a block's
// elements differently from one call's (about 8% of them differ in the last
// bits), so the result is gemm()'s up to float rounding. The blocks are the
// same whether or not the request is still in flight: the result does not
// depend on when the collective completes (tests/comm/test_overlap.cpp). Where the host BLAS cannot
// be called directly (GPUs: their collectives progress on their own stream), and for products too
// small to split, it is gemm().
#pragma once

#include <algorithm>

#include "phantom/comm/request.hpp"
#include "phantom/core/gemm.hpp"

namespace phantom {

// Blocks of at least 64 columns of C, at most 8: a test() costs about a
// microsecond, a block of a layer's GEMM about a millisecond.
template <class ExecSpace, class Scalar, class AView, class BView, class CView>
void gemm_overlapping(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
                      const AView& A, const BView& B, Scalar beta, const CView& C,
                      Request& in_flight) {
  const std::size_t inner = detail::gemm_inner(op_a, op_b, A, B, C);
  const std::size_t cols = C.extent(1);
  const std::size_t blocks = std::min<std::size_t>(8, cols / 64);
  if (blocks < 2 || C.extent(0) == 0 || inner == 0) {
    gemm(space, op_a, op_b, alpha, A, B, beta, C);
    return;
  }
  const std::size_t width = (cols + blocks - 1) / blocks;
  for (std::size_t c0 = 0; c0 < cols; c0 += width) {
    const std::size_t c1 = std::min(cols, c0 + width);
    if (!detail::host_blas_columns(space, op_a, op_b, alpha, A, B, beta, C, inner, c0, c1)) {
      gemm(space, op_a, op_b, alpha, A, B, beta, C);  // no direct BLAS here: one call
      return;
    }
    if (c1 < cols && !in_flight.done()) in_flight.test();
  }
}

}  // namespace phantom
