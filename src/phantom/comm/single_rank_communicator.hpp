// The p = 1 communicator: no communication at all. Every collective is a copy
// of send into recv (nothing when they are the same memory), broadcast does
// nothing, non-blocking forms complete at once. Counted bytes are zero, as the
// formulas give for p = 1.
#pragma once

#include "phantom/comm/communicator.hpp"

namespace phantom {

class SingleRankCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "single-rank"; }
  std::unique_ptr<Communicator> split(int color, int key) override;

 protected:
  void do_allgather(const ExecutionOrder& order, const ConstBuffer& send,
                    const Buffer& recv) override;
  void do_reduce_scatter(const ExecutionOrder& order, const ConstBuffer& send,
                         const Buffer& recv) override;
  void do_allreduce(const ExecutionOrder& order, const ConstBuffer& send,
                    const Buffer& recv) override;
  void do_alltoall(const ExecutionOrder& order, const ConstBuffer& send,
                   const Buffer& recv) override;
  void do_broadcast(const ExecutionOrder& order, const Buffer& buffer, int root) override;
  void do_barrier() override {}
  std::unique_ptr<detail::PendingOperation> start_allgather(const ExecutionOrder& order,
                                                            const ConstBuffer& send,
                                                            const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_reduce_scatter(const ExecutionOrder& order,
                                                                 const ConstBuffer& send,
                                                                 const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_allreduce(const ExecutionOrder& order,
                                                            const ConstBuffer& send,
                                                            const Buffer& recv) override;
};

}  // namespace phantom
