// The stream-ordering contract of collectives (execution_order.hpp): a
// collective reads its send buffer only after the caller's execution-space
// instance has been ordered (fenced, on host-progressed backends), and a
// staged result reaches the receive buffer before a blocking call or wait()
// returns.
//  1. Communicator level, every backend CPU builds have: a recording
//     ExecutionOrder and device-like buffers whose MemoryOps log each access
//     (so the MPI backend stages them, as it stages device memory for an MPI
//     that is not GPU-aware). The log must show the fence before the first
//     read of send, for every collective, blocking and non-blocking.
//  2. Layer level: with Kokkos Tools fence callbacks (Kokkos 4; Kokkos 3.4's
//     host fences call no tool), every collective region of a training step
//     of each strategy holds the fence of the layer's instance.
// Removing the fence from Communicator::order_after_producer fails both.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends.hpp"
#include "comm_test_helpers.hpp"
#include "phantom/comm/single_rank_communicator.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace {

using namespace phantom_test;
using phantom::Collective;

std::vector<std::string>* events = nullptr;
void log_event(const std::string& e) {
  if (events) events->push_back(e);
}

class RecordingOrder final : public phantom::ExecutionOrder {
 public:
  void fence(const std::string& reason) const override { log_event("fence " + reason); }
  void* native_stream() const override { return nullptr; }
};

// Memory the communicator can reach only through these copies, like a
// device buffer in an MPI that is not GPU-aware.
void to_host(void* dst, const void* src, std::size_t n) {
  log_event("read");
  std::memcpy(dst, src, n);
}
void from_host(void* dst, const void* src, std::size_t n) {
  log_event("write");
  std::memcpy(dst, src, n);
}
void copy(void* dst, const void* src, std::size_t n) {
  log_event("read");
  log_event("write");
  std::memcpy(dst, src, n);
}
constexpr phantom::MemoryOps kLoggedOps{&to_host, &from_host, &copy};

struct DeviceLike {
  std::vector<double> send, recv;
  phantom::ConstBuffer in() const {
    return {send.data(), send.size(), phantom::DataType::float64, phantom::MemoryKind::device,
            &kLoggedOps};
  }
  phantom::Buffer out() {
    return {recv.data(), recv.size(), phantom::DataType::float64, phantom::MemoryKind::device,
            &kLoggedOps};
  }
};

// Index of the first event starting with prefix, or -1.
long first(const std::vector<std::string>& log, const std::string& prefix) {
  for (std::size_t i = 0; i < log.size(); ++i)
    if (log[i].rfind(prefix, 0) == 0) return long(i);
  return -1;
}

std::string joined(const std::vector<std::string>& log) {
  std::string s;
  for (const auto& e : log) s += "\n  " + e;
  return s;
}

// Runs one collective of kind c on comm with recorded ordering and checks the log.
void check_ordered(phantom::Communicator& comm, Collective c, bool non_blocking) {
  const std::size_t p = std::size_t(comm.size()), n = 4;
  DeviceLike b;
  const bool gather = c == Collective::allgather;
  const bool scatter = c == Collective::reduce_scatter;
  b.send.assign(scatter ? p * n : n, 1.0);
  b.recv.assign(gather ? p * n : n, 0.0);
  RecordingOrder order;
  std::vector<std::string> log;
  events = &log;
  if (non_blocking) {
    phantom::Request r = c == Collective::allgather ? comm.iallgather(order, b.in(), b.out())
                         : c == Collective::reduce_scatter
                             ? comm.ireduce_scatter(order, b.in(), b.out())
                             : comm.iallreduce(order, b.in(), b.out());
    log_event("wait");
    r.wait();
    log_event("returned");
  } else {
    switch (c) {
      case Collective::allgather: comm.allgather(order, b.in(), b.out()); break;
      case Collective::reduce_scatter: comm.reduce_scatter(order, b.in(), b.out()); break;
      case Collective::allreduce: comm.allreduce(order, b.in(), b.out()); break;
      case Collective::alltoall: {
        b.send.assign(p * n, 1.0);
        b.recv.assign(p * n, 0.0);
        comm.alltoall(order, b.in(), b.out());
        break;
      }
      default: comm.broadcast(order, b.out(), 0); break;
    }
    log_event("returned");
  }
  events = nullptr;
  const std::string what = std::string(comm.backend()) + " " + (non_blocking ? "i" : "") +
                           phantom::collective_name(c) + ":" + joined(log);
  const long fence = first(log, "fence phantom::comm::" + std::string(phantom::collective_name(c)));
  const long read = first(log, "read");
  const long write = first(log, "write");
  ASSERT_GE(fence, 0) << "no fence of the caller's instance: " << what;
  if (read >= 0) {
    EXPECT_LT(fence, read) << "send read before the fence: " << what;
  }
  // A single-rank broadcast has nothing to write: the root's data is in place.
  if (c == Collective::broadcast && comm.size() == 1 && std::string(comm.backend()) != "mpi")
    return;
  ASSERT_GE(write, 0) << "the result never reached recv: " << what;
  EXPECT_LT(write, first(log, "returned")) << "result written after the call returned: " << what;
}

TEST(Ordering, CollectivesFenceTheCallersInstanceBeforeReadingSend) {
  std::vector<NamedCommunicator> comms;
#ifdef PHANTOM_HAVE_MPI
  // automatic staging stages device memory for an MPI that is not GPU-aware;
  // always stages everything.
  if (!phantom::MpiCommunicator::library_is_gpu_aware())
    comms.push_back({"mpi", std::make_unique<phantom::MpiCommunicator>(MPI_COMM_WORLD)});
  comms.push_back({"mpi staged", std::make_unique<phantom::MpiCommunicator>(
                                     MPI_COMM_WORLD, phantom::Staging::always)});
#endif
  comms.push_back({"single rank", std::make_unique<phantom::SingleRankCommunicator>()});
  for (auto& named : comms) {
    SCOPED_TRACE(named.name);
    // A single-rank communicator beside an MPI world of several ranks is
    // still a valid p = 1 communicator: run it on every rank alike.
    for (Collective c : {Collective::allgather, Collective::reduce_scatter, Collective::allreduce,
                         Collective::alltoall, Collective::broadcast})
      check_ordered(*named.comm, c, false);
    for (Collective c : {Collective::allgather, Collective::reduce_scatter, Collective::allreduce})
      check_ordered(*named.comm, c, true);
  }
}

// The host order (raw host pointers) has nothing to wait for and fences nothing.
TEST(Ordering, HostOrderIsANoOp) {
  std::vector<std::string> log;
  events = &log;
  phantom::ExecutionOrder::host().fence("x");
  events = nullptr;
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(phantom::ExecutionOrder::host().native_stream(), nullptr);
}

// --- layer level, through Kokkos Tools ----------------------------------------

#if KOKKOS_VERSION >= 40000
std::vector<std::string>* tool_log = nullptr;
void on_push(const char* name) {
  if (tool_log) tool_log->push_back(std::string("push ") + name);
}
void on_pop() {
  if (tool_log) tool_log->push_back("pop");
}
void on_fence(const char* name, const std::uint32_t, std::uint64_t*) {
  if (tool_log) tool_log->push_back(std::string("fence ") + name);
}
#endif

template <class Space>
class LayerOrdering : public ::testing::Test {};
TYPED_TEST_SUITE(LayerOrdering, ExecutionSpaces, SpaceName);

TYPED_TEST(LayerOrdering, EveryCollectiveOfAStepIsOrderedAfterTheLayersInstance) {
#if KOKKOS_VERSION < 40000
  GTEST_SKIP() << "Kokkos " << KOKKOS_VERSION
               << ": host execution spaces call no Kokkos Tools fence callback before Kokkos 4";
#else
  using Space = TypeParam;
  auto comm = phantom::make_world_communicator();
  for (phantom::Strategy s :
       {phantom::Strategy::pp, phantom::Strategy::tp, phantom::Strategy::megatron}) {
    SCOPED_TRACE(phantom::to_string(s));
    phantom::NetworkConfig config;
    config.shape = {5, 12, 2, 3};
    config.strategy = s;
    config.ghost = 2;
    const Space space;
    phantom::DistributedFFN<double, Space> net(*comm, config, space);
    net.initialize(1);
    phantom::Optimizer<double, Space> opt(phantom::OptimizerConfig{}, space);
    phantom::Matrix<double, Space> x("x", 4, 5), t("t", 4, 3);
    phantom::fill_uniform(space, x, 3, 1, 1.0);
    phantom::fill_uniform(space, t, 3, 2, 1.0);
    std::vector<std::string> log;
    tool_log = &log;
    Kokkos::Tools::Experimental::set_push_region_callback(on_push);
    Kokkos::Tools::Experimental::set_pop_region_callback(on_pop);
    Kokkos::Tools::Experimental::set_begin_fence_callback(on_fence);
    net.train_step(x, t, phantom::Loss::mse, opt);
    Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
    Kokkos::Tools::Experimental::set_pop_region_callback(nullptr);
    Kokkos::Tools::Experimental::set_begin_fence_callback(nullptr);
    tool_log = nullptr;
    // Every region in which a collective is issued (blocking, or ::issue)
    // must hold the fence of the caller's instance, named after it.
    int collectives = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const std::string prefix = "push phantom::comm::";
      if (log[i].rfind(prefix, 0) != 0 || log[i].find("::wait") != std::string::npos) continue;
      std::string name = log[i].substr(5);
      if (name.size() > 7 && name.compare(name.size() - 7, 7, "::issue") == 0)
        name.resize(name.size() - 7);
      ++collectives;
      bool fenced = false;
      int depth = 0;
      for (std::size_t j = i + 1; j < log.size(); ++j) {
        if (log[j] == "pop" && depth-- == 0) break;
        if (log[j].rfind("push", 0) == 0) ++depth;
        if (log[j] == "fence " + name + ": wait for the producer of the send buffer") fenced = true;
      }
      EXPECT_TRUE(fenced) << log[i] << " without a fence of the layer's instance";
    }
    EXPECT_GT(collectives, 0) << "no collective seen";  // the output layer's all-reduce at least
  }
#endif
}

}  // namespace
