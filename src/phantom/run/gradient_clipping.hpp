// Gradient clipping by the global norm, as torch.nn.utils.clip_grad_norm_:
//   norm = sqrt(sum over every parameter of the model of g^2),
//   if norm > max_norm: g *= max_norm / (norm + 1e-6).
// Over a distributed model each parameter is counted once: a rank's block of
// a sharded tensor by its rank, a tensor every rank holds whole (Placement::
// replicated, whose gradients are equal on every rank) by rank 0 only. The
// squares are summed in double; the ranks' sums with one MPI_Allreduce of 8
// bytes on `comm` (a communicator of its own: not in Phantom's byte counts).
#pragma once

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cmath>

#include "phantom/core/parameter.hpp"

namespace phantom::run {

namespace detail {

template <class ExecSpace, class Flat>
double sum_of_squares(const ExecSpace& space, const Flat& g) {
  double sum = 0;
  Kokkos::parallel_reduce(
      "phantom::gradient_norm", Kokkos::RangePolicy<ExecSpace>(space, 0, g.extent(0)),
      KOKKOS_LAMBDA(const int i, double& s) { s += double(g(i)) * double(g(i)); }, sum);
  return sum;
}

template <class ExecSpace, class Flat, class Scalar>
void scale(const ExecSpace& space, const Flat& g, Scalar factor) {
  Kokkos::parallel_for(
      "phantom::clip_gradients", Kokkos::RangePolicy<ExecSpace>(space, 0, g.extent(0)),
      KOKKOS_LAMBDA(const int i) { g(i) *= factor; });
}

}  // namespace detail

// The global gradient norm of the model whose parameters on this rank are
// `params` (collective over comm, the ranks of the model).
template <class Scalar, class Space>
double global_gradient_norm(const Space& space, const ParameterList<Scalar, Space>& params,
                            MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  double mine = 0, total = 0;
  for (const auto& p : params)
    if (!p.placement.replicated || rank == 0) mine += detail::sum_of_squares(space, p.grad);
  MPI_Allreduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, comm);
  return std::sqrt(total);
}

// Scales every gradient so the global norm is at most max_norm; returns the
// norm before clipping. Collective over comm.
template <class Scalar, class Space>
double clip_gradients(const Space& space, const ParameterList<Scalar, Space>& params,
                      double max_norm, MPI_Comm comm) {
  const double norm = global_gradient_norm(space, params, comm);
  if (norm > max_norm) {
    const Scalar factor = Scalar(max_norm / (norm + 1e-6));
    for (const auto& p : params) detail::scale(space, p.grad, factor);
  }
  return norm;
}

}  // namespace phantom::run
