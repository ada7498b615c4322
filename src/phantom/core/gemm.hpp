// C = alpha * op(A) * op(B) + beta * C through KokkosBlas::gemm on an
// execution-space instance, with the shapes checked first so a mismatch is a
// ShapeError naming the sizes, not a crash.
#pragma once

#include <KokkosBlas1_scal.hpp>
#include <KokkosBlas3_gemm.hpp>
#include <string>

#include "phantom/core/error.hpp"
#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

namespace detail {

// Kokkos Kernels gained execution-space arguments in 4.1; before, the call
// runs on the default instance, so it is ordered after the caller's work and
// the caller's later work after it.
#if defined(KOKKOSKERNELS_VERSION) && KOKKOSKERNELS_VERSION >= 40100
template <class ExecSpace, class AView, class BView, class CView, class Scalar>
void blas_gemm(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
               const AView& A, const BView& B, Scalar beta, const CView& C) {
  KokkosBlas::gemm(space, op_a, op_b, alpha, A, B, beta, C);
}
template <class ExecSpace, class CView, class Scalar>
void blas_scale(const ExecSpace& space, const CView& C, Scalar beta) {
  KokkosBlas::scal(space, C, beta, C);
}
#else
template <class ExecSpace, class AView, class BView, class CView, class Scalar>
void blas_gemm(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
               const AView& A, const BView& B, Scalar beta, const CView& C) {
  compat::fence(space, "phantom::gemm: before a gemm on the default instance");
  KokkosBlas::gemm(op_a, op_b, alpha, A, B, beta, C);
  compat::fence(ExecSpace(), "phantom::gemm: after a gemm on the default instance");
}
template <class ExecSpace, class CView, class Scalar>
void blas_scale(const ExecSpace& space, const CView& C, Scalar beta) {
  compat::fence(space, "phantom::gemm: before a scal on the default instance");
  KokkosBlas::scal(C, beta, C);
  compat::fence(ExecSpace(), "phantom::gemm: after a scal on the default instance");
}
#endif

}  // namespace detail

// op is "N" (as stored) or "T" (transposed).
template <class ExecSpace, class Scalar, class AView, class BView, class CView>
void gemm(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha, const AView& A,
          const BView& B, Scalar beta, const CView& C) {
  const bool ta = op_a[0] == 'T';
  const bool tb = op_b[0] == 'T';
  const std::size_t a_rows = ta ? A.extent(1) : A.extent(0);
  const std::size_t a_cols = ta ? A.extent(0) : A.extent(1);
  const std::size_t b_rows = tb ? B.extent(1) : B.extent(0);
  const std::size_t b_cols = tb ? B.extent(0) : B.extent(1);
  if (a_cols != b_rows || C.extent(0) != a_rows || C.extent(1) != b_cols) {
    const std::string what = std::string("gemm(") + op_a + "," + op_b + ")";
    require_equal(a_cols, b_rows, what, "op(A) columns", "op(B) rows");
    require_equal(C.extent(0), a_rows, what, "C rows", "op(A) rows");
    require_equal(C.extent(1), b_cols, what, "C columns", "op(B) columns");
  }
  if (C.extent(0) == 0 || C.extent(1) == 0) return;
  if (a_cols == 0) {  // empty inner dimension: C = beta * C (BLAS would do the same)
    detail::blas_scale(space, C, beta);
    return;
  }
  detail::blas_gemm(space, op_a, op_b, alpha, A, B, beta, C);
}

}  // namespace phantom
