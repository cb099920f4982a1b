// fh-inspect stats: writer state and liveness, geometry, journal position and reader lag,
// per-venue counters (names as the segment spells them), per-instrument counters and the
// deduplicated error log.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"

namespace fh::inspect {
namespace {

struct InstrumentRow {
  const shm::DirectoryEntry* entry;
  shm::ReadStatus read;
  shm::Top top;
};

struct ErrorRow {
  shm::ReadStatus read;
  shm::ErrorEntry entry;
};

} // namespace

int run_stats(const shm::Reader& reader, const Options& options) {
  const shm::SegmentHeader& h = reader.header();
  const shm::WriterStatus w = reader.writer_status();
  const Liveness live = writer_liveness(w, options.stale_ms * 1'000'000);
  const shm::JournalReader journal = reader.journal(shm::JournalStart::Oldest);
  const std::uint64_t tail = journal.tail();
  const std::uint64_t oldest = journal.position();

  std::vector<std::uint32_t> counter_index; // counters the segment names
  for (std::uint32_t i = 0; i < shm::kCountersPerVenue; ++i)
    if (reader.counter_name(i)[0] != '\0')
      counter_index.push_back(i);
  std::vector<std::uint32_t> venues;
  for (std::uint32_t v = 0; v < shm::kMaxVenues; ++v)
    if (reader.venue_name(v)[0] != '\0')
      venues.push_back(v);
  bool busy = false;
  std::vector<InstrumentRow> instruments;
  for (std::uint32_t id = 0; id < reader.instrument_count(); ++id)
    if (const shm::DirectoryEntry* e = reader.instrument(id)) {
      InstrumentRow row{e, shm::ReadStatus::Ok, {}};
      row.read = reader.top(id, row.top);
      busy = busy || row.read != shm::ReadStatus::Ok;
      instruments.push_back(row);
    }
  std::vector<ErrorRow> errors;
  for (std::uint32_t i = 0; i < reader.error_count(); ++i) {
    ErrorRow row{};
    row.read = reader.error(i, row.entry);
    busy = busy || row.read != shm::ReadStatus::Ok;
    errors.push_back(row);
  }

  if (options.json) {
    Json j;
    j.begin_object().key("segment").begin_object()
        .field("path", reader.path())
        .field("layout_major", h.layout_major)
        .field("layout_minor", h.layout_minor)
        .field("generation", w.generation)
        .field("total_size", h.total_size)
        .field("max_instruments", h.max_instruments)
        .field("instruments", instruments.size())
        .field("depth", h.depth)
        .field("journal_capacity", h.journal_capacity)
        .end_object();
    j.key("writer").begin_object()
        .field("state", shm::to_cstring(w.state))
        .field("liveness", live.word)
        .field("pid", w.pid)
        .field("process_exists", live.process_exists)
        .field("start_time_ns", w.start_time_ns)
        .field("heartbeat_ns", w.heartbeat_ns)
        .field("heartbeat_age_ns", w.heartbeat_age_ns)
        .end_object();
    j.key("journal").begin_object()
        .field("capacity", journal.capacity())
        .field("tail", tail)
        .field("oldest", oldest)
        .field("lag_from_now", std::uint64_t{0})
        .field("lag_from_oldest", tail - oldest)
        .end_object();
    j.key("venues").begin_array();
    for (const std::uint32_t v : venues) {
      j.begin_object().field("id", v).field("name", reader.venue_name(v));
      j.key("counters").begin_object();
      for (const std::uint32_t i : counter_index)
        j.field(reader.counter_name(i), reader.counter_value(v, i));
      j.end_object().end_object();
    }
    j.end_array();
    j.key("instruments").begin_array();
    for (const InstrumentRow& r : instruments) {
      const bool ok = r.read == shm::ReadStatus::Ok;
      j.begin_object()
          .field("id", r.entry->id)
          .field("instrument", instrument_name(*r.entry))
          .field("status", ok ? status_name(r.top.status) : shm::to_cstring(r.read))
          .field("seq", r.top.last_seq)
          .field("book_updates", r.top.book_updates)
          .field("bbo_updates", r.top.bbo_updates)
          .field("trades", r.top.trades)
          .field("status_changes", r.top.status_changes)
          .field("publish_ts_ns", r.top.publish_ts_ns)
          .field("read", shm::to_cstring(r.read))
          .end_object();
    }
    j.end_array();
    j.key("errors").begin_object()
        .field("used", reader.error_count())
        .field("dropped", reader.errors_dropped());
    j.key("entries").begin_array();
    for (const ErrorRow& r : errors) {
      const shm::ErrorEntry& e = r.entry;
      j.begin_object().field("code", e.code);
      j.key("instrument_id");
      if (e.instrument == kNoErrorInstrument)
        j.null();
      else
        j.value(e.instrument);
      j.field("instrument", instrument_name(reader, e.instrument))
          .field("count", e.count)
          .field("first_ns", e.first_ns)
          .field("last_ns", e.last_ns)
          .field("text", e.text)
          .field("read", shm::to_cstring(r.read))
          .end_object();
    }
    j.end_array().end_object().end_object();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("segment   %s  layout %u.%u  generation %" PRIu64 "  %" PRIu64 " bytes\n",
                reader.path(), unsigned{h.layout_major}, unsigned{h.layout_minor}, w.generation,
                h.total_size);
    std::printf("writer    %s, pid %d (%s)  started %s  heartbeat %s ago\n",
                shm::to_cstring(w.state), w.pid, live.word, utc_time(w.start_time_ns).c_str(),
                w.heartbeat_ns != 0 ? duration(w.heartbeat_age_ns).c_str() : "never,");
    std::printf("geometry  %zu of %u instruments, depth %u, journal %u records\n",
                instruments.size(), h.max_instruments, h.depth, h.journal_capacity);
    std::printf("journal   tail %" PRIu64 ", oldest retained %" PRIu64
                "; lag of a reader starting now 0, from the oldest %" PRIu64 "\n",
                tail, oldest, tail - oldest);

    std::printf("\nvenue counters\n");
    std::vector<std::vector<std::string>> rows{{"VENUE"}};
    std::vector<bool> right{false};
    for (const std::uint32_t i : counter_index) {
      rows[0].emplace_back(reader.counter_name(i));
      right.push_back(true);
    }
    for (const std::uint32_t v : venues) {
      rows.push_back({reader.venue_name(v)});
      for (const std::uint32_t i : counter_index)
        rows.back().push_back(std::to_string(reader.counter_value(v, i)));
    }
    print_table(stdout, rows, right);

    std::printf("\ninstruments\n");
    rows = {{"ID", "INSTRUMENT", "STATUS", "SEQ", "BOOK_UPDATES", "BBO_UPDATES", "TRADES",
             "STATUS_CHANGES", "LAST_PUBLISH"}};
    const std::int64_t now = shm::realtime_ns();
    for (const InstrumentRow& r : instruments) {
      if (r.read != shm::ReadStatus::Ok) {
        rows.push_back({std::to_string(r.entry->id), instrument_name(*r.entry),
                        std::string("read:") + shm::to_cstring(r.read), "-", "-", "-", "-", "-",
                        "-"});
        continue;
      }
      const shm::Top& t = r.top;
      rows.push_back({std::to_string(r.entry->id), instrument_name(*r.entry),
                      status_name(t.status), std::to_string(t.last_seq),
                      std::to_string(t.book_updates), std::to_string(t.bbo_updates),
                      std::to_string(t.trades), std::to_string(t.status_changes),
                      t.publish_ts_ns != 0 ? duration(now - t.publish_ts_ns) + " ago" : "-"});
    }
    print_table(stdout, rows, {true, false, false, true, true, true, true, true, true});

    std::printf("\nerrors (%u of %u slots used, %" PRIu64 " dropped)\n", reader.error_count(),
                shm::kErrorSlots, reader.errors_dropped());
    if (!errors.empty()) {
      rows = {{"CODE", "INSTRUMENT", "COUNT", "FIRST", "LAST", "TEXT"}};
      for (const ErrorRow& r : errors) {
        const shm::ErrorEntry& e = r.entry;
        rows.push_back({std::to_string(e.code), instrument_name(reader, e.instrument),
                        std::to_string(e.count), utc_time(e.first_ns), utc_time(e.last_ns),
                        r.read == shm::ReadStatus::Ok ? std::string(e.text)
                                                      : std::string("read:") +
                                                            shm::to_cstring(r.read)});
      }
      print_table(stdout, rows, {true, false, true, false, false, false});
    }
  }
  if (busy)
    std::fprintf(stderr, "fh-inspect: some slots stayed locked (read status busy): writer died "
                         "mid-write?\n");
  return busy ? kExitReadFailed : kExitOk;
}

} // namespace fh::inspect
