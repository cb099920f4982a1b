#include "net/uring_buffer_ring.hpp"

#include <liburing.h>
#include <sys/mman.h>

#include <cerrno>

namespace fh::net {

namespace {
void *map_anonymous(std::size_t bytes) noexcept {
  void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
} // namespace

ProvidedBufferRing::~ProvidedBufferRing() {
  reset();
}

int ProvidedBufferRing::init(io_uring *ring, std::uint16_t group, std::uint32_t count,
                             std::uint32_t size) noexcept {
  reset();
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0 || size == 0)
    return -EINVAL;
  ring_bytes_ = sizeof(io_uring_buf) * count;
  slab_bytes_ = std::size_t{count} * size;
  void *r = map_anonymous(ring_bytes_);
  void *s = map_anonymous(slab_bytes_);
  if (r == nullptr || s == nullptr) {
    if (r != nullptr)
      ::munmap(r, ring_bytes_);
    if (s != nullptr)
      ::munmap(s, slab_bytes_);
    return -ENOMEM;
  }
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(r);
  reg.ring_entries = count;
  reg.bgid = group;
  const int rc = ::io_uring_register_buf_ring(ring, &reg, 0);
  if (rc != 0) {
    ::munmap(r, ring_bytes_);
    ::munmap(s, slab_bytes_);
    return rc;
  }
  uring_ = ring;
  ring_ = static_cast<io_uring_buf_ring *>(r);
  slab_ = static_cast<std::byte *>(s);
  count_ = count;
  size_ = size;
  group_ = group;
  io_uring_buf_ring_init(ring_);
  const int mask = io_uring_buf_ring_mask(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(ring_, slab_ + std::size_t{i} * size, size,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(ring_, static_cast<int>(count));
  in_kernel_ = count;
  return 0;
}

void ProvidedBufferRing::recycle(std::uint16_t id) noexcept {
  io_uring_buf_ring_add(ring_, slab_ + std::size_t{id} * size_, size_, id,
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
  ++in_kernel_;
}

void ProvidedBufferRing::reset() noexcept {
  if (ring_ == nullptr)
    return;
  (void)::io_uring_unregister_buf_ring(uring_, group_);
  ::munmap(ring_, ring_bytes_);
  ::munmap(slab_, slab_bytes_);
  uring_ = nullptr;
  ring_ = nullptr;
  slab_ = nullptr;
  count_ = size_ = in_kernel_ = 0;
}

} // namespace fh::net
