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

// Columns [c0, c1) of C = alpha op(A) op(B) + beta C by direct calls of the
// host BLAS that Kokkos Kernels itself calls, on a host space: with several
// threads one block of those columns per thread, each a single-threaded call
// (OpenMP BLAS libraries run serially inside a parallel region). A threaded
// BLAS splits the skinny products of a layer (batch x width x width) less
// well: with Debian's OpenMP OpenBLAS on 2 cores, (128 x 1024) x (1024 x
// 1024) reached 71-94 GFLOP/s threaded and 112-142 split this way. The BLAS
// is called directly, not through KokkosBlas::gemm, whose profiling regions
// must not be pushed from worker threads, and because a block of rows of B
// (op_b = T) is no LayoutLeft view. Each element of C is still computed by
// one call over the whole inner dimension. Returns false where it does not
// apply (a device, no host BLAS, not column-major).
template <class ExecSpace, class AView, class BView, class CView, class Scalar>
bool host_blas_columns(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
                       const AView& A, const BView& B, Scalar beta, const CView& C,
                       std::size_t inner, std::size_t c0, std::size_t c1) {
#if defined(KOKKOSKERNELS_ENABLE_TPL_BLAS)
  using Layout = Kokkos::LayoutLeft;
  constexpr bool host =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible;
  constexpr bool blas_scalar = std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>;
  constexpr bool column_major = std::is_same_v<typename AView::array_layout, Layout> &&
                                std::is_same_v<typename BView::array_layout, Layout> &&
                                std::is_same_v<typename CView::array_layout, Layout>;
  if constexpr (host && blas_scalar && column_major) {
    const std::size_t threads = std::max<std::size_t>(1, std::size_t(compat::concurrency(space)));
    const char ta = op_a[0], tb = op_b[0];
    const int m = int(C.extent(0)), k = int(inner);
    const int lda = int(A.stride(1)), ldb = int(B.stride(1)), ldc = int(C.stride(1));
    const Scalar* a = A.data();
    const Scalar* b = B.data();
    Scalar* c = C.data();
    const std::size_t chunk = (c1 - c0 + threads - 1) / threads;
    Kokkos::parallel_for("phantom::gemm_split", Kokkos::RangePolicy<ExecSpace>(space, 0, threads),
                         [=](const std::size_t t) {
                           const std::size_t j0 = c0 + t * chunk, j1 = std::min(c1, j0 + chunk);
                           if (j0 >= j1) return;
                           // Columns j0.. of C come from columns (N) or rows (T) j0.. of B.
                           const Scalar* b0 = tb == 'T' ? b + j0 : b + j0 * std::size_t(ldb);
                           KokkosBlas::Impl::HostBlas<Scalar>::gemm(ta, tb, m, int(j1 - j0), k,
                                                                    alpha, a, lda, b0, ldb, beta,
                                                                    c + j0 * std::size_t(ldc), ldc);
                         });
    return true;
  }
#endif
  (void)space, (void)op_a, (void)op_b, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  (void)inner, (void)c0, (void)c1;
  return false;
}

// The whole of C split over the threads of a host space (above), where there
// are several threads and enough work for each: 2^20 multiply-adds.
template <class ExecSpace, class AView, class BView, class CView, class Scalar>
bool split_over_threads(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha,
                        const AView& A, const BView& B, Scalar beta, const CView& C,
                        std::size_t inner) {
  const std::size_t threads = std::size_t(compat::concurrency(space));
  const std::size_t rows = C.extent(0), cols = C.extent(1);
  if (threads < 2 || cols < 2 * threads || rows * cols * inner < (std::size_t(1) << 20) * threads)
    return false;
  return host_blas_columns(space, op_a, op_b, alpha, A, B, beta, C, inner, 0, cols);
}

}  // namespace detail

namespace detail {

// The inner dimension of op(A) op(B) after checking the three shapes agree
// (a ShapeError naming the sizes otherwise).
template <class AView, class BView, class CView>
std::size_t gemm_inner(const char* op_a, const char* op_b, const AView& A, const BView& B,
                       const CView& C) {
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
  return a_cols;
}

}  // namespace detail

// op is "N" (as stored) or "T" (transposed).
template <class ExecSpace, class Scalar, class AView, class BView, class CView>
void gemm(const ExecSpace& space, const char* op_a, const char* op_b, Scalar alpha, const AView& A,
          const BView& B, Scalar beta, const CView& C) {
  const std::size_t inner = detail::gemm_inner(op_a, op_b, A, B, C);
  if (C.extent(0) == 0 || C.extent(1) == 0) return;
  if (inner == 0) {  // empty inner dimension: C = beta * C (BLAS would do the same)
    detail::blas_scale(space, C, beta);
    return;
  }
  if (detail::split_over_threads(space, op_a, op_b, alpha, A, B, beta, C, inner)) return;
  detail::blas_gemm(space, op_a, op_b, alpha, A, B, beta, C);
}

}  // namespace phantom
