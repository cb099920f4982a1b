#pragma once
// A pre-sized buffer a parser fills with the events of one frame. Allocated once; push()
// never allocates and reports overflow instead (the frame is then counted as an error).
#include <cstddef>
#include <memory>

#include "feedhandler/event.hpp"

namespace fh {

class EventBatch {
public:
  // 16k events = 1 MiB: a 5000-level Binance REST snapshot per side fits.
  static constexpr std::size_t kDefaultCapacity = 16384;

  explicit EventBatch(std::size_t capacity = kDefaultCapacity)
      : events_(std::make_unique<Event[]>(capacity)), capacity_(capacity) {}

  void clear() noexcept { size_ = 0; overflow_ = false; }

  // Returns a slot to fill, or nullptr when full (overflow() then reports true).
  [[nodiscard]] Event* push() noexcept {
    if (size_ == capacity_) [[unlikely]] {
      overflow_ = true;
      return nullptr;
    }
    return &events_[size_++];
  }
  void push(const Event& e) noexcept {
    if (Event* slot = push()) *slot = e;
  }
  // Drops everything pushed after `mark` (a parser abandons a half-parsed message).
  void truncate(std::size_t mark) noexcept { size_ = mark < size_ ? mark : size_; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] const Event* begin() const noexcept { return events_.get(); }
  [[nodiscard]] const Event* end() const noexcept { return events_.get() + size_; }
  [[nodiscard]] Event& operator[](std::size_t i) noexcept { return events_[i]; }
  [[nodiscard]] const Event& operator[](std::size_t i) const noexcept { return events_[i]; }

private:
  std::unique_ptr<Event[]> events_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

} // namespace fh
