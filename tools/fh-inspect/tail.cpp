// fh-inspect tail: journal records, one line (or one JSON object) each. Starts at the writer's
// tail (or the oldest retained record), drains what is there and exits, or with --follow
// keeps polling until Ctrl-C. A lap (the writer overwrote records before we read them) is
// reported in the stream, where it happened, with the exact number of records lost.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"
#include "tools/fh-inspect/terminal.hpp"

namespace fh::inspect {
namespace {

constexpr std::uint32_t kAllInstruments = 0xffffffffu;
constexpr std::size_t kPollLimit = 256;

struct Scale {
  std::uint8_t price = 0;
  std::uint8_t qty = 0;
};

Scale scale_of(const shm::Reader& reader, std::uint32_t id) {
  const shm::DirectoryEntry* e = reader.instrument(id);
  return e == nullptr ? Scale{} : Scale{e->price_decimals, e->qty_decimals};
}

std::string record_json(const shm::Reader& reader, const shm::JournalRecord& r,
                        std::uint64_t position) {
  const Scale s = scale_of(reader, r.instrument);
  Json j;
  j.begin_object()
      .field("position", position)
      .field("type", record_type_name(r.type))
      .field("instrument", instrument_name(reader, r.instrument))
      .field("id", r.instrument)
      .field("flags", r.flags);
  switch (static_cast<shm::RecordType>(r.type)) {
  case shm::RecordType::BookBegin: {
    const auto& b = r.payload.begin;
    j.field("snapshot", (r.flags & shm::kRecordFlagSnapshot) != 0)
        .field("first_seq", b.first_seq)
        .field("last_seq", b.last_seq);
    j.key("prev_seq");
    if ((r.flags & shm::kRecordFlagHasPrevSeq) != 0)
      j.value(b.prev_seq);
    else
      j.null();
    j.field("levels", b.levels).field("depth", b.depth);
    break;
  }
  case shm::RecordType::BookLevel:
    j.field("side", r.side == 0 ? "bid" : "ask")
        .field("price", decimal(r.payload.level.price, s.price))
        .field("qty", decimal(r.payload.level.qty, s.qty))
        .field("orders", r.payload.level.orders);
    break;
  case shm::RecordType::BookEnd:
    j.key("checksum");
    if ((r.flags & shm::kRecordFlagHasChecksum) != 0)
      j.value(r.payload.end.checksum);
    else
      j.null();
    break;
  case shm::RecordType::Trade:
    j.field("side", aggressor_name(r.side))
        .field("price", decimal(r.payload.trade.price, s.price))
        .field("qty", decimal(r.payload.trade.qty, s.qty))
        .field("trade_id", r.payload.trade.trade_id);
    break;
  case shm::RecordType::Bbo:
    j.field("bid_price", decimal(r.payload.bbo.bid_price, s.price))
        .field("bid_qty", decimal(r.payload.bbo.bid_qty, s.qty))
        .field("ask_price", decimal(r.payload.bbo.ask_price, s.price))
        .field("ask_qty", decimal(r.payload.bbo.ask_qty, s.qty));
    break;
  case shm::RecordType::Status:
    j.field("status", status_name(r.payload.status.status))
        .field("reason", r.payload.status.reason)
        .field("last_seq", r.payload.status.last_seq);
    break;
  case shm::RecordType::None: break;
  }
  j.field("exch_ts_ns", r.exch_ts_ns)
      .field("recv_ts_ns", r.recv_ts_ns)
      .field("publish_ts_ns", r.publish_ts_ns)
      .end_object();
  return j.str();
}

// "+1.20 ms" from `from` to `to`, "-" when either is unknown.
std::string delay(std::int64_t from, std::int64_t to) {
  if (from == 0 || to == 0)
    return "-";
  return to >= from ? "+" + duration(to - from) : "-" + duration(from - to);
}

std::string record_text(const shm::Reader& reader, const shm::JournalRecord& r,
                        std::uint64_t position) {
  const Scale s = scale_of(reader, r.instrument);
  char buf[384];
  switch (static_cast<shm::RecordType>(r.type)) {
  case shm::RecordType::BookBegin: {
    const auto& b = r.payload.begin;
    std::string prev = "-";
    if ((r.flags & shm::kRecordFlagHasPrevSeq) != 0)
      prev = std::to_string(b.prev_seq);
    std::snprintf(buf, sizeof buf, "%s seq %" PRIu64 "..%" PRIu64 " prev %s levels %u depth %u",
                  (r.flags & shm::kRecordFlagSnapshot) != 0 ? "snapshot" : "update", b.first_seq,
                  b.last_seq, prev.c_str(), b.levels, b.depth);
    break;
  }
  case shm::RecordType::BookLevel: {
    const auto& l = r.payload.level;
    std::snprintf(buf, sizeof buf, "%s %s x %s%s", r.side == 0 ? "bid" : "ask",
                  decimal(l.price, s.price).c_str(), decimal(l.qty, s.qty).c_str(),
                  l.qty == 0 ? " (delete)" : "");
    break;
  }
  case shm::RecordType::BookEnd:
    if ((r.flags & shm::kRecordFlagHasChecksum) != 0)
      std::snprintf(buf, sizeof buf, "checksum %" PRId64, r.payload.end.checksum);
    else
      std::snprintf(buf, sizeof buf, "no checksum");
    break;
  case shm::RecordType::Trade: {
    const auto& t = r.payload.trade;
    std::snprintf(buf, sizeof buf, "%s %s @ %s id %" PRIu64, aggressor_name(r.side),
                  decimal(t.qty, s.qty).c_str(), decimal(t.price, s.price).c_str(), t.trade_id);
    break;
  }
  case shm::RecordType::Bbo: {
    const auto& q = r.payload.bbo;
    std::snprintf(buf, sizeof buf, "%s x %s / %s x %s", decimal(q.bid_price, s.price).c_str(),
                  decimal(q.bid_qty, s.qty).c_str(), decimal(q.ask_price, s.price).c_str(),
                  decimal(q.ask_qty, s.qty).c_str());
    break;
  }
  case shm::RecordType::Status:
    std::snprintf(buf, sizeof buf, "%s reason %u last_seq %" PRIu64,
                  status_name(r.payload.status.status), unsigned{r.payload.status.reason},
                  r.payload.status.last_seq);
    break;
  case shm::RecordType::None:
    std::snprintf(buf, sizeof buf, "(empty record)");
    break;
  default:
    std::snprintf(buf, sizeof buf, "(unknown type %u)", unsigned{r.type});
  }
  std::string line = std::to_string(position) + " " + record_type_name(r.type) + " " +
                     instrument_name(reader, r.instrument) + " " + buf;
  line += "  exch " + utc_time(r.exch_ts_ns) + " recv " + delay(r.exch_ts_ns, r.recv_ts_ns) +
          " pub " + delay(r.recv_ts_ns, r.publish_ts_ns);
  return line;
}

std::string lap_line(bool json, std::uint64_t lost, std::uint64_t first_delivered) {
  if (json) {
    Json j;
    j.begin_object()
        .field("type", "lap")
        .field("lost", lost)
        .field("from", first_delivered - lost)
        .field("to", first_delivered)
        .end_object();
    return j.str();
  }
  return "# lapped: lost " + std::to_string(lost) + " records (positions " +
         std::to_string(first_delivered - lost) + ".." + std::to_string(first_delivered - 1) +
         ", all instruments) before the writer's ring wrapped over them";
}

} // namespace

int run_tail(shm::Reader& reader, const Options& options) {
  std::uint32_t only = kAllInstruments;
  std::string only_name;
  if (!options.instrument.empty()) {
    const shm::DirectoryEntry* e = resolve_instrument(reader, options.instrument);
    if (e == nullptr)
      return kExitNotFound;
    only = e->id;
    only_name = instrument_name(*e);
  }
  if (options.follow)
    install_stop_handlers();
  const shm::JournalStart start =
      options.from_oldest ? shm::JournalStart::Oldest : shm::JournalStart::Now;
  shm::JournalReader journal = reader.journal(start);
  if (options.follow) {
    std::fprintf(stderr, "fh-inspect: tail %s from position %" PRIu64 " (journal tail %" PRIu64
                         ", %" PRIu64 " records retained)\n",
                 reader.path(), journal.position(), journal.tail(), journal.capacity());
    std::fflush(stderr);
  }

  std::uint64_t printed = 0;
  bool restart_pending = false;
  std::vector<std::string> lines; // one poll's output: a lap must be printed before its records
  while (!stop_requested()) {
    lines.clear();
    std::size_t limit = kPollLimit;
    if (options.count != 0 && only == kAllInstruments)
      limit = static_cast<std::size_t>(std::min<std::uint64_t>(limit, options.count - printed));
    const shm::PollResult p = journal.poll(limit, [&](const shm::JournalRecord& r,
                                                      std::uint64_t position) {
      if (only != kAllInstruments && r.instrument != only)
        return;
      lines.push_back(options.json ? record_json(reader, r, position)
                                   : record_text(reader, r, position));
    });
    if (p.lost != 0)
      std::printf("%s\n", lap_line(options.json, p.lost, journal.position() - p.delivered).c_str());
    for (const std::string& l : lines) {
      if (options.count != 0 && printed == options.count)
        break;
      std::printf("%s\n", l.c_str());
      ++printed;
    }
    std::fflush(stdout);
    if (options.count != 0 && printed >= options.count)
      break;
    if (p.delivered != 0 || p.lost != 0)
      continue;
    if (!options.follow)
      break; // drained
    if (restart_pending || reader.writer_restarted()) {
      journal = shm::JournalReader{}; // its mapping goes away with the reattach
      restart_pending = reader.reattach(0) != shm::AttachError::Ok;
      if (restart_pending) { // the new segment is not there yet: try again after a pause
        sleep_ms(options.interval_ms);
        continue;
      }
      journal = reader.journal(shm::JournalStart::Oldest);
      if (only != kAllInstruments) {
        const shm::DirectoryEntry* e = reader.find(only_name);
        only = e != nullptr ? e->id : kAllInstruments - 1; // gone: match nothing
      }
      if (options.json) {
        Json j;
        j.begin_object().field("type", "restart").field("generation", reader.generation()).end_object();
        std::printf("%s\n", j.str().c_str());
      } else {
        std::printf("# writer restarted: generation %" PRIu64 ", reading from the oldest record\n",
                    reader.generation());
      }
      continue;
    }
    sleep_ms(options.interval_ms);
  }
  return kExitOk;
}

} // namespace fh::inspect
