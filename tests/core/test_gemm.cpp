// phantom::gemm against a naive triple loop, for every op combination, and its
// shape errors, on every execution space Kokkos enables.
#include <gtest/gtest.h>

#include "backends.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace {

template <class Space>
using Mat = phantom::Matrix<double, Space>;

// Reference: C = op(A) op(B) on the host.
template <class Space>
Mat<Space> naive(bool ta, bool tb, const Mat<Space>& A, const Mat<Space>& B) {
  auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), A);
  auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), B);
  const std::size_t m = ta ? A.extent(1) : A.extent(0), k = ta ? A.extent(0) : A.extent(1);
  const std::size_t n = tb ? B.extent(0) : B.extent(1);
  Mat<Space> C("C", m, n);
  auto c = Kokkos::create_mirror_view(C);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t l = 0; l < k; ++l) s += (ta ? a(l, i) : a(i, l)) * (tb ? b(j, l) : b(l, j));
      c(i, j) = s;
    }
  Kokkos::deep_copy(C, c);
  return C;
}

template <class Space>
class Gemm : public ::testing::Test {};
TYPED_TEST_SUITE(Gemm, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(Gemm, MatchesNaiveForAllOps) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  const std::size_t m = 7, n = 5, k = 3;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      M A("A", ta ? k : m, ta ? m : k), B("B", tb ? n : k, tb ? k : n), C("C", m, n);
      phantom::fill_uniform(space, A, 1, 1, 1.0);
      phantom::fill_uniform(space, B, 1, 2, 1.0);
      phantom::fill_uniform(space, C, 1, 3, 1.0);
      M C0("C0", m, n);
      Kokkos::deep_copy(C0, C);
      phantom::gemm(space, ta ? "T" : "N", tb ? "T" : "N", 2.0, A, B, 0.5, C);
      M ref = naive<TypeParam>(ta, tb, A, B);
      auto c = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), C);
      auto c0 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), C0);
      auto r = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), ref);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
          EXPECT_NEAR(c(i, j), 2.0 * r(i, j) + 0.5 * c0(i, j), 1e-13) << ta << tb;
    }
}

TYPED_TEST(Gemm, ColumnBlocksStayBlasOperands) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  M A("A", 4, 6), B("B", 6, 3), C("C", 4, 3);
  phantom::fill_uniform(space, A, 2, 1, 1.0);
  phantom::fill_uniform(space, B, 2, 2, 1.0);
  // A[:, 2:5] * B[2:5, :] through a column subview of A and a copy of B's rows.
  auto a_block = phantom::columns(A, 2, 5);
  M b_rows("b_rows", 3, 3);
  auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), B);
  auto br = Kokkos::create_mirror_view(b_rows);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) br(i, j) = b(i + 2, j);
  Kokkos::deep_copy(b_rows, br);
  phantom::gemm(space, "N", "N", 1.0, a_block, b_rows, 0.0, C);
  auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), A);
  auto c = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), C);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int l = 2; l < 5; ++l) s += a(i, l) * b(l, j);
      EXPECT_NEAR(c(i, j), s, 1e-13);
    }
}

TYPED_TEST(Gemm, BadShapesNameBothSizes) {
  using M = Mat<TypeParam>;
  const TypeParam space;
  M A("A", 4, 3), B("B", 5, 2), C("C", 4, 2);
  try {
    phantom::gemm(space, "N", "N", 1.0, A, B, 0.0, C);
    FAIL() << "expected ShapeError";
  } catch (const phantom::ShapeError& e) {
    EXPECT_STREQ(e.what(), "gemm(N,N): op(A) columns is 3 but op(B) rows is 5");
  }
  M C_bad("C", 3, 2), B_ok("B", 3, 2);
  EXPECT_THROW(phantom::gemm(space, "N", "N", 1.0, A, B_ok, 0.0, C_bad), phantom::ShapeError);
}

}  // namespace
