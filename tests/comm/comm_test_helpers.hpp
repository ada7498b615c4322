// Shared by the communicator tests: data every rank can derive from a rank
// index, host read-back, and the world communicator in its direct and staged
// forms. Typed tests run on every execution space Kokkos enables (backends.hpp).
#pragma once

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <memory>
#include <string>
#include <vector>

#include "backends.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/core/types.hpp"

#ifdef PHANTOM_HAVE_MPI
#include "phantom/comm/mpi_communicator.hpp"
#endif

namespace phantom_test {

// Whole numbers below 2^12: any sum over <= 4 ranks is exact in float.
inline double value(int rank, std::size_t i) {
  return double((rank + 1) * 1000 + int(i % 509));
}

template <class View, class F>
void fill(const View& v, F&& f) {
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < h.size(); ++i) h.data()[i] = typename View::value_type(f(i));
  Kokkos::deep_copy(v, h);
}

// The view's values in memory order.
template <class View>
std::vector<double> host_values(const View& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(h.data(), h.data() + h.size());
}

// Local work done on space between starting a collective and waiting for it.
template <class Space>
double busy_work(const Space& space, int n = 200000) {
  double s = 0;
  Kokkos::parallel_reduce(
      "busy_work", Kokkos::RangePolicy<Space>(space, 0, n),
      KOKKOS_LAMBDA(int i, double& acc) { acc += 1.0 / (1.0 + i); }, s);
  return s;
}
inline double busy_work(int n = 200000) {
  return busy_work(Kokkos::DefaultExecutionSpace(), n);
}

// Calls f(T()) for T = float and T = double, each under a trace naming T.
template <class F>
void for_float_and_double(F&& f) {
  {
    SCOPED_TRACE("float");
    f(float());
  }
  {
    SCOPED_TRACE("double");
    f(double());
  }
}

// The message of the phantom::Error that f throws ("" if it throws none).
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const phantom::Error& e) {
    return e.what();
  }
  return "";
}

// gtest assertion: text contains part (prints both when it does not).
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

struct NamedCommunicator {
  std::string name;
  std::unique_ptr<phantom::Communicator> comm;
};

// The world communicator as make_world_communicator() gives it, and (with MPI)
// one that stages every buffer through host copies.
inline std::vector<NamedCommunicator> world_communicators() {
  std::vector<NamedCommunicator> out;
  out.push_back({"world", phantom::make_world_communicator()});
#ifdef PHANTOM_HAVE_MPI
  out.push_back({"mpi staged", std::make_unique<phantom::MpiCommunicator>(
                                   MPI_COMM_WORLD, phantom::Staging::always)});
#endif
  return out;
}

}  // namespace phantom_test
