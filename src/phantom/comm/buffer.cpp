#include "phantom/comm/buffer.hpp"

#include <cstring>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom::detail {

namespace {

[[noreturn]] void no_ops(const char* which) {
  throw InvalidArgument(std::string("phantom::comm: ") + which +
                        " buffer is in device memory but has no MemoryOps to copy it; "
                        "pass a Kokkos View or fill Buffer::ops");
}

}  // namespace

void copy_to_host(void* host_dst, const ConstBuffer& src, std::size_t bytes) {
  if (bytes == 0) return;
  if (src.ops)
    src.ops->to_host(host_dst, src.data, bytes);
  else if (src.memory == MemoryKind::host)
    std::memcpy(host_dst, src.data, bytes);
  else
    no_ops("source");
}

void copy_from_host(const Buffer& dst, const void* host_src, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst.ops)
    dst.ops->from_host(dst.data, host_src, bytes);
  else if (dst.memory == MemoryKind::host)
    std::memcpy(dst.data, host_src, bytes);
  else
    no_ops("destination");
}

void copy_bytes(const Buffer& dst, const ConstBuffer& src, std::size_t bytes) {
  if (bytes == 0 || dst.data == src.data) return;
  if (src.memory == MemoryKind::host && dst.memory == MemoryKind::host) {
    std::memcpy(dst.data, src.data, bytes);
  } else if (src.memory == MemoryKind::host) {
    copy_from_host(dst, src.data, bytes);
  } else if (dst.memory == MemoryKind::host) {
    copy_to_host(dst.data, src, bytes);
  } else if (src.ops && src.ops == dst.ops) {
    src.ops->copy(dst.data, src.data, bytes);
  } else {
    // Two device spaces (or unknown ones): through the host.
    std::vector<unsigned char> host(bytes);
    copy_to_host(host.data(), src, bytes);
    copy_from_host(dst, host.data(), bytes);
  }
}

}  // namespace phantom::detail
