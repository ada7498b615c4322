#include "phantom/comm/communicator.hpp"

#include <Kokkos_Core.hpp>
#include <chrono>

#include "phantom/comm/timing.hpp"

namespace phantom {

namespace detail {

void throw_not_contiguous(Collective c, const char* which, const std::string& label) {
  throw InvalidArgument(std::string("phantom::comm::") + collective_name(c) + ": " + which +
                        " view '" + label + "' is not contiguous");
}

}  // namespace detail

namespace {

std::string op_name(Collective c) {
  return std::string("phantom::comm::") + collective_name(c);
}

// "phantom::comm::allgather over 4 ranks: recv has 7 values but needs 8 = 4 x send (2 values)"
[[noreturn]] void size_mismatch(Collective c, int p, const char* got_name, std::size_t got,
                                std::size_t needed, const std::string& because) {
  throw ShapeError(op_name(c) + " over " + std::to_string(p) + " ranks: " + got_name + " has " +
                   std::to_string(got) + " values but needs " + std::to_string(needed) + " = " +
                   because);
}

void require_same_type(Collective c, DataType send, DataType recv) {
  if (send != recv)
    throw InvalidArgument(op_name(c) + ": send holds " + data_type_name(send) + " but recv holds " +
                          data_type_name(recv));
}

void require_summable(Collective c, DataType t) {
  if (t == DataType::byte)
    throw InvalidArgument(op_name(c) + ": cannot sum byte values; use float32, float64 or int32");
}

void require_data(Collective c, const void* data, std::size_t count, const char* which) {
  if (data == nullptr && count > 0)
    throw InvalidArgument(op_name(c) + ": " + which + " is null but has " + std::to_string(count) +
                          " values");
}

// send c values, recv p c values (all-gather); or the reverse (reduce-scatter).
void check_blocks(Collective c, int p, const ConstBuffer& send, const Buffer& recv) {
  require_same_type(c, send.type, recv.type);
  require_data(c, send.data, send.count, "send");
  require_data(c, recv.data, recv.count, "recv");
  const std::size_t np = std::size_t(p);
  if (c == Collective::allgather) {
    if (recv.count != np * send.count)
      size_mismatch(c, p, "recv", recv.count, np * send.count,
                    std::to_string(p) + " x send (" + std::to_string(send.count) + " values)");
  } else if (c == Collective::reduce_scatter) {
    if (send.count != np * recv.count)
      size_mismatch(c, p, "send", send.count, np * recv.count,
                    std::to_string(p) + " x recv (" + std::to_string(recv.count) + " values)");
  } else {  // allreduce, alltoall: equal sizes
    if (recv.count != send.count)
      size_mismatch(c, p, "recv", recv.count, send.count,
                    "send (" + std::to_string(send.count) + " values)");
    if (c == Collective::alltoall && send.count % np != 0)
      throw ShapeError(op_name(c) + " over " + std::to_string(p) + " ranks: send has " +
                       std::to_string(send.count) + " values, not a multiple of " +
                       std::to_string(p) + " equal blocks");
  }
  if (c == Collective::reduce_scatter || c == Collective::allreduce) require_summable(c, send.type);
}

// Values per block c in the byte formulas of comm_stats.hpp.
std::size_t block_count(Collective c, int p, const ConstBuffer& send, const Buffer& recv) {
  switch (c) {
    case Collective::allgather: return send.count;
    case Collective::reduce_scatter: return recv.count;
    case Collective::alltoall: return send.count / std::size_t(p);
    default: return send.count;
  }
}

double logical_bytes(Collective c, int p, const ConstBuffer& send, const Buffer& recv) {
  return ring_bytes(c, block_count(c, p, send, recv), size_of(send.type), p);
}

// Runs a blocking backend call inside its profiling region; all its time is wait time.
template <class F>
void run_blocking(CommStats& stats, Collective c, double bytes, F&& call) {
  Kokkos::Profiling::pushRegion(detail::region_name(c, detail::Phase::blocking));
  const auto t0 = std::chrono::steady_clock::now();
  try {
    call();
  } catch (...) {
    stats[c].wait_seconds += detail::seconds_since(t0);
    Kokkos::Profiling::popRegion();
    throw;
  }
  stats[c].wait_seconds += detail::seconds_since(t0);
  stats[c].calls += 1;
  stats[c].bytes += bytes;
  Kokkos::Profiling::popRegion();
}

template <class F>
Request run_issue(CommStats& stats, Collective c, double bytes, F&& start) {
  Kokkos::Profiling::pushRegion(detail::region_name(c, detail::Phase::issue));
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<detail::PendingOperation> op;
  try {
    op = start();
  } catch (...) {
    stats[c].issue_seconds += detail::seconds_since(t0);
    Kokkos::Profiling::popRegion();
    throw;
  }
  stats[c].issue_seconds += detail::seconds_since(t0);
  stats[c].calls += 1;
  stats[c].bytes += bytes;
  Kokkos::Profiling::popRegion();
  return Request(std::move(op), &stats, c);
}

// Host buffers: nothing to wait for.
class HostOrder final : public ExecutionOrder {
 public:
  void fence(const std::string&) const override {}
  void* native_stream() const override { return nullptr; }
};

}  // namespace

const ExecutionOrder& ExecutionOrder::host() {
  static const HostOrder order;
  return order;
}

void Communicator::order_after_producer(const ExecutionOrder& order, Collective c) {
  order.fence(op_name(c) + ": wait for the producer of the send buffer");
}

// Checks, orders after the caller's instance, runs the backend hook and counts.
void Communicator::run_collective(Collective c, const ExecutionOrder& order,
                                  const ConstBuffer& send, const Buffer& recv, BlockingHook hook) {
  check_blocks(c, size(), send, recv);
  run_blocking(stats_, c, logical_bytes(c, size(), send, recv), [&] {
    order_after_producer(order, c);
    (this->*hook)(order, send, recv);
  });
}

Request Communicator::start_collective(Collective c, const ExecutionOrder& order,
                                       const ConstBuffer& send, const Buffer& recv,
                                       StartHook hook) {
  check_blocks(c, size(), send, recv);
  return run_issue(stats_, c, logical_bytes(c, size(), send, recv), [&] {
    order_after_producer(order, c);
    return (this->*hook)(order, send, recv);
  });
}

void Communicator::allgather(const ExecutionOrder& order, const ConstBuffer& send,
                             const Buffer& recv) {
  run_collective(Collective::allgather, order, send, recv, &Communicator::do_allgather);
}

void Communicator::reduce_scatter(const ExecutionOrder& order, const ConstBuffer& send,
                                  const Buffer& recv) {
  run_collective(Collective::reduce_scatter, order, send, recv, &Communicator::do_reduce_scatter);
}

void Communicator::allreduce(const ExecutionOrder& order, const ConstBuffer& send,
                             const Buffer& recv) {
  run_collective(Collective::allreduce, order, send, recv, &Communicator::do_allreduce);
}

void Communicator::alltoall(const ExecutionOrder& order, const ConstBuffer& send,
                            const Buffer& recv) {
  run_collective(Collective::alltoall, order, send, recv, &Communicator::do_alltoall);
}

void Communicator::broadcast(const ExecutionOrder& order, const Buffer& buffer, int root) {
  // The root is not checked here: the backend reports a bad one in its own words.
  require_data(Collective::broadcast, buffer.data, buffer.count, "buffer");
  const double bytes =
      ring_bytes(Collective::broadcast, buffer.count, size_of(buffer.type), size(), rank() == root);
  run_blocking(stats_, Collective::broadcast, bytes, [&] {
    order_after_producer(order, Collective::broadcast);
    do_broadcast(order, buffer, root);
  });
}

void Communicator::barrier() {
  run_blocking(stats_, Collective::barrier, 0.0, [&] { do_barrier(); });
}

Request Communicator::iallgather(const ExecutionOrder& order, const ConstBuffer& send,
                                 const Buffer& recv) {
  return start_collective(Collective::allgather, order, send, recv, &Communicator::start_allgather);
}

Request Communicator::ireduce_scatter(const ExecutionOrder& order, const ConstBuffer& send,
                                      const Buffer& recv) {
  return start_collective(Collective::reduce_scatter, order, send, recv,
                          &Communicator::start_reduce_scatter);
}

Request Communicator::iallreduce(const ExecutionOrder& order, const ConstBuffer& send,
                                 const Buffer& recv) {
  return start_collective(Collective::allreduce, order, send, recv, &Communicator::start_allreduce);
}

}  // namespace phantom
