#pragma once
// Replaces the global operator new/delete with counting versions (malloc/free underneath), for
// tests that prove a steady state allocates nothing. Include it in exactly ONE translation unit
// of a test binary (the replacement functions are defined here, not declared). The nothrow
// forms are replaced too (std::stable_sort's buffer uses them), so every new pairs with the
// free below and ASan sees matching pairs.
#include <atomic>
#include <cstdlib>
#include <new>

namespace fh::test {
inline std::atomic<std::size_t> g_allocations{0};
} // namespace fh::test

void* operator new(std::size_t n) {
  fh::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  fh::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  fh::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  fh::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
// The replaced operator new uses malloc, so free is the matching release (GCC cannot see it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
