// IEEE half (fp16: 5 exponent bits, 10 mantissa bits) and bfloat16 (8, 7)
// conversions, written out because Kokkos 3.4 has no half type usable on the
// Serial backend. Encoding rounds to nearest, ties to even, straight from the
// double's bits (a float converts to double exactly, so float inputs are
// rounded once, never twice). Overflow gives +-inf, NaN stays NaN, values
// below half the smallest subnormal give +-0. Decoding is exact.
//
// Relative error of a normal-range result: at most 2^-11 (fp16), 2^-8 (bf16).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace phantom {
namespace float16_detail {

KOKKOS_INLINE_FUNCTION std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  const unsigned char* src = reinterpret_cast<const unsigned char*>(&x);
  unsigned char* dst = reinterpret_cast<unsigned char*>(&b);
  for (int i = 0; i < 8; ++i) dst[i] = src[i];  // memcpy, usable in device code
  return b;
}

KOKKOS_INLINE_FUNCTION double double_of(std::uint64_t b) {
  double x = 0;
  const unsigned char* src = reinterpret_cast<const unsigned char*>(&b);
  unsigned char* dst = reinterpret_cast<unsigned char*>(&x);
  for (int i = 0; i < 8; ++i) dst[i] = src[i];
  return x;
}

// x rounded to the format with E exponent and M mantissa bits, as its 1+E+M bits.
template <int E, int M>
KOKKOS_INLINE_FUNCTION std::uint16_t encode(double x) {
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr std::uint32_t inf = ((1u << E) - 1u) << M;
  const std::uint64_t b = bits_of(x);
  const std::uint32_t sign = std::uint32_t(b >> 63) << (E + M);
  const int exp = int((b >> 52) & 0x7ff);
  const std::uint64_t man = b & ((std::uint64_t(1) << 52) - 1);
  if (exp == 0x7ff)  // inf, or NaN (kept quiet: top mantissa bit set)
    return std::uint16_t(sign | inf | (man ? (1u << (M - 1)) : 0u));
  if (exp == 0) return std::uint16_t(sign);  // double subnormals are far below any target's
  const int te = exp - 1023 + bias;          // target's biased exponent
  const std::uint64_t sig = (std::uint64_t(1) << 52) | man;
  // Bits of sig that do not fit: 52 - M for a normal result, more for a subnormal one.
  const int shift = 52 - M + (te >= 1 ? 0 : 1 - te);
  if (shift > 53) return std::uint16_t(sign);  // below half the smallest subnormal
  std::uint64_t kept = sig >> shift;
  const std::uint64_t rest = sig & ((std::uint64_t(1) << shift) - 1);
  const std::uint64_t half = std::uint64_t(1) << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) ++kept;  // to nearest, ties to even
  // Normal: kept holds the implicit bit, so (te - 1) << M + kept carries a
  // mantissa overflow into the exponent. Subnormal: kept is the field itself
  // (and 1 << M, the smallest normal, when it rounds up).
  const std::uint64_t field = te >= 1 ? (std::uint64_t(te - 1) << M) + kept : kept;
  if (field >= inf) return std::uint16_t(sign | inf);
  return std::uint16_t(sign | std::uint32_t(field));
}

template <int E, int M>
KOKKOS_INLINE_FUNCTION double decode(std::uint16_t h) {
  constexpr int bias = (1 << (E - 1)) - 1;
  const std::uint64_t sign = std::uint64_t(h >> (E + M)) << 63;
  const int exp = int((h >> M) & ((1u << E) - 1u));
  std::uint64_t man = h & ((1u << M) - 1u);
  if (exp == (1 << E) - 1)  // inf or NaN
    return double_of(sign | (std::uint64_t(0x7ff) << 52) | (man << (52 - M)));
  if (exp == 0) {
    if (man == 0) return double_of(sign);
    // Subnormal man 2^(1 - bias - M): normalise into a double.
    int e = 1 - bias;
    while (!(man & (1u << M))) {
      man <<= 1;
      --e;
    }
    man &= (1u << M) - 1u;
    return double_of(sign | (std::uint64_t(e + 1023) << 52) | (man << (52 - M)));
  }
  return double_of(sign | (std::uint64_t(exp - bias + 1023) << 52) | (man << (52 - M)));
}

}  // namespace float16_detail

KOKKOS_INLINE_FUNCTION std::uint16_t to_fp16(double x) {
  return float16_detail::encode<5, 10>(x);
}
KOKKOS_INLINE_FUNCTION double from_fp16(std::uint16_t h) {
  return float16_detail::decode<5, 10>(h);
}
KOKKOS_INLINE_FUNCTION std::uint16_t to_bf16(double x) {
  return float16_detail::encode<8, 7>(x);
}
KOKKOS_INLINE_FUNCTION double from_bf16(std::uint16_t h) {
  return float16_detail::decode<8, 7>(h);
}

}  // namespace phantom
