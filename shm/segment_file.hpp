#pragma once
// Naming, clocks and mappings of segment files, shared by the reader and the writer.
//
// A segment is named either like a POSIX shm object ("fh-main" or "/fh-main": no '/' after the
// first character), which lives at /dev/shm/fh-main exactly where glibc's shm_open puts it, or
// by a path with a '/' after its first character ("/mnt/huge/fh-main", "./copy.seg"). Both are
// opened with open(2) (what shm_open does on Linux), so one code path serves /dev/shm,
// hugetlbfs and a copy on disk, and the reader can stat the name to notice a replaced file.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include <sys/mman.h>
#include <time.h>

namespace fh::shm {

inline constexpr std::size_t kMaxPath = 512;
inline constexpr std::string_view kShmDir = "/dev/shm/";

// Writes the NUL-terminated path for `name` into out[kMaxPath]. False for an empty name, a
// bare "/", or a path that does not fit.
[[nodiscard]] inline bool resolve_path(std::string_view name, char (&out)[kMaxPath]) noexcept {
  if (name.empty() || name == "/")
    return false;
  const bool object_name = name.find('/', 1) == std::string_view::npos;
  std::size_t n = 0;
  if (object_name) {
    if (name.front() == '/')
      name.remove_prefix(1);
    if (kShmDir.size() + name.size() + 1 > kMaxPath)
      return false;
    std::memcpy(out, kShmDir.data(), kShmDir.size());
    n = kShmDir.size();
  } else if (name.size() + 1 > kMaxPath) {
    return false;
  }
  std::memcpy(out + n, name.data(), name.size());
  out[n + name.size()] = '\0';
  return true;
}

[[nodiscard]] inline std::int64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// An owned mmap'ed range; unmapped on destruction. Move-only.
class Mapping {
public:
  Mapping() = default;
  Mapping(void* base, std::size_t size) noexcept : base_(base), size_(size) {}
  Mapping(Mapping&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  void reset() noexcept {
    if (base_ != nullptr)
      ::munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
  }

  [[nodiscard]] std::byte* data() const noexcept { return static_cast<std::byte*>(base_); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return base_ == nullptr; }

private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
};

} // namespace fh::shm
