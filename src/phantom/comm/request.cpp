#include "phantom/comm/request.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <exception>

#include "phantom/comm/timing.hpp"

namespace phantom {

Request& Request::operator=(Request&& other) {
  if (this != &other) {
    wait();
    op_ = std::move(other.op_);
    stats_ = other.stats_;
    kind_ = other.kind_;
  }
  return *this;
}

Request::~Request() {
  if (!op_) return;
  try {
    wait();
  } catch (const std::exception& e) {
    // A destructor must not throw; the failure would otherwise go unseen.
    std::fprintf(stderr, "phantom: un-waited %s request failed in ~Request: %s\n",
                 collective_name(kind_), e.what());
  }
}

void Request::wait() {
  if (!op_) return;
  Kokkos::Profiling::pushRegion(detail::region_name(kind_, detail::Phase::wait));
  const auto t0 = std::chrono::steady_clock::now();
  // Released even if wait() throws: a failed operation is not waited for twice.
  std::unique_ptr<detail::PendingOperation> op = std::move(op_);
  try {
    op->wait();
  } catch (...) {
    if (stats_) (*stats_)[kind_].wait_seconds += detail::seconds_since(t0);
    Kokkos::Profiling::popRegion();
    throw;
  }
  if (stats_) (*stats_)[kind_].wait_seconds += detail::seconds_since(t0);
  Kokkos::Profiling::popRegion();
}

bool Request::test() {
  if (!op_) return true;
  const auto t0 = std::chrono::steady_clock::now();
  bool complete = false;
  try {
    complete = op_->test();
  } catch (...) {
    op_.reset();
    if (stats_) (*stats_)[kind_].wait_seconds += detail::seconds_since(t0);
    throw;
  }
  if (complete) op_->wait();  // completes the bookkeeping (staged copy-back)
  if (stats_) (*stats_)[kind_].wait_seconds += detail::seconds_since(t0);
  if (complete) op_.reset();
  return complete;
}

}  // namespace phantom
