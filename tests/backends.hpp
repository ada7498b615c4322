// The execution spaces the tests run on, as Cabana's tests do: every backend
// this Kokkos build enables among Serial, OpenMP, Cuda and HIP, not only the
// default one. Use
//   TYPED_TEST_SUITE(Suite, phantom_test::ExecutionSpaces, phantom_test::SpaceName);
// and TypeParam is the space; tests then read e.g. Optimizer/Serial.Adam.
#pragma once

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <string>
#include <tuple>
#include <utility>

namespace phantom_test {

namespace detail {

// Each backend is a one-element tuple, or an empty one when Kokkos lacks it;
// concatenating the tuples builds the list without dangling commas.
#ifdef KOKKOS_ENABLE_SERIAL
using SerialSpaces = std::tuple<Kokkos::Serial>;
#else
using SerialSpaces = std::tuple<>;
#endif
#ifdef KOKKOS_ENABLE_OPENMP
using OpenMPSpaces = std::tuple<Kokkos::OpenMP>;
#else
using OpenMPSpaces = std::tuple<>;
#endif
#ifdef KOKKOS_ENABLE_CUDA
using CudaSpaces = std::tuple<Kokkos::Cuda>;
#else
using CudaSpaces = std::tuple<>;
#endif
#if defined(KOKKOS_ENABLE_HIP) && KOKKOS_VERSION >= 40000
using HIPSpaces = std::tuple<Kokkos::HIP>;
#elif defined(KOKKOS_ENABLE_HIP)  // Kokkos 3: still experimental
using HIPSpaces = std::tuple<Kokkos::Experimental::HIP>;
#else
using HIPSpaces = std::tuple<>;
#endif

using SpaceTuple =
    decltype(std::tuple_cat(std::declval<SerialSpaces>(), std::declval<OpenMPSpaces>(),
                            std::declval<CudaSpaces>(), std::declval<HIPSpaces>()));

template <class Tuple>
struct ToTypes;
template <class... Spaces>
struct ToTypes<std::tuple<Spaces...>> {
  static_assert(sizeof...(Spaces) > 0, "Kokkos enables none of Serial, OpenMP, Cuda and HIP");
  using type = ::testing::Types<Spaces...>;
};

}  // namespace detail

// ::testing::Types of every enabled execution space.
using ExecutionSpaces = detail::ToTypes<detail::SpaceTuple>::type;

// GoogleTest name generator: a typed test's suite is named after its space.
struct SpaceName {
  template <class Space>
  static std::string GetName(int) {
    return Space::name();
  }
};

}  // namespace phantom_test
