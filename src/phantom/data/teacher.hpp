// The synthetic regression problem: inputs uniform in [-1, 1), targets from a
// fixed random "teacher" network y = tanh(x A^T) B^T plus optional uniform
// noise. Everything is a function of the seed, so every
// rank (at any rank count) can build the same data set on its own device.
#pragma once

#include <cmath>
#include <cstdint>

#include "phantom/core/activation.hpp"
#include "phantom/core/elementwise.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

struct TeacherConfig {
  std::size_t samples = 1024;
  std::size_t input_dim = 16;
  std::size_t output_dim = 4;
  std::size_t hidden = 32;  // teacher hidden width
  double noise = 0.0;       // targets get + noise * uniform[-1, 1)
  std::uint64_t seed = 1;
};

template <class Scalar, class Space = DefaultSpace>
struct Dataset {
  Matrix<Scalar, Space> x;  // (N x input_dim)
  Matrix<Scalar, Space> y;  // (N x output_dim)
  std::size_t size() const { return x.extent(0); }
};

// Built with kernels and GEMMs on the instance space.
template <class Scalar, class Space = DefaultSpace>
Dataset<Scalar, Space> make_teacher_dataset(const TeacherConfig& c, const Space& space = Space()) {
  using M = Matrix<Scalar, Space>;
  const auto alloc = [&](const char* label) {
    return Kokkos::view_alloc(space, std::string(label));
  };
  Dataset<Scalar, Space> d{M(alloc("teacher.x"), c.samples, c.input_dim),
                           M(alloc("teacher.y"), c.samples, c.output_dim)};
  M a(alloc("teacher.A"), c.hidden, c.input_dim), b(alloc("teacher.B"), c.output_dim, c.hidden);
  M h(alloc("teacher.h"), c.samples, c.hidden);
  fill_uniform(space, d.x, c.seed, streams::kTeacherInputs, 1.0);
  fill_uniform(space, a, c.seed, streams::kTeacherA, std::sqrt(3.0 / double(c.input_dim)));
  fill_uniform(space, b, c.seed, streams::kTeacherB, std::sqrt(3.0 / double(c.hidden)));
  gemm(space, "N", "T", Scalar(1), d.x, a, Scalar(0), h);
  activation_forward(space, Activation::tanh, h, h);
  gemm(space, "N", "T", Scalar(1), h, b, Scalar(0), d.y);
  if (c.noise > 0) {
    M n(alloc("teacher.noise"), c.samples, c.output_dim);
    fill_uniform(space, n, c.seed, streams::kTeacherNoise, c.noise);
    auto y = d.y;
    for_each_element(
        space, "phantom::teacher_noise", y.extent(0), y.extent(1),
        KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { y(i, j) += n(i, j); });
  }
  return d;
}

}  // namespace phantom
