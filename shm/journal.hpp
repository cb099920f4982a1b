#pragma once
// The event journal: a single-writer broadcast ring of 64-byte records (Aeron's broadcast
// buffer, with fixed-size records).
//
// Why this shape: the writer must never wait for a reader, so there is no per-reader state in
// shared memory and no back-pressure; a reader keeps its own cursor and is told, with a count,
// when the writer lapped it. A record is exactly one cache line, so there is no room for a
// per-record sequence; instead the journal header carries two counters on one line:
//   writer: tail_intent = p+1 (relaxed); record words (release stores); tail = p+1 (release)
//   reader: t = tail (acquire); copy records [cursor, t) (acquire loads); i = tail_intent;
//           a copied record q is intact iff q >= i - capacity
// A reader that loaded a word of a record written over q's index (position >= q + capacity)
// acquired that store and so sees tail_intent >= q + capacity + 1: one load of tail_intent
// validates a whole batch. Records are copied out first and validated before the handler sees
// them, so a handler never gets a torn record.
//
// Lap policy: lost records are reported, never skipped silently. A poll delivers a contiguous
// run of records; `lost` counts the records skipped immediately before that run. After a lap
// the cursor moves to the oldest record still retained. A lap noticed after some records were
// delivered ends the poll, and the next poll reports it.
#include <cstddef>
#include <cstdint>

#include "shm/layout.hpp"
#include "shm/seqlock.hpp"

namespace fh::shm {

// Writer side. One thread appends.
class JournalAppender {
public:
  JournalAppender() = default;
  JournalAppender(JournalHeader* header, JournalRecord* records) noexcept
      : header_(header), words_(reinterpret_cast<std::uint64_t*>(records)),
        mask_(header->capacity - 1), tail_(seqlock::load_relaxed(header->tail)) {}

  // Publishes `r` and returns its position.
  std::uint64_t append(const JournalRecord& r) noexcept {
    const std::uint64_t p = tail_;
    seqlock::store_relaxed(header_->tail_intent, p + 1);
    seqlock::store_from(words_ + (p & mask_) * kRecordWords, &r, kRecordWords);
    seqlock::store_release(header_->tail, p + 1);
    tail_ = p + 1;
    // The next record's line was last written a whole ring ago and is cold: fetch it for
    // writing now, so the next append's stores (and the tail store ordered after them) do not
    // wait for that miss.
    __builtin_prefetch(words_ + (tail_ & mask_) * kRecordWords, 1, 3);
    return p;
  }

  [[nodiscard]] std::uint64_t tail() const noexcept { return tail_; }

private:
  JournalHeader* header_ = nullptr;
  std::uint64_t* words_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t tail_ = 0;
};

enum class JournalStart : std::uint8_t {
  Now,    // only records appended from now on
  Oldest, // the oldest record still retained (up to capacity records back)
};

struct PollResult {
  std::size_t delivered; // records handed to the handler
  std::uint64_t lost;    // records the writer overwrote before this reader got them
};

// Reader side: a cursor over a mapped journal. Copyable; one per thread. No allocation, no
// system calls, loads only.
class JournalReader {
public:
  // Records copied and validated per step (on the stack).
  static constexpr std::size_t kBatch = 16;
  static constexpr unsigned kMaxLapsPerPoll = 4;

  JournalReader() = default;
  JournalReader(const JournalHeader* header, const JournalRecord* records,
                JournalStart start) noexcept
      : header_(header), words_(reinterpret_cast<const std::uint64_t*>(records)),
        capacity_(header->capacity) {
    seek(start);
  }

  void seek(JournalStart start) noexcept {
    const std::uint64_t t = tail();
    cursor_ = start == JournalStart::Now ? t : (t > capacity_ ? t - capacity_ : 0);
  }

  // Hands up to `limit` records to handler(const JournalRecord&, std::uint64_t position), in
  // position order. The handler must not throw.
  template <class Handler> PollResult poll(std::size_t limit, Handler&& handler) noexcept {
    PollResult result{0, 0};
    if (header_ == nullptr)
      return result;
    alignas(kCacheLine) JournalRecord batch[kBatch];
    const std::uint64_t mask = capacity_ - 1;
    unsigned laps = 0; // a writer lapping us on every step must not keep us here forever
    while (result.delivered < limit) {
      const std::uint64_t t = seqlock::load_acquire(header_->tail);
      if (t <= cursor_)
        break;
      const std::uint64_t oldest = t > capacity_ ? t - capacity_ : 0;
      if (cursor_ < oldest) {
        if (result.delivered != 0)
          break; // report the lap on the next poll, after what was delivered
        result.lost += oldest - cursor_;
        cursor_ = oldest;
      }
      std::uint64_t n = t - cursor_;
      if (n > kBatch)
        n = kBatch;
      if (n > limit - result.delivered)
        n = limit - result.delivered;
      for (std::uint64_t k = 0; k < n; ++k)
        seqlock::load_into(&batch[k], words_ + ((cursor_ + k) & mask) * kRecordWords,
                           kRecordWords);
      const std::uint64_t intent = seqlock::load_relaxed(header_->tail_intent);
      const std::uint64_t first_intact = intent > capacity_ ? intent - capacity_ : 0;
      if (cursor_ < first_intact) {
        // Overwritten while we copied: drop the batch and restart at the oldest intact record.
        if (result.delivered != 0)
          break;
        result.lost += first_intact - cursor_;
        cursor_ = first_intact;
        if (++laps == kMaxLapsPerPoll)
          break;
        continue;
      }
      for (std::uint64_t k = 0; k < n; ++k)
        handler(static_cast<const JournalRecord&>(batch[k]), cursor_ + k);
      cursor_ += n;
      result.delivered += static_cast<std::size_t>(n);
    }
    lost_total_ += result.lost;
    return result;
  }

  // Next position this reader will deliver.
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }
  // Writer's tail now (records ever appended).
  [[nodiscard]] std::uint64_t tail() const noexcept {
    return header_ == nullptr ? 0 : seqlock::load_acquire(header_->tail);
  }
  [[nodiscard]] std::uint64_t lost_total() const noexcept { return lost_total_; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

private:
  const JournalHeader* header_ = nullptr;
  const std::uint64_t* words_ = nullptr;
  std::uint64_t capacity_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t lost_total_ = 0;
};

} // namespace fh::shm
