// C = alpha * op(A) * op(B) + beta * C through KokkosBlas::gemm on an
// execution-space instance, with the shapes checked first so a mismatch is a
// ShapeError naming the sizes, not a crash.
#pragma once

#include <KokkosBlas1_scal.hpp>
#include <KokkosBlas3_gemm.hpp>
#include <algorithm>
#include <string>
#include <type_traits>
#if defined(KOKKOSKERNELS_ENABLE_TPL_BLAS)
#include <KokkosBlas_Host_tpl.hpp>
#endif

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

// On a host space with several threads: one block of C's columns per thread,
// each a single-threaded call of the host BLAS that Kokkos Kernels itself
// calls (OpenMP BLAS libraries run serially inside a parallel region). A
// threaded BLAS splits the skinny products of a layer (batch x width x width)
// less well: with Debian's OpenMP OpenBLAS on 2 cores, (128 x 1024) x (1024 x
// 1024) reached 71-94 GFLOP/s threaded and 112-142 split this way. The BLAS is
// called directly, not through KokkosBlas::gemm, whose profiling regions must
// not be pushed from worker threads. Each element of C is still computed by
// one call over the whole inner dimension. Returns false where it does not
// apply (one thread, a device, no host BLAS, small products).
template <class ExecSpace, class AView, class BView, class CView, class Scalar>
bool split_over_threads(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
                        const AView& A, const BView& B, Scalar beta, const CView& C,
                        std::size_t inner) {
#if defined(KOKKOSKERNELS_ENABLE_TPL_BLAS)
  using Layout = Kokkos::LayoutLeft;
  constexpr bool host =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible;
  constexpr bool blas_scalar = std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>;
  constexpr bool column_major = std::is_same_v<typename AView::array_layout, Layout> &&
                                std::is_same_v<typename BView::array_layout, Layout> &&
                                std::is_same_v<typename CView::array_layout, Layout>;
  if constexpr (host && blas_scalar && column_major) {
    const std::size_t threads = std::size_t(compat::concurrency(space));
    const std::size_t rows = C.extent(0), cols = C.extent(1);
    // Enough work per thread to be worth a call: 2^20 multiply-adds.
    if (threads < 2 || cols < 2 * threads || rows * cols * inner < (std::size_t(1) << 20) * threads)
      return false;
    const char ta = op_a[0], tb = op_b[0];
    const int m = int(rows), k = int(inner);
    const int lda = int(A.stride(1)), ldb = int(B.stride(1)), ldc = int(C.stride(1));
    const Scalar* a = A.data();
    const Scalar* b = B.data();
    Scalar* c = C.data();
    const std::size_t chunk = (cols + threads - 1) / threads;
    Kokkos::parallel_for("phantom::gemm_split", Kokkos::RangePolicy<ExecSpace>(space, 0, threads),
                         [=](const std::size_t t) {
                           const std::size_t c0 = t * chunk, c1 = std::min(cols, c0 + chunk);
                           if (c0 >= c1) return;
                           // Columns c0.. of C come from columns (N) or rows (T) c0.. of B.
                           const Scalar* b0 = tb == 'T' ? b + c0 : b + c0 * std::size_t(ldb);
                           KokkosBlas::Impl::HostBlas<Scalar>::gemm(ta, tb, m, int(c1 - c0), k,
                                                                    alpha, a, lda, b0, ldb, beta,
                                                                    c + c0 * std::size_t(ldc), ldc);
                         });
    return true;
  }
#endif
  (void)space, (void)op_a, (void)op_b, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  (void)inner;
  return false;
}

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
  if (detail::split_over_threads(space, op_a, op_b, alpha, A, B, beta, C, a_cols)) return;
  detail::blas_gemm(space, op_a, op_b, alpha, A, B, beta, C);
}

}  // namespace phantom
