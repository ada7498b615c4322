#include "phantom/comm/single_rank_communicator.hpp"

namespace phantom {

namespace {

class Completed final : public detail::PendingOperation {
 public:
  void wait() override {}
  bool test() override { return true; }
};

// With one rank every collective's result is its input.
void copy(const ConstBuffer& send, const Buffer& recv) {
  detail::copy_bytes(recv, send, recv.bytes());
}

}  // namespace

std::unique_ptr<Communicator> SingleRankCommunicator::split(int, int) {
  return std::make_unique<SingleRankCommunicator>();
}

void SingleRankCommunicator::do_allgather(const ExecutionOrder&, const ConstBuffer& s,
                                          const Buffer& r) {
  copy(s, r);
}
void SingleRankCommunicator::do_reduce_scatter(const ExecutionOrder&, const ConstBuffer& s,
                                               const Buffer& r) {
  copy(s, r);
}
void SingleRankCommunicator::do_allreduce(const ExecutionOrder&, const ConstBuffer& s,
                                          const Buffer& r) {
  copy(s, r);
}
void SingleRankCommunicator::do_alltoall(const ExecutionOrder&, const ConstBuffer& s,
                                         const Buffer& r) {
  copy(s, r);
}

void SingleRankCommunicator::do_broadcast(const ExecutionOrder&, const Buffer&, int root) {
  if (root != 0)
    throw InvalidArgument("phantom::comm::broadcast: root " + std::to_string(root) +
                          " is not a rank of a single-rank communicator");
}

std::unique_ptr<detail::PendingOperation> SingleRankCommunicator::start_allgather(
    const ExecutionOrder&, const ConstBuffer& s, const Buffer& r) {
  copy(s, r);
  return std::make_unique<Completed>();
}
std::unique_ptr<detail::PendingOperation> SingleRankCommunicator::start_reduce_scatter(
    const ExecutionOrder&, const ConstBuffer& s, const Buffer& r) {
  copy(s, r);
  return std::make_unique<Completed>();
}
std::unique_ptr<detail::PendingOperation> SingleRankCommunicator::start_allreduce(
    const ExecutionOrder&, const ConstBuffer& s, const Buffer& r) {
  copy(s, r);
  return std::make_unique<Completed>();
}

}  // namespace phantom
