// Quantization of a (rows x cols) message (a LayoutLeft block of a
// (batch x features) matrix) into bytes, and back.
//
// int8 / int4 / int2: per channel (feature column j) symmetric max-abs scale
//   s_j = max_i |x_ij|, L = 2^(bits-1) - 1 (127, 7, 1),
//   q_ij = round(x_ij L / s_j) in [-L, L], stored as q + L in `bits` bits;
//   x'_ij = q_ij s_j / L, so |x - x'| <= s_j / (2 L) (plus the scalar's rounding).
//   Column j occupies s + ceil(rows bits / 8) bytes at j (s + ceil(rows bits/8)):
//   its scale (the Scalar's bytes) then its codes, little-endian within each
//   byte. Per-column packing lets every column be encoded by its own thread.
// fp16 / bf16: each value cast with round-to-nearest-even (float16.hpp), two
//   bytes little-endian, column-major; relative error <= 2^-11 / 2^-8.
// Sizes: compressed_bytes() in compression_config.hpp.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "phantom/compress/compression_config.hpp"
#include "phantom/compress/float16.hpp"
#include "phantom/core/kokkos_compat.hpp"

namespace phantom {
namespace detail {

// Byte-wise copies (memcpy, usable in device code; the bytes are unaligned).
template <class T, class Bytes>
KOKKOS_INLINE_FUNCTION void store_bytes(const Bytes& b, std::size_t at, T v) {
  const unsigned char* src = reinterpret_cast<const unsigned char*>(&v);
  for (std::size_t i = 0; i < sizeof(T); ++i) b(at + i) = src[i];
}
template <class T, class Bytes>
KOKKOS_INLINE_FUNCTION T load_bytes(const Bytes& b, std::size_t at) {
  T v{};
  unsigned char* dst = reinterpret_cast<unsigned char*>(&v);
  for (std::size_t i = 0; i < sizeof(T); ++i) dst[i] = b(at + i);
  return v;
}

}  // namespace detail

// Whether quantize() handles the method.
inline bool is_quantization(CompressionMethod m) {
  return quantization_bits(m) > 0 || m == CompressionMethod::fp16 || m == CompressionMethod::bf16;
}

// Encodes x (rows x cols) into out, which holds compressed_bytes(rows, cols)
// bytes, on the instance space.
template <class Exec, class In, class Bytes>
void quantize(const Exec& space, CompressionMethod method, const In& x, const Bytes& out) {
  using Scalar = typename In::non_const_value_type;
  const std::size_t rows = x.extent(0), cols = x.extent(1);
  if (method == CompressionMethod::fp16 || method == CompressionMethod::bf16) {
    const bool half = method == CompressionMethod::fp16;
    Kokkos::parallel_for(
        "phantom::compress::cast", Kokkos::RangePolicy<Exec>(space, 0, rows * cols),
        KOKKOS_LAMBDA(const std::size_t k) {
          const std::size_t i = k % rows, j = k / rows;
          const double v = double(x(i, j));
          const std::uint16_t h = half ? to_fp16(v) : to_bf16(v);
          out(2 * k) = static_cast<unsigned char>(h & 0xff);
          out(2 * k + 1) = static_cast<unsigned char>(h >> 8);
        });
    return;
  }
  const int bits = quantization_bits(method);
  const int levels = (1 << (bits - 1)) - 1;
  const std::size_t column_bytes = sizeof(Scalar) + (rows * std::size_t(bits) + 7) / 8;
  Kokkos::parallel_for(
      "phantom::compress::quantize", Kokkos::RangePolicy<Exec>(space, 0, cols),
      KOKKOS_LAMBDA(const std::size_t j) {
        Scalar scale = 0;
        for (std::size_t i = 0; i < rows; ++i) {
          const Scalar a = x(i, j) < 0 ? -x(i, j) : x(i, j);
          if (a > scale) scale = a;
        }
        const std::size_t base = j * column_bytes;
        detail::store_bytes(out, base, scale);
        const Scalar inv = scale > 0 ? Scalar(levels) / scale : Scalar(0);
        unsigned int byte = 0;
        int used = 0;  // bits filled in `byte`
        std::size_t at = base + sizeof(Scalar);
        for (std::size_t i = 0; i < rows; ++i) {
          // Clamped in floating point before the cast, so a NaN or an
          // infinity (a diverged run) becomes an end code, not undefined.
          Scalar v = math::floor(x(i, j) * inv + Scalar(0.5));
          v = v >= Scalar(-levels) ? v : Scalar(-levels);
          v = v <= Scalar(levels) ? v : Scalar(levels);
          const long q = long(v);
          byte |= unsigned(q + levels) << used;
          used += bits;
          if (used == 8) {
            out(at++) = static_cast<unsigned char>(byte);
            byte = 0;
            used = 0;
          }
        }
        if (used > 0) out(at) = static_cast<unsigned char>(byte);
      });
}

// Decodes in (from quantize) into out (rows x cols): out = x', or out += x'
// when accumulate, on the instance space.
template <class Exec, class Bytes, class Out>
void dequantize(const Exec& space, CompressionMethod method, const Bytes& in, const Out& out,
                bool accumulate) {
  using Scalar = typename Out::non_const_value_type;
  const std::size_t rows = out.extent(0), cols = out.extent(1);
  if (method == CompressionMethod::fp16 || method == CompressionMethod::bf16) {
    const bool half = method == CompressionMethod::fp16;
    Kokkos::parallel_for(
        "phantom::compress::uncast", Kokkos::RangePolicy<Exec>(space, 0, rows * cols),
        KOKKOS_LAMBDA(const std::size_t k) {
          const std::size_t i = k % rows, j = k / rows;
          const std::uint16_t h = std::uint16_t(in(2 * k) | (unsigned(in(2 * k + 1)) << 8));
          const Scalar v = Scalar(half ? from_fp16(h) : from_bf16(h));
          out(i, j) = accumulate ? out(i, j) + v : v;
        });
    return;
  }
  const int bits = quantization_bits(method);
  const int levels = (1 << (bits - 1)) - 1;
  const unsigned mask = (1u << bits) - 1u;
  const std::size_t column_bytes = sizeof(Scalar) + (rows * std::size_t(bits) + 7) / 8;
  Kokkos::parallel_for(
      "phantom::compress::dequantize", Kokkos::RangePolicy<Exec>(space, 0, cols),
      KOKKOS_LAMBDA(const std::size_t j) {
        const std::size_t base = j * column_bytes;
        const Scalar step = detail::load_bytes<Scalar>(in, base) / Scalar(levels);
        for (std::size_t i = 0; i < rows; ++i) {
          const std::size_t bit = i * std::size_t(bits);
          const unsigned code = (unsigned(in(base + sizeof(Scalar) + bit / 8)) >> (bit % 8)) & mask;
          const Scalar v = Scalar(int(code) - levels) * step;
          out(i, j) = accumulate ? out(i, j) + v : v;
        }
      });
}

}  // namespace phantom
