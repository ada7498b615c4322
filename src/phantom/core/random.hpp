// Counter-based random numbers: value = f(seed, stream, index), no state. Any
// rank can generate any slice of a global tensor on its own device, so weights
// that are split over p ranks are the same global weights at every p.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "phantom/core/elementwise.hpp"

namespace phantom {

// Stream numbers, one per global tensor, so no two tensors share random numbers.
namespace streams {
// Layer l of a network: weight 2l, bias 2l + 1 (the same in every strategy, so
// dense, tp and megatron networks from one seed hold the same global weights).
inline std::uint64_t weight(std::size_t layer) {
  return 2 * std::uint64_t(layer);
}
inline std::uint64_t bias(std::size_t layer) {
  return 2 * std::uint64_t(layer) + 1;
}
// Phantom layers' ghost (C) and decompression (D) blocks.
inline std::uint64_t ghost(std::size_t layer) {
  return (1ull << 32) + 2 * std::uint64_t(layer);
}
inline std::uint64_t decompress(std::size_t layer) {
  return ghost(layer) + 1;
}
// Compression autoencoders (compress/autoencoder.hpp): encoder and decoder.
inline std::uint64_t ae_encoder(std::size_t layer) {
  return (1ull << 33) + 2 * std::uint64_t(layer);
}
inline std::uint64_t ae_decoder(std::size_t layer) {
  return ae_encoder(layer) + 1;
}
// Synthetic data sets.
constexpr std::uint64_t kTeacherInputs = 1ull << 40, kTeacherA = kTeacherInputs + 1,
                        kTeacherB = kTeacherInputs + 2, kTeacherNoise = kTeacherInputs + 3;
// Data shuffling: epoch e's permutation uses stream kShuffle + e.
constexpr std::uint64_t kShuffle = 1ull << 48;
// The held-out split of data.validation_fraction.
constexpr std::uint64_t kValidationSplit = (1ull << 48) - 1;
}  // namespace streams

// splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
KOKKOS_INLINE_FUNCTION std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
KOKKOS_INLINE_FUNCTION double uniform01(std::uint64_t seed, std::uint64_t stream,
                                        std::uint64_t index) {
  const std::uint64_t h = mix64(mix64(mix64(seed) ^ stream) ^ index);
  return double(h >> 11) * (1.0 / 9007199254740992.0);
}

// Fills the (rows x cols) block of a global (global_rows x global_cols) matrix
// that starts at (row0, col0) with uniform values in [-bound, bound). The
// global element (i, j) always gets the same value, whatever block holds it.
template <class ExecSpace, class MView>
void fill_uniform_block(const ExecSpace& space, const MView& m, std::uint64_t seed,
                        std::uint64_t stream, double bound, std::size_t row0, std::size_t col0,
                        std::size_t global_rows) {
  using Scalar = typename MView::non_const_value_type;
  for_each_element(
      space, "phantom::fill_uniform", m.extent(0), m.extent(1),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) {
        const std::uint64_t index = (col0 + j) * global_rows + (row0 + i);
        m(i, j) = Scalar(bound * (2.0 * uniform01(seed, stream, index) - 1.0));
      });
}

// Fills v with elements [offset, offset + v.size()) of a global uniform vector.
template <class ExecSpace, class VView>
void fill_uniform_segment(const ExecSpace& space, const VView& v, std::uint64_t seed,
                          std::uint64_t stream, double bound, std::size_t offset) {
  using Scalar = typename VView::non_const_value_type;
  Kokkos::parallel_for(
      "phantom::fill_uniform", Kokkos::RangePolicy<ExecSpace>(space, 0, v.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        v(i) = Scalar(bound * (2.0 * uniform01(seed, stream, offset + i) - 1.0));
      });
}

// Whole-matrix (or whole-vector) form.
template <class ExecSpace, class MView>
void fill_uniform(const ExecSpace& space, const MView& m, std::uint64_t seed, std::uint64_t stream,
                  double bound) {
  if constexpr (MView::rank == 1)
    fill_uniform_segment(space, m, seed, stream, bound, 0);
  else
    fill_uniform_block(space, m, seed, stream, bound, 0, 0, m.extent(0));
}

}  // namespace phantom
