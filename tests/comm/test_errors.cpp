// Size mismatches are caught before any call, naming the collective and both
// sizes; errors of the MPI library become phantom::Error with its own text.
// Views in the memory of every execution space Kokkos enables, collectives
// ordered with an instance of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "comm_test_helpers.hpp"

namespace {

using namespace phantom_test;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

template <class F>
std::string shape_error(F&& f) {
  try {
    f();
  } catch (const phantom::ShapeError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no exception";
}

template <class Space>
class Errors : public ::testing::Test {};
TYPED_TEST_SUITE(Errors, ExecutionSpaces, SpaceName);

TYPED_TEST(Errors, SizeMismatchNamesCollectiveAndBothSizes) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  const int p = comm->size();
  const std::string P = std::to_string(p);
  phantom::Vector<double, TypeParam> v3("v3", 3), v5("v5", 5), wrong("wrong", 3 * p + 1);

  std::string m = shape_error([&] { comm->allgather(space, v3, wrong); });
  EXPECT_TRUE(contains(m, "phantom::comm::allgather"));
  EXPECT_TRUE(contains(m, "recv has " + std::to_string(3 * p + 1) + " values"));
  EXPECT_TRUE(contains(m, "needs " + std::to_string(3 * p)));
  EXPECT_TRUE(contains(m, "send (3 values)"));

  m = shape_error([&] { comm->iallgather(space, v3, wrong).wait(); });
  EXPECT_TRUE(contains(m, "phantom::comm::allgather"));
  EXPECT_TRUE(contains(m, std::to_string(3 * p + 1)));

  m = shape_error([&] { comm->reduce_scatter(space, wrong, v3); });
  EXPECT_TRUE(contains(m, "phantom::comm::reduce_scatter"));
  EXPECT_TRUE(contains(m, "send has " + std::to_string(3 * p + 1) + " values"));
  EXPECT_TRUE(contains(m, "recv (3 values)"));

  m = shape_error([&] { comm->iallreduce(space, v3, v5).wait(); });
  EXPECT_TRUE(contains(m, "phantom::comm::allreduce"));
  EXPECT_TRUE(contains(m, "recv has 5 values"));
  EXPECT_TRUE(contains(m, "send (3 values)"));

  m = shape_error([&] { comm->alltoall(space, v3, v5); });
  EXPECT_TRUE(contains(m, "phantom::comm::alltoall"));
  EXPECT_TRUE(contains(m, "recv has 5 values"));

  if (p > 1) {
    phantom::Vector<double, TypeParam> odd("odd", p + 1);
    m = shape_error([&] { comm->alltoall(space, odd, odd); });
    EXPECT_TRUE(contains(m, "not a multiple of " + P));
  }
}

TYPED_TEST(Errors, NonContiguousViewIsRejected) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  phantom::Matrix<float, TypeParam> m("m", 4, 4);
  auto row = Kokkos::subview(m, 1, Kokkos::ALL);  // stride 4
  phantom::Vector<float, TypeParam> out("out", 4);
  const std::string msg = error_message([&] { comm->allreduce(space, row, out); });
  EXPECT_TRUE(contains(msg, "allreduce"));
  EXPECT_TRUE(contains(msg, "not contiguous"));
}

TYPED_TEST(Errors, MpiErrorBecomesPhantomErrorWithItsText) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  phantom::Vector<int, TypeParam> buffer("buffer", 4);
  const int bad_root = comm->size();  // every rank passes the same invalid root
  std::string m;
  try {
    comm->broadcast(space, buffer, bad_root);
  } catch (const phantom::ShapeError&) {
    m = "ShapeError: not an MPI error";
  } catch (const phantom::Error& e) {
    m = e.what();
  }
  EXPECT_TRUE(contains(m, "phantom::comm::broadcast"));
  EXPECT_TRUE(contains(m, "MPI_Bcast failed"));
  EXPECT_TRUE(contains(lower(m), "root"));  // MPI's own text: "MPI_ERR_ROOT: invalid root"
  // The communicator is still usable afterwards.
  comm->barrier();
  phantom::Vector<int, TypeParam> sum("sum", 4);
  Kokkos::deep_copy(buffer, 1);
  comm->allreduce(space, buffer, sum);
  EXPECT_EQ(host_values(sum)[3], double(comm->size()));
}

}  // namespace
