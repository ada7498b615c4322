// Every collective, blocking and non-blocking, against references each rank
// derives from rank indices; float and double; direct and staged; with views
// in the memory of every execution space Kokkos enables, each collective
// ordered with an instance of it. Checks are non-fatal (EXPECT): a rank that
// left a test early would leave the others waiting in a collective.
#include <gtest/gtest.h>

#include "comm_test_helpers.hpp"

namespace {

using phantom::Communicator;
using namespace phantom_test;

template <class Space>
class Collectives : public ::testing::Test {};
TYPED_TEST_SUITE(Collectives, ExecutionSpaces, SpaceName);

template <class E, class S, class R>
void allgather(Communicator& c, bool nonblocking, const E& space, const S& s, const R& r) {
  if (!nonblocking) return c.allgather(space, s, r);
  phantom::Request request = c.iallgather(space, s, r);
  busy_work(space);
  request.wait();
  EXPECT_TRUE(request.done());
}

template <class E, class S, class R>
void reduce_scatter(Communicator& c, bool nonblocking, const E& space, const S& s, const R& r) {
  if (!nonblocking) return c.reduce_scatter(space, s, r);
  phantom::Request request = c.ireduce_scatter(space, s, r);
  busy_work(space);
  request.wait();
}

template <class E, class S, class R>
void allreduce(Communicator& c, bool nonblocking, const E& space, const S& s, const R& r) {
  if (!nonblocking) return c.allreduce(space, s, r);
  phantom::Request request = c.iallreduce(space, s, r);
  busy_work(space);
  request.wait();
}

// (batch x features) blocks: rank s's k columns land in columns [s k, (s+1) k).
TYPED_TEST(Collectives, AllgatherPutsRankBlocksSideBySide) {
  const TypeParam space;
  const std::size_t B = 5, k = 3;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      for (bool nonblocking : {false, true}) {
        SCOPED_TRACE(name + (nonblocking ? " iallgather" : " allgather"));
        const int p = comm->size(), r = comm->rank();
        phantom::Matrix<T, TypeParam> send("send", B, k), recv("recv", B, p * k);
        fill(send, [&](std::size_t i) { return value(r, i); });
        fill(recv, [](std::size_t) { return -1.0; });
        allgather(*comm, nonblocking, space, send, recv);
        // Column s k + c, row b of recv is element (b, c) of rank s's send.
        std::vector<double> expected(B * p * k);
        for (int s = 0; s < p; ++s)
          for (std::size_t c = 0; c < k; ++c)
            for (std::size_t b = 0; b < B; ++b) expected[b + B * (s * k + c)] = value(s, b + B * c);
        EXPECT_EQ(host_values(recv), expected);
      }
    }
  });
}

TYPED_TEST(Collectives, ReduceScatterSumsBlockOfThisRank) {
  const TypeParam space;
  const std::size_t c = 7;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      for (bool nonblocking : {false, true}) {
        SCOPED_TRACE(name + (nonblocking ? " ireduce_scatter" : " reduce_scatter"));
        const int p = comm->size(), r = comm->rank();
        phantom::Vector<T, TypeParam> send("send", p * c), recv("recv", c);
        fill(send, [&](std::size_t i) { return value(r, i); });
        reduce_scatter(*comm, nonblocking, space, send, recv);
        std::vector<double> expected(c, 0.0);
        for (std::size_t i = 0; i < c; ++i)
          for (int s = 0; s < p; ++s) expected[i] += value(s, r * c + i);
        EXPECT_EQ(host_values(recv), expected);
      }
    }
  });
}

TYPED_TEST(Collectives, AllreduceSumsOverRanks) {
  const TypeParam space;
  const std::size_t B = 4, n = 6;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      for (bool nonblocking : {false, true}) {
        for (bool in_place : {false, true}) {
          SCOPED_TRACE(name + (nonblocking ? " iallreduce" : " allreduce") +
                       (in_place ? " in place" : ""));
          const int p = comm->size(), r = comm->rank();
          phantom::Matrix<T, TypeParam> send("send", B, n), out("out", B, n);
          fill(send, [&](std::size_t i) { return value(r, i); });
          phantom::Matrix<T, TypeParam> recv = in_place ? send : out;
          allreduce(*comm, nonblocking, space, send, recv);
          std::vector<double> expected(B * n, 0.0);
          for (std::size_t i = 0; i < B * n; ++i)
            for (int s = 0; s < p; ++s) expected[i] += value(s, i);
          EXPECT_EQ(host_values(recv), expected);
        }
      }
    }
  });
}

TYPED_TEST(Collectives, AlltoallSwapsBlocks) {
  const TypeParam space;
  const std::size_t c = 4;
  // Block d of rank r's send holds code(r, d, i); rank d receives it as its block r.
  auto code = [](int from, int to, std::size_t i) { return 100.0 * from + 10.0 * to + double(i); };
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      SCOPED_TRACE(name);
      const int p = comm->size(), r = comm->rank();
      phantom::Vector<T, TypeParam> send("send", p * c), recv("recv", p * c);
      fill(send, [&](std::size_t j) { return code(r, int(j / c), j % c); });
      comm->alltoall(space, send, recv);
      std::vector<double> expected(p * c);
      for (int s = 0; s < p; ++s)
        for (std::size_t i = 0; i < c; ++i) expected[s * c + i] = code(s, r, i);
      EXPECT_EQ(host_values(recv), expected);
    }
  });
}

TYPED_TEST(Collectives, BroadcastFromEveryRoot) {
  const TypeParam space;
  const std::size_t n = 9;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      const int p = comm->size(), r = comm->rank();
      for (int root = 0; root < p; ++root) {
        SCOPED_TRACE(name + " root " + std::to_string(root));
        phantom::Vector<T, TypeParam> buffer("buffer", n);
        fill(buffer, [&](std::size_t i) { return r == root ? value(root, i) : 0.0; });
        comm->broadcast(space, buffer, root);
        std::vector<double> expected(n);
        for (std::size_t i = 0; i < n; ++i) expected[i] = value(root, i);
        EXPECT_EQ(host_values(buffer), expected);
      }
      comm->barrier();
    }
  });
}

// A request that is never waited for completes in its destructor; a moved one
// carries the operation with it.
TYPED_TEST(Collectives, RequestsCompleteWhenDroppedOrMoved) {
  const TypeParam space;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    for (auto& [name, comm] : world_communicators()) {
      SCOPED_TRACE(name);
      const int p = comm->size(), r = comm->rank();
      phantom::Vector<T, TypeParam> send("send", 2), recv("recv", 2 * p);
      fill(send, [&](std::size_t i) { return value(r, i); });
      { auto dropped = comm->iallgather(space, send, recv); }
      auto got = host_values(recv);
      for (int s = 0; s < p; ++s) EXPECT_EQ(got[2 * s + 1], value(s, 1));

      phantom::Vector<T, TypeParam> sum("sum", 2);
      phantom::Request moved;
      EXPECT_TRUE(moved.done());
      moved = comm->iallreduce(space, send, sum);
      phantom::Request holder(std::move(moved));
      EXPECT_TRUE(moved.done());
      while (!holder.test()) {
      }
      EXPECT_TRUE(holder.done());
      got = host_values(sum);
      double expected = 0;
      for (int s = 0; s < p; ++s) expected += value(s, 0);
      EXPECT_EQ(got[0], expected);
    }
  });
}

// Which backend the world is: no views, no space.
TEST(World, IsMpiWhenMpiIsInitialized) {
  auto world = phantom::make_world_communicator();
  int size = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  EXPECT_STREQ(world->backend(), "mpi");
  EXPECT_EQ(world->size(), size);
  EXPECT_EQ(world->rank(), rank);
}

}  // namespace
