// Per-collective accounting kept by every communicator (docs/communicators.md).
//
// bytes: the logical bytes this rank receives under ring algorithms, whatever
// algorithm the library really runs, so the figures match the cost model:
//   all-gather of c values per rank            (p-1) c
//   reduce-scatter to c values per rank        (p-1) c
//   all-reduce of c values                     2 (p-1) c / p   (not rounded)
//   all-to-all of c values per destination     (p-1) c
//   broadcast of c values                      c on non-root ranks, 0 on the root
//   barrier                                    0
// each times the size of one value.
// issue_seconds: time inside the call that starts a non-blocking collective.
// wait_seconds: time inside Request::wait()/test(), plus the whole duration of
// blocking collectives (the caller is blocked on communication all that time).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace phantom {

enum class Collective : int {
  allgather,
  reduce_scatter,
  allreduce,
  alltoall,
  broadcast,
  barrier,
};
inline constexpr std::size_t kCollectiveCount = 6;

// "allgather", "reduce_scatter", ...: the names used in messages and profiling regions.
constexpr const char* collective_name(Collective c) {
  constexpr const char* names[kCollectiveCount] = {"allgather", "reduce_scatter", "allreduce",
                                                   "alltoall",  "broadcast",      "barrier"};
  return names[static_cast<int>(c)];
}

struct CollectiveStats {
  std::uint64_t calls = 0;
  double bytes = 0;  // double: all-reduce's 2(p-1)c/p need not be whole
  double issue_seconds = 0;
  double wait_seconds = 0;

  CollectiveStats& operator+=(const CollectiveStats& o) {
    calls += o.calls;
    bytes += o.bytes;
    issue_seconds += o.issue_seconds;
    wait_seconds += o.wait_seconds;
    return *this;
  }
};

class CommStats {
 public:
  CollectiveStats& operator[](Collective c) { return per_[static_cast<int>(c)]; }
  const CollectiveStats& operator[](Collective c) const { return per_[static_cast<int>(c)]; }

  CollectiveStats total() const {
    CollectiveStats sum;
    for (const auto& s : per_) sum += s;
    return sum;
  }
  std::uint64_t total_calls() const { return total().calls; }
  double total_bytes() const { return total().bytes; }
  double total_issue_seconds() const { return total().issue_seconds; }
  double total_wait_seconds() const { return total().wait_seconds; }

 private:
  std::array<CollectiveStats, kCollectiveCount> per_{};
};

// Logical bytes received by one rank of p (see the table above); count is c
// (for all-to-all, the values sent to each destination).
inline double ring_bytes(Collective c, std::size_t count, std::size_t value_size, int p,
                         bool is_root = false) {
  const double cv = double(count) * double(value_size);
  switch (c) {
    case Collective::allgather:
    case Collective::reduce_scatter:
    case Collective::alltoall: return (p - 1) * cv;
    case Collective::allreduce: return 2.0 * (p - 1) * cv / p;
    case Collective::broadcast: return is_root ? 0.0 : cv;
    case Collective::barrier: return 0.0;
  }
  return 0.0;
}

}  // namespace phantom
