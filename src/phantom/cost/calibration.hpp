// Measures the "this-cpu" device profile with the kernels the network itself
// runs (KokkosBlas GEMM, the Adam update, the communicator's all-gather), on
// every rank at once so shared cores and memory are as busy as in training.
//   gemm_flops_s:   (256 x 1024) x (1024 x 1024), the shape of a hidden layer
//   gemm_half_dim:  from a skinny (256 x 16 x 1024) GEMM: rate = peak d/(d + h)
//   memory_bytes_s: Adam over 4M values, 7 values read or written per value
//   intra_node:     all-gather of 1 value (alpha) and of 1 MiB per rank (beta)
// Rank 0's medians are broadcast so every rank returns the same profile.
// Power cannot be measured here (no meter): busy/idle watts stay the defaults.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/core/types.hpp"
#include "phantom/cost/device_profile.hpp"

namespace phantom::cost {

namespace detail {

// Median over `reps` of the time of f(), after one warm-up call.
template <class F>
double median_seconds(Communicator& comm, int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

}  // namespace detail

template <class Space = DefaultSpace>
DeviceProfile calibrate_profile(Communicator& comm, int reps = 7) {
  using M = Matrix<float, Space>;
  DeviceProfile p = builtin_profiles().front();  // this-cpu defaults
  const double B = 256, n = 1024, k = 16;
  {
    M x("x", B, n), w("w", n, n), z("z", B, n), c("c", k, n), g("g", B, k);
    Kokkos::deep_copy(x, 0.5f);
    Kokkos::deep_copy(w, 0.25f);
    Kokkos::deep_copy(c, 0.25f);
    const double big = detail::median_seconds(comm, reps, [&] {
      gemm(Space(), "N", "T", 1.0f, x, w, 0.0f, z);
      Kokkos::fence();
    });
    const double skinny = detail::median_seconds(comm, reps * 4, [&] {
      gemm(Space(), "N", "T", 1.0f, x, c, 0.0f, g);
      Kokkos::fence();
    });
    p.gemm_flops_s = 2 * B * n * n / big;
    const double skinny_rate = 2 * B * k * n / skinny;
    p.gemm_half_dim = std::max(0.0, k * (p.gemm_flops_s / skinny_rate - 1));
  }
  {
    const std::size_t values = std::size_t(1) << 22;
    Kokkos::View<float*, Space> value("value", values), grad("grad", values);
    Kokkos::deep_copy(grad, 1e-3f);
    OptimizerConfig config;
    config.kind = OptimizerKind::adam;
    Optimizer<float, Space> adam(config);
    ParameterList<float, Space> params{make_parameter("calibration", value, grad)};
    const double t = detail::median_seconds(comm, reps, [&] {
      adam.step(params);
      Kokkos::fence();
    });
    p.memory_bytes_s = 7.0 * values * sizeof(float) / t;
  }
  const int ranks = comm.size();
  if (ranks > 1) {
    using V = Kokkos::View<float*, Space>;
    const std::size_t large = (std::size_t(1) << 20) / sizeof(float);
    V one("one", 1), ones("ones", ranks), block("block", large), all("all", large * ranks);
    const double t_small =
        detail::median_seconds(comm, reps * 4, [&] { comm.allgather(one, ones); });
    const double t_large = detail::median_seconds(comm, reps, [&] { comm.allgather(block, all); });
    const double alpha = t_small / (ranks - 1);
    const double beta_time = std::max(t_large / (ranks - 1) - alpha, 1e-9);
    p.intra_node = {alpha, large * sizeof(float) / beta_time};
    p.inter_node = p.intra_node;
  }
  p.ranks_per_node = std::max(p.ranks_per_node, ranks);
  // Every rank reports rank 0's figures.
  Kokkos::View<double*, Kokkos::HostSpace> figures("figures", 5);
  figures(0) = p.gemm_flops_s;
  figures(1) = p.gemm_half_dim;
  figures(2) = p.memory_bytes_s;
  figures(3) = p.intra_node.alpha_s;
  figures(4) = p.intra_node.bandwidth_bytes_s;
  comm.broadcast(figures, 0);
  p.gemm_flops_s = figures(0);
  p.gemm_half_dim = figures(1);
  p.memory_bytes_s = figures(2);
  p.intra_node = p.inter_node = {figures(3), figures(4)};
  p.description =
      "one CPU core per rank, calibrated with " + std::to_string(ranks) + " rank(s) busy";
  p.source = "measured by phantom-cost --calibrate (GEMM, Adam, all-gather); power: defaults";
  return p;
}

}  // namespace phantom::cost
