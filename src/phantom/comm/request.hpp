// Handle to a non-blocking collective. wait() blocks until it is complete and
// its results are in the receive buffer (a staged copy-back happens there);
// the time spent in wait()/test() is added to the communicator's wait_seconds.
// A Request that is destroyed before it was waited for waits in its destructor,
// so buffers are never left with an operation in flight. The communicator and
// both buffers must outlive the request.
#pragma once

#include <memory>

#include "phantom/comm/comm_stats.hpp"

namespace phantom {

namespace detail {

// What a backend returns for an operation in flight.
class PendingOperation {
 public:
  virtual ~PendingOperation() = default;
  virtual void wait() = 0;  // blocks; throws phantom::Error if the operation failed
  virtual bool test() = 0;  // true once complete (then wait() returns at once)
};

}  // namespace detail

class Request {
 public:
  Request() = default;  // an empty request: already complete
  Request(std::unique_ptr<detail::PendingOperation> op, CommStats* stats, Collective kind)
      : op_(std::move(op)), stats_(stats), kind_(kind) {}
  Request(Request&& other) noexcept = default;
  Request& operator=(Request&& other);  // waits for the operation it replaces
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();

  void wait();
  // Non-blocking: true (and the results are in place) once the operation is complete.
  bool test();
  // True when there is nothing left to wait for.
  bool done() const { return op_ == nullptr; }

 private:
  std::unique_ptr<detail::PendingOperation> op_;
  CommStats* stats_ = nullptr;
  Collective kind_ = Collective::barrier;
};

}  // namespace phantom
