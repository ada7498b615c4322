// Type-erased buffers the communicator backends work on: a pointer, a count of
// values, their type, and where the memory lives. The View front-ends in
// communicator.hpp build these; callers holding raw pointers may build them too.
#pragma once

#include <cstddef>

namespace phantom {

enum class DataType { float32, float64, int32, byte };

constexpr std::size_t size_of(DataType t) {
  switch (t) {
    case DataType::float32: return 4;
    case DataType::float64: return 8;
    case DataType::int32: return 4;
    case DataType::byte: return 1;
  }
  return 0;
}

constexpr const char* data_type_name(DataType t) {
  switch (t) {
    case DataType::float32: return "float32";
    case DataType::float64: return "float64";
    case DataType::int32: return "int32";
    case DataType::byte: return "byte";
  }
  return "?";
}

// host: the CPU can read and write it (HostSpace, and unified memory).
// device: only the accelerator can (CudaSpace, HIPSpace, ...).
enum class MemoryKind { host, device };

// Byte copies between a buffer's memory space and host memory. The compiled
// backends see only raw pointers; these let them stage device memory through
// host memory (MPI without GPU support) without being compiled for the device.
// The View front-ends supply them (Kokkos::deep_copy in the view's space).
struct MemoryOps {
  void (*to_host)(void* host_dst, const void* src, std::size_t bytes);
  void (*from_host)(void* dst, const void* host_src, std::size_t bytes);
  void (*copy)(void* dst, const void* src, std::size_t bytes);  // both in this space
};

struct ConstBuffer {
  const void* data = nullptr;
  std::size_t count = 0;  // values, not bytes
  DataType type = DataType::byte;
  MemoryKind memory = MemoryKind::host;
  const MemoryOps* ops = nullptr;  // null: plain host memory (memcpy)

  std::size_t bytes() const { return count * size_of(type); }
};

struct Buffer {
  void* data = nullptr;
  std::size_t count = 0;
  DataType type = DataType::byte;
  MemoryKind memory = MemoryKind::host;
  const MemoryOps* ops = nullptr;

  std::size_t bytes() const { return count * size_of(type); }
  operator ConstBuffer() const { return {data, count, type, memory, ops}; }
};

namespace detail {

// Copies between two buffers wherever they live (host memcpy, or the ops).
void copy_bytes(const Buffer& dst, const ConstBuffer& src, std::size_t bytes);

// Host -> buffer and buffer -> host copies, through the ops when the buffer is on the device.
void copy_to_host(void* host_dst, const ConstBuffer& src, std::size_t bytes);
void copy_from_host(const Buffer& dst, const void* host_src, std::size_t bytes);

}  // namespace detail
}  // namespace phantom
