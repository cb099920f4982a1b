#pragma once
// Book builder -> shared memory: the Publisher (pipeline.hpp) the feed handler runs.
//
// Slots: after every change the instrument's slot gets the top N of our book with its status
// and sequence id, or the new status, the venue's BBO, the last trade.
// Journal: what a reader needs to rebuild every book exactly, in order:
//   applied update   BookBegin, the message's levels as sent (absolute sizes, 0 deletes),
//                    BookEnd with the venue checksum: exactly the batch the builder applied
//   snapshot         BookBegin(snapshot) + every level of our book once the snapshot is in
//                    (Binance: with the buffered updates replayed on top) + BookEnd: an image,
//                    so a reader never replays the venue's buffering rules itself
//   Trade, Bbo, Status records as they happen.
// Batches the builder buffered, dropped or skipped never reach the journal, so a reader that
// applies the journal holds the published book (the tests check it against venue checksums).
//
// Why stage: only a batch's end says whether it was applied, so its levels wait in a fixed
// buffer until then; a batch longer than the buffer is journaled as an image instead.
// Ids: shm ids are dense in order of first publication, mapped from registry ids, so a
// segment sized for 1024 instruments serves a registry that loaded thousands from metadata.
// Threads: observe()/on_notice() run on the book thread (they own the slots and the journal);
// sync_counters() and the writer's heartbeat belong to the control thread, or to the book
// thread once the pipeline has finished.
#include <cstdint>
#include <vector>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/event.hpp"
#include "shm/writer.hpp"

namespace fh {

struct ShmPublisherCounters {
  std::uint64_t book_publishes = 0;
  std::uint64_t journal_records = 0;
  std::uint64_t images = 0;              // snapshot images journaled
  std::uint64_t oversized_batches = 0;   // updates journaled as images (stage too small)
  std::uint64_t unpublished_events = 0;  // instrument beyond the segment's max_instruments
  std::uint64_t directory_errors = 0;    // add_instrument refused (name too long, ...)
};

class ShmPublisher {
public:
  static constexpr std::size_t kStageLevels = 8192;
  // Counters are pushed to the segment every this many notices (and by sync_counters()).
  static constexpr std::uint32_t kCounterSyncEvery = 4096;

  explicit ShmPublisher(shm::Writer& writer);

  // Every event, before the builder sees it (pipelines call it when the publisher has it).
  void observe(const Event& e) noexcept {
    if (e.type == EventType::BookBegin) {
      begin_ = e;
      staged_ = 0;
      overflow_ = false;
    } else if (e.type == EventType::BookLevel) {
      if (staged_ < kStageLevels) [[likely]]
        stage_[staged_++] = e;
      else
        overflow_ = true;
    }
  }

  // After each event that changed something.
  void on_notice(const BookNotice& n, const Event& e) noexcept;

  // Writes every venue's book counters (sums over its instruments) into the segment.
  void sync_counters() noexcept;

  // shm id of a registry id, kNoInstrument if it was never published.
  std::uint32_t shm_id(std::uint32_t registry_id) const noexcept {
    return registry_id < shm_ids_.size() ? shm_ids_[registry_id] : kNoInstrument;
  }
  const ShmPublisherCounters& counters() const noexcept { return counters_; }

private:
  std::uint32_t slot_of(const InstrumentBook& b) noexcept;
  void publish_book(std::uint32_t sid, const InstrumentBook& b, const Event& end) noexcept;
  void journal_batch(std::uint32_t sid, const Event& end) noexcept;
  void journal_image(std::uint32_t sid, const InstrumentBook& b, const Event& end) noexcept;
  void journal_status(std::uint32_t sid, const InstrumentBook& b, const Event& e) noexcept;
  void append(const shm::JournalRecord& r) noexcept;
  std::uint64_t book_seq(const InstrumentBook& b) const noexcept;

  shm::Writer* writer_;
  Event begin_{};                      // BookBegin of the batch in flight
  std::vector<Event> stage_;           // its levels (kStageLevels, reserved up front)
  std::size_t staged_ = 0;
  bool overflow_ = false;
  std::vector<std::uint32_t> shm_ids_; // registry id -> shm id (kMaxInstruments, up front)
  std::vector<const InstrumentBook*> books_; // shm id -> book, for counters
  std::uint32_t next_id_ = 0;
  std::uint32_t since_sync_ = 0;
  std::int64_t publish_ns_ = 0;       // CLOCK_REALTIME at the current notice
  ShmPublisherCounters counters_;
};

} // namespace fh
