// The one communicator interface every parallel layer talks through
// (docs/communicators.md). Backends: SingleRankCommunicator (p = 1),
// MpiCommunicator, NcclCommunicator (PHANTOM_ENABLE_NCCL).
//
// Two levels:
//  - type-erased operations on raw buffers (buffer.hpp). They check sizes and
//    types before anything is sent, count calls, bytes and time (comm_stats.hpp)
//    and open a Kokkos profiling region, then call the backend's protected
//    virtual do_*/start_* hook. The bookkeeping is therefore the same for all
//    backends.
//  - templated front-ends over contiguous Kokkos Views (float, double, int; any
//    memory space, any rank). A view is taken as its span in memory order: for a
//    (batch x features) LayoutLeft matrix the block of one rank is a contiguous
//    range of columns, so gathered or scattered blocks line up end to end.
//    Their first argument is the execution-space instance that produces send
//    and consumes recv (default: the views' default instance); the collective is
//    ordered after the work already enqueued on it, and wait() (or the return
//    of a blocking form) orders the instance's later work after the collective
//    (execution_order.hpp).
//
// Collectives (p = size(), blocks in rank order):
//   allgather:      send c values, recv p c (block r from rank r)
//   reduce_scatter: send p c values, recv c = sum over ranks of block rank()
//   allreduce:      send c, recv c = sum over ranks (send may equal recv)
//   alltoall:       send p c, recv p c; block s of send goes to rank s, block s
//                   of recv came from rank s
//   broadcast:      c values from root to every rank, in place
// All are collective: every rank of the communicator must call them in the same
// order with matching sizes.
#pragma once

#include <Kokkos_Core.hpp>
#include <memory>
#include <string>
#include <type_traits>

#include "phantom/comm/buffer.hpp"
#include "phantom/comm/comm_stats.hpp"
#include "phantom/comm/execution_order.hpp"
#include "phantom/comm/request.hpp"
#include "phantom/core/error.hpp"

namespace phantom {

namespace detail {

template <class T>
constexpr DataType data_type_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return DataType::float32;
  else if constexpr (std::is_same_v<U, double>)
    return DataType::float64;
  else if constexpr (std::is_same_v<U, int>)
    return DataType::int32;
  else {
    static_assert(
        std::is_same_v<U, unsigned char> || std::is_same_v<U, std::byte> || std::is_same_v<U, char>,
        "phantom communicators move float, double, int or byte values");
    return DataType::byte;
  }
}

// Byte copies for one memory space, through Kokkos::deep_copy on unmanaged views.
template <class MemorySpace>
struct SpaceCopy {
  using Bytes = Kokkos::View<unsigned char*, MemorySpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  using HostBytes =
      Kokkos::View<unsigned char*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

  static unsigned char* bytes(const void* p) {
    return static_cast<unsigned char*>(const_cast<void*>(p));
  }
  static void to_host(void* dst, const void* src, std::size_t n) {
    Kokkos::deep_copy(HostBytes(bytes(dst), n), Bytes(bytes(src), n));
  }
  static void from_host(void* dst, const void* src, std::size_t n) {
    Kokkos::deep_copy(Bytes(bytes(dst), n), HostBytes(bytes(src), n));
  }
  static void copy(void* dst, const void* src, std::size_t n) {
    Kokkos::deep_copy(Bytes(bytes(dst), n), Bytes(bytes(src), n));
  }
  static constexpr MemoryOps ops{&to_host, &from_host, &copy};
};

template <class View>
constexpr MemoryKind memory_kind_of() {
  return Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename View::memory_space>::accessible
             ? MemoryKind::host
             : MemoryKind::device;
}

[[noreturn]] void throw_not_contiguous(Collective c, const char* which, const std::string& label);

template <class View>
void require_contiguous(const View& v, Collective c, const char* which) {
  if (v.size() > 0 && !v.span_is_contiguous()) throw_not_contiguous(c, which, v.label());
}

template <class View>
ConstBuffer const_buffer(const View& v, Collective c, const char* which) {
  require_contiguous(v, c, which);
  using Space = typename View::memory_space;
  return {v.data(), std::size_t(v.size()), data_type_of<typename View::value_type>(),
          memory_kind_of<View>(), &SpaceCopy<Space>::ops};
}

template <class View>
Buffer mutable_buffer(const View& v, Collective c, const char* which) {
  static_assert(!std::is_const_v<typename View::value_type>,
                "the receive view of a collective must not be const");
  require_contiguous(v, c, which);
  using Space = typename View::memory_space;
  return {v.data(), std::size_t(v.size()), data_type_of<typename View::value_type>(),
          memory_kind_of<View>(), &SpaceCopy<Space>::ops};
}

template <class A, class B>
using enable_if_views =
    std::enable_if_t<Kokkos::is_view<A>::value && Kokkos::is_view<B>::value, int>;

template <class E, class A, class B>
using enable_if_instance_views =
    std::enable_if_t<Kokkos::is_execution_space<E>::value && Kokkos::is_view<A>::value &&
                         Kokkos::is_view<B>::value,
                     int>;

// The default instance of the execution space a view's memory belongs to.
template <class View>
typename View::execution_space default_instance() {
  return typename View::execution_space();
}

template <class A, class B>
constexpr void require_same_scalar() {
  static_assert(std::is_same_v<typename A::non_const_value_type, typename B::non_const_value_type>,
                "send and receive views of a collective must hold the same scalar type");
}

}  // namespace detail

class Communicator {
 public:
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single-rank", "mpi", "nccl".
  virtual const char* backend() const = 0;
  // Collective: ranks with the same color form a new communicator, ordered by key
  // (ties by rank). Its statistics start at zero.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  // --- Type-erased operations on raw buffers --------------------------------
  // order: the caller's instance (ExecutionOrder::host() for buffers already
  // complete on the host, what the forms without it assume).
  void allgather(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  void reduce_scatter(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  void allreduce(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  void alltoall(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  void broadcast(const ExecutionOrder& order, const Buffer& buffer, int root);
  Request iallgather(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  Request ireduce_scatter(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  Request iallreduce(const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv);
  void allgather(const ConstBuffer& send, const Buffer& recv) {
    allgather(ExecutionOrder::host(), send, recv);
  }
  void reduce_scatter(const ConstBuffer& send, const Buffer& recv) {
    reduce_scatter(ExecutionOrder::host(), send, recv);
  }
  void allreduce(const ConstBuffer& send, const Buffer& recv) {
    allreduce(ExecutionOrder::host(), send, recv);
  }
  void alltoall(const ConstBuffer& send, const Buffer& recv) {
    alltoall(ExecutionOrder::host(), send, recv);
  }
  void broadcast(const Buffer& buffer, int root) {
    broadcast(ExecutionOrder::host(), buffer, root);
  }
  void barrier();
  Request iallgather(const ConstBuffer& send, const Buffer& recv) {
    return iallgather(ExecutionOrder::host(), send, recv);
  }
  Request ireduce_scatter(const ConstBuffer& send, const Buffer& recv) {
    return ireduce_scatter(ExecutionOrder::host(), send, recv);
  }
  Request iallreduce(const ConstBuffer& send, const Buffer& recv) {
    return iallreduce(ExecutionOrder::host(), send, recv);
  }

  // --- Front-ends over contiguous Kokkos Views --------------------------------
  // comm.allgather(space, send, recv): ordered with the instance space;
  // comm.allgather(send, recv): with the views' default instance.
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  void allgather(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    allgather(InstanceOrder<E>(space), detail::const_buffer(send, Collective::allgather, "send"),
              detail::mutable_buffer(recv, Collective::allgather, "recv"));
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  void reduce_scatter(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    reduce_scatter(InstanceOrder<E>(space),
                   detail::const_buffer(send, Collective::reduce_scatter, "send"),
                   detail::mutable_buffer(recv, Collective::reduce_scatter, "recv"));
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  void allreduce(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    allreduce(InstanceOrder<E>(space), detail::const_buffer(send, Collective::allreduce, "send"),
              detail::mutable_buffer(recv, Collective::allreduce, "recv"));
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  void alltoall(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    alltoall(InstanceOrder<E>(space), detail::const_buffer(send, Collective::alltoall, "send"),
             detail::mutable_buffer(recv, Collective::alltoall, "recv"));
  }
  template <
      class E, class V,
      std::enable_if_t<Kokkos::is_execution_space<E>::value && Kokkos::is_view<V>::value, int> = 0>
  void broadcast(const E& space, const V& buffer, int root) {
    broadcast(InstanceOrder<E>(space),
              detail::mutable_buffer(buffer, Collective::broadcast, "buffer"), root);
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  Request iallgather(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    return iallgather(InstanceOrder<E>(space),
                      detail::const_buffer(send, Collective::allgather, "send"),
                      detail::mutable_buffer(recv, Collective::allgather, "recv"));
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  Request ireduce_scatter(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    return ireduce_scatter(InstanceOrder<E>(space),
                           detail::const_buffer(send, Collective::reduce_scatter, "send"),
                           detail::mutable_buffer(recv, Collective::reduce_scatter, "recv"));
  }
  template <class E, class S, class R, detail::enable_if_instance_views<E, S, R> = 0>
  Request iallreduce(const E& space, const S& send, const R& recv) {
    detail::require_same_scalar<S, R>();
    return iallreduce(InstanceOrder<E>(space),
                      detail::const_buffer(send, Collective::allreduce, "send"),
                      detail::mutable_buffer(recv, Collective::allreduce, "recv"));
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  void allgather(const S& send, const R& recv) {
    allgather(detail::default_instance<R>(), send, recv);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  void reduce_scatter(const S& send, const R& recv) {
    reduce_scatter(detail::default_instance<R>(), send, recv);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  void allreduce(const S& send, const R& recv) {
    allreduce(detail::default_instance<R>(), send, recv);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  void alltoall(const S& send, const R& recv) {
    alltoall(detail::default_instance<R>(), send, recv);
  }
  template <class V, std::enable_if_t<Kokkos::is_view<V>::value, int> = 0>
  void broadcast(const V& buffer, int root) {
    broadcast(detail::default_instance<V>(), buffer, root);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  Request iallgather(const S& send, const R& recv) {
    return iallgather(detail::default_instance<R>(), send, recv);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  Request ireduce_scatter(const S& send, const R& recv) {
    return ireduce_scatter(detail::default_instance<R>(), send, recv);
  }
  template <class S, class R, detail::enable_if_views<S, R> = 0>
  Request iallreduce(const S& send, const R& recv) {
    return iallreduce(detail::default_instance<R>(), send, recv);
  }

  // --- Accounting (comm_stats.hpp) -------------------------------------------
  const CommStats& stats() const { return stats_; }
  void reset_stats() { stats_ = CommStats(); }

 protected:
  // Orders a collective about to be issued after the work enqueued on the
  // caller's instance. The default fences the instance, which is what
  // backends that touch the buffers from the host (MPI, single rank) need;
  // stream backends override it with a stream-to-stream dependency.
  virtual void order_after_producer(const ExecutionOrder& order, Collective c);

  // Backend hooks, called after order_after_producer. Sizes and types are
  // already checked; blocking hooks return with the result in recv, ordered
  // before the caller's later work; start_* hooks return the operation in
  // flight, whose wait() does that ordering.
  virtual void do_allgather(const ExecutionOrder& order, const ConstBuffer& send,
                            const Buffer& recv) = 0;
  virtual void do_reduce_scatter(const ExecutionOrder& order, const ConstBuffer& send,
                                 const Buffer& recv) = 0;
  virtual void do_allreduce(const ExecutionOrder& order, const ConstBuffer& send,
                            const Buffer& recv) = 0;
  virtual void do_alltoall(const ExecutionOrder& order, const ConstBuffer& send,
                           const Buffer& recv) = 0;
  virtual void do_broadcast(const ExecutionOrder& order, const Buffer& buffer, int root) = 0;
  virtual void do_barrier() = 0;
  virtual std::unique_ptr<detail::PendingOperation> start_allgather(const ExecutionOrder& order,
                                                                    const ConstBuffer& send,
                                                                    const Buffer& recv) = 0;
  virtual std::unique_ptr<detail::PendingOperation> start_reduce_scatter(
      const ExecutionOrder& order, const ConstBuffer& send, const Buffer& recv) = 0;
  virtual std::unique_ptr<detail::PendingOperation> start_allreduce(const ExecutionOrder& order,
                                                                    const ConstBuffer& send,
                                                                    const Buffer& recv) = 0;

 private:
  using BlockingHook = void (Communicator::*)(const ExecutionOrder&, const ConstBuffer&,
                                              const Buffer&);
  using StartHook = std::unique_ptr<detail::PendingOperation> (Communicator::*)(
      const ExecutionOrder&, const ConstBuffer&, const Buffer&);
  void run_collective(Collective c, const ExecutionOrder& order, const ConstBuffer& send,
                      const Buffer& recv, BlockingHook hook);
  Request start_collective(Collective c, const ExecutionOrder& order, const ConstBuffer& send,
                           const Buffer& recv, StartHook hook);

  CommStats stats_;
};

// The communicator over all processes: an MpiCommunicator on MPI_COMM_WORLD when
// Phantom was built with MPI and MPI is initialized (at any size, 1 included,
// so single-process runs take the same path as parallel ones); otherwise a
// SingleRankCommunicator.
std::unique_ptr<Communicator> make_world_communicator();

}  // namespace phantom
