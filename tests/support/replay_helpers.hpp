#pragma once
// Shared by the replay tests: open real captures from data/, run them, sum counters.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "feedhandler/replay.hpp"

namespace fh::test {

inline std::string data_path(const std::string& rel) { return std::string(FH_DATA_DIR) + "/" + rel; }

inline std::unique_ptr<Replay> open_replay(const std::vector<std::string>& rel_paths,
                                           ReplayOptions options = {}) {
  std::vector<std::string> paths;
  for (const auto& p : rel_paths) paths.push_back(data_path(p));
  options.progress = false;
  auto opened = Replay::open(paths, options);
  if (auto* err = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << *err;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<Replay>>(opened));
}

struct Sum {
  BookCounters c;
  std::size_t books = 0, synced = 0, not_synced = 0;
};

inline Sum sum_books(const Replay& r) {
  Sum s;
  for (std::uint32_t id = 0; id < r.builder().instrument_slots(); ++id) {
    const InstrumentBook* b = r.builder().book(id);
    if (b == nullptr || b->counters().book_messages == 0) continue;
    ++s.books;
    (b->status() == BookStatus::Synced ? s.synced : s.not_synced)++;
    const BookCounters& c = b->counters();
    s.c.book_messages += c.book_messages;
    s.c.applied += c.applied;
    s.c.snapshots += c.snapshots;
    s.c.dropped += c.dropped;
    s.c.skipped_stale += c.skipped_stale;
    s.c.checksum_ok += c.checksum_ok;
    s.c.checksum_fail += c.checksum_fail;
    s.c.seq_gaps += c.seq_gaps;
    s.c.resyncs += c.resyncs;
    s.c.crossed += c.crossed;
    s.c.bbo_checks_ok += c.bbo_checks_ok;
    s.c.bbo_checks_fail += c.bbo_checks_fail;
  }
  return s;
}

inline const InstrumentBook* book_of(const Replay& r, Venue v, const std::string& native) {
  const Instrument* inst = r.registry().find(v, native);
  return inst == nullptr ? nullptr : r.builder().book(inst->id);
}

} // namespace fh::test
