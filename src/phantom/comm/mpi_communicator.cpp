#include "phantom/comm/mpi_communicator.hpp"

#include <climits>
#include <vector>

#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>  // Open MPI: MPIX_CUDA_AWARE_SUPPORT, MPIX_Query_cuda_support()
#endif

namespace phantom {

namespace {

std::string op_name(Collective c) {
  return std::string("phantom::comm::") + collective_name(c);
}

void check(int code, const std::string& op, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  throw Error(op + ": " + call + " failed: " + std::string(text, std::size_t(length)));
}

MPI_Datatype mpi_type(DataType t) {
  switch (t) {
    case DataType::float32: return MPI_FLOAT;
    case DataType::float64: return MPI_DOUBLE;
    case DataType::int32: return MPI_INT;
    case DataType::byte: return MPI_BYTE;
  }
  return MPI_BYTE;
}

void check(int code, Collective c, const char* call) {
  if (code != MPI_SUCCESS) check(code, op_name(c), call);  // no string on the fast path
}

int mpi_count(std::size_t count, Collective c) {
  if (count > std::size_t(INT_MAX))
    throw InvalidArgument(op_name(c) + ": " + std::to_string(count) +
                          " values per block exceed MPI's int count");
  return int(count);
}

// The pointers one MPI call sees, and the host copies behind them when staged.
// Moving it keeps the pointers valid (vector storage does not move).
struct Transfer {
  const void* send = nullptr;  // MPI_IN_PLACE for an in-place all-reduce
  void* recv = nullptr;
  std::vector<unsigned char> send_host, recv_host;
  Buffer result;  // where a staged result is copied back
  bool copy_back = false;

  void finish() {
    if (!copy_back) return;
    copy_back = false;
    detail::copy_from_host(result, recv_host.data(), result.bytes());
  }
};

class Pending final : public detail::PendingOperation {
 public:
  Pending(Collective c, Transfer&& t) : collective_(c), transfer_(std::move(t)) {}
  ~Pending() override {
    // Only reached without a wait when an earlier step already failed.
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  MPI_Request* request() { return &request_; }
  Transfer& transfer() { return transfer_; }

  void wait() override {
    if (request_ != MPI_REQUEST_NULL)
      check(MPI_Wait(&request_, MPI_STATUS_IGNORE), collective_, "MPI_Wait");
    transfer_.finish();
  }
  bool test() override {
    if (request_ == MPI_REQUEST_NULL) return true;
    int done = 0;
    check(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), collective_, "MPI_Test");
    return done != 0;
  }

 private:
  Collective collective_;
  Transfer transfer_;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

}  // namespace

bool MpiCommunicator::library_is_gpu_aware() {
  bool aware = false;
#if defined(MPIX_CUDA_AWARE_SUPPORT)
  aware = aware || MPIX_Query_cuda_support() == 1;
#endif
#if defined(MPIX_ROCM_AWARE_SUPPORT)
  aware = aware || MPIX_Query_rocm_support() == 1;
#endif
  return aware;
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, Staging staging)
    : MpiCommunicator(comm, staging, false) {}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, Staging staging, bool owned)
    : comm_(comm), staging_(staging), owned_(owned) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) throw InvalidArgument("phantom::MpiCommunicator: MPI is not initialized");
  if (comm == MPI_COMM_NULL) throw InvalidArgument("phantom::MpiCommunicator: MPI_COMM_NULL");
  pass_device_ =
      staging == Staging::never || (staging == Staging::automatic && library_is_gpu_aware());
  if (!owned_) MPI_Comm_get_errhandler(comm_, &previous_handler_);
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (owned_) {
    MPI_Comm_free(&comm_);
  } else if (previous_handler_ != MPI_ERRHANDLER_NULL) {
    MPI_Comm_set_errhandler(comm_, previous_handler_);
    MPI_Errhandler_free(&previous_handler_);
  }
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  if (color < 0)
    throw InvalidArgument("phantom::comm::split: color must be >= 0, got " + std::to_string(color));
  MPI_Comm sub = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, color, key, &sub), "phantom::comm::split", "MPI_Comm_split");
  return std::unique_ptr<Communicator>(new MpiCommunicator(sub, staging_, true));
}

namespace {

bool must_stage(MemoryKind memory, Staging staging, bool pass_device) {
  return staging == Staging::always || (memory == MemoryKind::device && !pass_device);
}

// Host-side pointers for a call sending send and receiving into recv.
Transfer prepare(const ConstBuffer& send, const Buffer& recv, Staging staging, bool pass_device,
                 bool in_place) {
  Transfer t;
  if (must_stage(recv.memory, staging, pass_device)) {
    t.recv_host.resize(recv.bytes());
    if (in_place) detail::copy_to_host(t.recv_host.data(), recv, recv.bytes());
    t.recv = t.recv_host.data();
    t.result = recv;
    t.copy_back = true;
  } else {
    t.recv = recv.data;
  }
  if (in_place) {
    t.send = MPI_IN_PLACE;
  } else if (must_stage(send.memory, staging, pass_device)) {
    t.send_host.resize(send.bytes());
    detail::copy_to_host(t.send_host.data(), send, send.bytes());
    t.send = t.send_host.data();
  } else {
    t.send = send.data;
  }
  return t;
}

}  // namespace

void MpiCommunicator::do_allgather(const ExecutionOrder&, const ConstBuffer& send,
                                   const Buffer& recv) {
  Transfer t = prepare(send, recv, staging_, pass_device_, false);
  const int n = mpi_count(send.count, Collective::allgather);
  const MPI_Datatype type = mpi_type(send.type);
  check(MPI_Allgather(t.send, n, type, t.recv, n, type, comm_), Collective::allgather,
        "MPI_Allgather");
  t.finish();
}

void MpiCommunicator::do_reduce_scatter(const ExecutionOrder&, const ConstBuffer& send,
                                        const Buffer& recv) {
  Transfer t = prepare(send, recv, staging_, pass_device_, false);
  check(MPI_Reduce_scatter_block(t.send, t.recv, mpi_count(recv.count, Collective::reduce_scatter),
                                 mpi_type(send.type), MPI_SUM, comm_),
        Collective::reduce_scatter, "MPI_Reduce_scatter_block");
  t.finish();
}

void MpiCommunicator::do_allreduce(const ExecutionOrder&, const ConstBuffer& send,
                                   const Buffer& recv) {
  Transfer t = prepare(send, recv, staging_, pass_device_, send.data == recv.data);
  check(MPI_Allreduce(t.send, t.recv, mpi_count(recv.count, Collective::allreduce),
                      mpi_type(send.type), MPI_SUM, comm_),
        Collective::allreduce, "MPI_Allreduce");
  t.finish();
}

void MpiCommunicator::do_alltoall(const ExecutionOrder&, const ConstBuffer& send,
                                  const Buffer& recv) {
  Transfer t = prepare(send, recv, staging_, pass_device_, false);
  const int n = mpi_count(send.count / std::size_t(size_), Collective::alltoall);
  const MPI_Datatype type = mpi_type(send.type);
  check(MPI_Alltoall(t.send, n, type, t.recv, n, type, comm_), Collective::alltoall,
        "MPI_Alltoall");
  t.finish();
}

void MpiCommunicator::do_broadcast(const ExecutionOrder&, const Buffer& buffer, int root) {
  // In place: the root's data must reach the host copy before the call.
  Transfer t = prepare(buffer, buffer, staging_, pass_device_, true);
  check(MPI_Bcast(t.recv, mpi_count(buffer.count, Collective::broadcast), mpi_type(buffer.type),
                  root, comm_),
        Collective::broadcast, "MPI_Bcast");
  t.finish();
}

void MpiCommunicator::do_barrier() {
  check(MPI_Barrier(comm_), Collective::barrier, "MPI_Barrier");
}

std::unique_ptr<detail::PendingOperation> MpiCommunicator::start_allgather(const ExecutionOrder&,
                                                                           const ConstBuffer& send,
                                                                           const Buffer& recv) {
  auto op = std::make_unique<Pending>(Collective::allgather,
                                      prepare(send, recv, staging_, pass_device_, false));
  const int n = mpi_count(send.count, Collective::allgather);
  const MPI_Datatype type = mpi_type(send.type);
  Transfer& t = op->transfer();
  check(MPI_Iallgather(t.send, n, type, t.recv, n, type, comm_, op->request()),
        Collective::allgather, "MPI_Iallgather");
  return op;
}

std::unique_ptr<detail::PendingOperation> MpiCommunicator::start_reduce_scatter(
    const ExecutionOrder&, const ConstBuffer& send, const Buffer& recv) {
  auto op = std::make_unique<Pending>(Collective::reduce_scatter,
                                      prepare(send, recv, staging_, pass_device_, false));
  Transfer& t = op->transfer();
  check(MPI_Ireduce_scatter_block(t.send, t.recv, mpi_count(recv.count, Collective::reduce_scatter),
                                  mpi_type(send.type), MPI_SUM, comm_, op->request()),
        Collective::reduce_scatter, "MPI_Ireduce_scatter_block");
  return op;
}

std::unique_ptr<detail::PendingOperation> MpiCommunicator::start_allreduce(const ExecutionOrder&,
                                                                           const ConstBuffer& send,
                                                                           const Buffer& recv) {
  auto op = std::make_unique<Pending>(
      Collective::allreduce, prepare(send, recv, staging_, pass_device_, send.data == recv.data));
  Transfer& t = op->transfer();
  check(MPI_Iallreduce(t.send, t.recv, mpi_count(recv.count, Collective::allreduce),
                       mpi_type(send.type), MPI_SUM, comm_, op->request()),
        Collective::allreduce, "MPI_Iallreduce");
  return op;
}

}  // namespace phantom
