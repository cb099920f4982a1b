#pragma once
// Provided-buffer ring (IORING_REGISTER_PBUF_RING, kernel 5.19+) shared by all connections of
// one reactor.
//
// Why shaped so: with buffer select the kernel picks a buffer only when data has arrived, so
// idle connections pin no memory and one slab serves every socket of the ingest thread. Each
// completion names its buffer by id; the consumer keeps it as long as it needs (the TLS layer
// decrypts in place) and hands it back with recycle(id), which is one store into the ring plus a
// release store of the tail: no syscall, no allocation. liburing 2.3 has no
// io_uring_setup_buf_ring, so the ring (page aligned, as the kernel requires) and the slab are
// mmap'd here and registered with io_uring_register_buf_ring.
// Not thread-safe: owned by the reactor's thread like the ring itself.
#include <cstddef>
#include <cstdint>
#include <span>

struct io_uring;
struct io_uring_buf_ring;

namespace fh::net {

class ProvidedBufferRing {
public:
  ProvidedBufferRing() = default;
  ~ProvidedBufferRing();
  ProvidedBufferRing(const ProvidedBufferRing &) = delete;
  ProvidedBufferRing &operator=(const ProvidedBufferRing &) = delete;

  // Maps `count` buffers of `size` bytes (count: power of two, <= 32768) and registers them as
  // buffer group `group` on `ring`, all handed to the kernel. Returns 0 or -errno; -EINVAL,
  // -ENOSYS or -EOPNOTSUPP mean the kernel has no buffer rings (the caller falls back).
  [[nodiscard]] int init(io_uring *ring, std::uint16_t group, std::uint32_t count,
                         std::uint32_t size) noexcept;
  // Unregisters and unmaps (also done by the destructor; the ring must still be alive).
  void reset() noexcept;

  [[nodiscard]] bool active() const noexcept { return ring_ != nullptr; }
  [[nodiscard]] std::uint16_t group() const noexcept { return group_; }
  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint32_t buffer_size() const noexcept { return size_; }
  // Buffers the kernel can currently fill (0 means a recv would fail with ENOBUFS).
  [[nodiscard]] std::uint32_t in_kernel() const noexcept { return in_kernel_; }

  // The first `len` bytes of buffer `id`, which a completion just handed out.
  [[nodiscard]] std::span<std::byte> take(std::uint16_t id, std::uint32_t len) noexcept {
    --in_kernel_;
    return {slab_ + std::size_t{id} * size_, len};
  }
  // Gives buffer `id` back to the kernel.
  void recycle(std::uint16_t id) noexcept;

private:
  io_uring *uring_ = nullptr;
  io_uring_buf_ring *ring_ = nullptr;
  std::byte *slab_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t slab_bytes_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t in_kernel_ = 0;
  std::uint16_t group_ = 0;
};

} // namespace fh::net
