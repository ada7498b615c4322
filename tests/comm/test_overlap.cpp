// gemm_overlapping (comm/overlap.hpp) with a collective in flight: gemm's C
// up to float rounding, and bitwise the same C as with no collective in
// flight (the result must not depend on when the collective completes), for
// every transpose combination, with a beta that accumulates, on shapes it
// splits into column blocks and one it does not; and the collective
// completes with the right data.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/comm/overlap.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace {

using M = phantom::Matrix<float>;

std::vector<float> host(const M& m) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), m);
  return std::vector<float>(h.data(), h.data() + h.size());
}

TEST(GemmOverlapping, SameResultAsGemmWhileAGatherIsInFlight) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  const int p = comm.size(), r = comm.rank();
  const phantom::DefaultSpace space;
  // (rows, cols, inner) of C: split into 8 and 2 column blocks, and not at all.
  for (auto [rows, cols, inner] : {std::tuple<std::size_t, std::size_t, std::size_t>{96, 520, 70},
                                   {33, 130, 17},
                                   {40, 100, 9}}) {
    for (const char* ta : {"N", "T"}) {
      for (const char* tb : {"N", "T"}) {
        const bool a_t = ta[0] == 'T', b_t = tb[0] == 'T';
        M A("A", a_t ? inner : rows, a_t ? rows : inner);
        M B("B", b_t ? cols : inner, b_t ? inner : cols);
        M C0("C0", rows, cols), C1("C1", rows, cols), C2("C2", rows, cols);
        phantom::fill_uniform(space, A, 3, 0, 1.0);
        phantom::fill_uniform(space, B, 3, 1, 1.0);
        phantom::fill_uniform(space, C0, 3, 2, 1.0);
        Kokkos::deep_copy(C1, C0);
        Kokkos::deep_copy(C2, C0);
        phantom::gemm(space, ta, tb, 0.5f, A, B, 0.25f, C0);
        phantom::Request none;
        phantom::gemm_overlapping(space, ta, tb, 0.5f, A, B, 0.25f, C2, none);

        M mine("mine", 8, 4), all("all", 8, 4 * std::size_t(p));
        Kokkos::deep_copy(mine, float(r + 1));
        auto gather = comm.iallgather(space, mine, all);
        phantom::gemm_overlapping(space, ta, tb, 0.5f, A, B, 0.25f, C1, gather);
        gather.wait();
        const auto c0 = host(C0), c1 = host(C1);
        for (std::size_t i = 0; i < c0.size(); ++i)
          ASSERT_NEAR(c0[i], c1[i], 1e-6f * float(inner) * (1 + std::abs(c0[i])))
              << ta << tb << " " << rows << " x " << cols << ", element " << i;
        EXPECT_EQ(c1, host(C2)) << ta << tb << " " << rows << " x " << cols;
        const auto gathered = host(all);
        for (std::size_t i = 0; i < gathered.size(); ++i)
          ASSERT_EQ(gathered[i], float(i / 32 + 1)) << "element " << i;
      }
    }
  }
}

TEST(GemmOverlapping, ShapeMismatchIsAnError) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  M A("A", 4, 3), B("B", 4, 200), C("C", 4, 200);
  phantom::Request none;
  EXPECT_THROW(
      phantom::gemm_overlapping(phantom::DefaultSpace(), "N", "N", 1.0f, A, B, 0.0f, C, none),
      phantom::ShapeError);
}

}  // namespace
