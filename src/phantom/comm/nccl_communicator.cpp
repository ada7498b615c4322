// The only translation unit that sees cuda_runtime.h and nccl.h.
#include "phantom/comm/nccl_communicator.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

namespace phantom {

namespace {

std::string op_name(Collective c) {
  return std::string("phantom::comm::") + collective_name(c);
}

void check_cuda(cudaError_t e, const std::string& op, const char* call) {
  if (e != cudaSuccess) throw Error(op + ": " + call + " failed: " + cudaGetErrorString(e));
}

void check_nccl(ncclResult_t r, const std::string& op, const char* call, ncclComm_t comm) {
  if (r == ncclSuccess) return;
  std::string text = ncclGetErrorString(r);
  const char* last = comm ? ncclGetLastError(comm) : nullptr;
  if (last && *last) text += std::string(" (") + last + ")";
  throw Error(op + ": " + call + " failed: " + text);
}

ncclDataType_t nccl_type(DataType t) {
  switch (t) {
    case DataType::float32: return ncclFloat32;
    case DataType::float64: return ncclFloat64;
    case DataType::int32: return ncclInt32;
    case DataType::byte: return ncclUint8;
  }
  return ncclUint8;
}

void require_device(Collective c, MemoryKind memory, const char* which) {
  if (memory != MemoryKind::device)
    throw InvalidArgument(op_name(c) + ": NCCL needs device memory but the " + which +
                          " buffer is in host memory");
}

// The collective's completion event; wait() orders the caller's stream after
// it (or, for a caller without a stream, blocks the host on it).
class EventPending final : public detail::PendingOperation {
 public:
  EventPending(Collective c, cudaStream_t stream, cudaStream_t caller)
      : collective_(c), caller_(caller) {
    check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), op_name(c),
               "cudaEventCreateWithFlags");
    const cudaError_t e = cudaEventRecord(event_, stream);
    if (e != cudaSuccess) {
      cudaEventDestroy(event_);
      check_cuda(e, op_name(c), "cudaEventRecord");
    }
  }
  ~EventPending() override { cudaEventDestroy(event_); }
  void wait() override {
    if (caller_)
      check_cuda(cudaStreamWaitEvent(caller_, event_, 0), op_name(collective_),
                 "cudaStreamWaitEvent");
    else
      check_cuda(cudaEventSynchronize(event_), op_name(collective_), "cudaEventSynchronize");
  }
  bool test() override {
    const cudaError_t e = cudaEventQuery(event_);
    if (e == cudaErrorNotReady) return false;
    check_cuda(e, op_name(collective_), "cudaEventQuery");
    return true;
  }

 private:
  Collective collective_;
  cudaStream_t caller_;
  cudaEvent_t event_ = nullptr;
};

}  // namespace

NcclCommunicator::NcclCommunicator(MPI_Comm comm, CUstream_st* stream) : stream_(stream) {
  const std::string op = "phantom::NcclCommunicator";
  if (MPI_Comm_dup(comm, &mpi_comm_) != MPI_SUCCESS) throw Error(op + ": MPI_Comm_dup failed");
  MPI_Comm_rank(mpi_comm_, &rank_);
  MPI_Comm_size(mpi_comm_, &size_);
  try {
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), op, "ncclGetUniqueId", nullptr);
    if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, mpi_comm_) != MPI_SUCCESS)
      throw Error(op + ": MPI_Bcast of the ncclUniqueId failed");
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), op, "ncclCommInitRank", nullptr);
    if (!stream_) {
      check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), op,
                 "cudaStreamCreateWithFlags");
      owns_stream_ = true;
    }
    check_cuda(cudaEventCreateWithFlags(&producer_ready_, cudaEventDisableTiming), op,
               "cudaEventCreateWithFlags");
  } catch (...) {
    if (owns_stream_) cudaStreamDestroy(stream_);
    if (comm_) ncclCommDestroy(comm_);
    MPI_Comm_free(&mpi_comm_);
    throw;
  }
}

NcclCommunicator::~NcclCommunicator() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (comm_) ncclCommDestroy(comm_);
  if (producer_ready_) cudaEventDestroy(producer_ready_);
  if (owns_stream_) cudaStreamDestroy(stream_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&mpi_comm_);
}

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  if (color < 0)
    throw InvalidArgument("phantom::comm::split: color must be >= 0, got " + std::to_string(color));
  MPI_Comm sub = MPI_COMM_NULL;
  if (MPI_Comm_split(mpi_comm_, color, key, &sub) != MPI_SUCCESS)
    throw Error("phantom::comm::split: MPI_Comm_split failed");
  std::unique_ptr<Communicator> result;
  try {
    result = std::make_unique<NcclCommunicator>(sub, stream_);
  } catch (...) {
    MPI_Comm_free(&sub);
    throw;
  }
  MPI_Comm_free(&sub);  // the new communicator holds its own duplicate
  return result;
}

// The communicator's stream waits for what the caller's stream holds so far.
void NcclCommunicator::order_after_producer(const ExecutionOrder& order, Collective c) {
  auto* caller = static_cast<cudaStream_t>(order.native_stream());
  if (caller == nullptr) {  // a host instance: its work is done once fenced
    Communicator::order_after_producer(order, c);
    return;
  }
  if (caller == stream_) return;  // one stream: already in order
  check_cuda(cudaEventRecord(producer_ready_, caller), op_name(c), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(stream_, producer_ready_, 0), op_name(c), "cudaStreamWaitEvent");
}

void NcclCommunicator::enqueue(Collective c, const ConstBuffer& send, const Buffer& recv,
                               int root) {
  const std::string op = op_name(c);
  require_device(c, recv.memory, c == Collective::broadcast ? "broadcast" : "recv");
  if (c != Collective::broadcast) require_device(c, send.memory, "send");
  const ncclDataType_t type = nccl_type(recv.type);
  cudaStream_t stream = stream_;
  switch (c) {
    case Collective::allgather:
      check_nccl(ncclAllGather(send.data, recv.data, send.count, type, comm_, stream), op,
                 "ncclAllGather", comm_);
      break;
    case Collective::reduce_scatter:
      check_nccl(ncclReduceScatter(send.data, recv.data, recv.count, type, ncclSum, comm_, stream),
                 op, "ncclReduceScatter", comm_);
      break;
    case Collective::allreduce:
      check_nccl(ncclAllReduce(send.data, recv.data, recv.count, type, ncclSum, comm_, stream), op,
                 "ncclAllReduce", comm_);
      break;
    case Collective::broadcast:
      check_nccl(ncclBroadcast(recv.data, recv.data, recv.count, type, root, comm_, stream), op,
                 "ncclBroadcast", comm_);
      break;
    case Collective::alltoall: {
      // NCCL has no all-to-all: one grouped send and receive per peer.
      const std::size_t block = send.count / std::size_t(size_);
      const std::size_t block_bytes = block * size_of(send.type);
      const auto* s = static_cast<const unsigned char*>(send.data);
      auto* r = static_cast<unsigned char*>(recv.data);
      check_nccl(ncclGroupStart(), op, "ncclGroupStart", comm_);
      ncclResult_t result = ncclSuccess;
      for (int peer = 0; peer < size_ && result == ncclSuccess; ++peer) {
        result = ncclSend(s + peer * block_bytes, block, type, peer, comm_, stream);
        if (result == ncclSuccess)
          result = ncclRecv(r + peer * block_bytes, block, type, peer, comm_, stream);
      }
      const ncclResult_t end = ncclGroupEnd();  // always close the group
      check_nccl(result, op, "ncclSend/ncclRecv", comm_);
      check_nccl(end, op, "ncclGroupEnd", comm_);
      break;
    }
    case Collective::barrier: break;
  }
}

void NcclCommunicator::synchronize(Collective c) {
  check_cuda(cudaStreamSynchronize(stream_), op_name(c), "cudaStreamSynchronize");
}

std::unique_ptr<detail::PendingOperation> NcclCommunicator::record(Collective c,
                                                                   const ExecutionOrder& order) {
  return std::make_unique<EventPending>(c, stream_,
                                        static_cast<cudaStream_t>(order.native_stream()));
}

void NcclCommunicator::do_allgather(const ExecutionOrder&, const ConstBuffer& send,
                                    const Buffer& recv) {
  enqueue(Collective::allgather, send, recv);
  synchronize(Collective::allgather);
}
void NcclCommunicator::do_reduce_scatter(const ExecutionOrder&, const ConstBuffer& send,
                                         const Buffer& recv) {
  enqueue(Collective::reduce_scatter, send, recv);
  synchronize(Collective::reduce_scatter);
}
void NcclCommunicator::do_allreduce(const ExecutionOrder&, const ConstBuffer& send,
                                    const Buffer& recv) {
  enqueue(Collective::allreduce, send, recv);
  synchronize(Collective::allreduce);
}
void NcclCommunicator::do_alltoall(const ExecutionOrder&, const ConstBuffer& send,
                                   const Buffer& recv) {
  enqueue(Collective::alltoall, send, recv);
  synchronize(Collective::alltoall);
}
void NcclCommunicator::do_broadcast(const ExecutionOrder&, const Buffer& buffer, int root) {
  enqueue(Collective::broadcast, buffer, buffer, root);
  synchronize(Collective::broadcast);
}
void NcclCommunicator::do_barrier() {
  synchronize(Collective::barrier);
  if (MPI_Barrier(mpi_comm_) != MPI_SUCCESS)
    throw Error("phantom::comm::barrier: MPI_Barrier failed");
}

std::unique_ptr<detail::PendingOperation> NcclCommunicator::start_allgather(
    const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv) {
  enqueue(Collective::allgather, send, recv);
  return record(Collective::allgather, order);
}
std::unique_ptr<detail::PendingOperation> NcclCommunicator::start_reduce_scatter(
    const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv) {
  enqueue(Collective::reduce_scatter, send, recv);
  return record(Collective::reduce_scatter, order);
}
std::unique_ptr<detail::PendingOperation> NcclCommunicator::start_allreduce(
    const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv) {
  enqueue(Collective::allreduce, send, recv);
  return record(Collective::allreduce, order);
}

}  // namespace phantom
