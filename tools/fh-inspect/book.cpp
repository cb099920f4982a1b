// fh-inspect book: the top N levels of one instrument, once, or redrawn in place (--watch).
// --json prints the stable object {instrument, state, seq, bids, asks} (docs/fh-inspect.md).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"
#include "tools/fh-inspect/terminal.hpp"

namespace fh::inspect {
namespace {

std::string book_json(const shm::DirectoryEntry& e, const shm::Book& b) {
  Json j;
  j.begin_object()
      .field("instrument", instrument_name(e))
      .field("state", status_name(b.top.status))
      .field("seq", b.top.last_seq);
  auto side = [&](const char* name, const shm::Level* levels, std::uint32_t n) {
    j.key(name).begin_array();
    for (std::uint32_t i = 0; i < n; ++i)
      j.begin_array()
          .value(decimal(levels[i].price, e.price_decimals))
          .value(decimal(levels[i].qty, e.qty_decimals))
          .end_array();
    j.end_array();
  };
  side("bids", b.bids, b.n_bids);
  side("asks", b.asks, b.n_asks);
  j.end_object();
  return j.str();
}

std::vector<std::string> book_lines(const shm::DirectoryEntry& e, const shm::Book& b) {
  const shm::Top& t = b.top;
  const std::int64_t now = shm::realtime_ns();
  std::vector<std::string> out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s (%s, id %u)  %s  seq %llu  book updates %llu",
                instrument_name(e).c_str(), e.native, e.id, status_name(t.status),
                static_cast<unsigned long long>(t.last_seq),
                static_cast<unsigned long long>(t.book_updates));
  out.emplace_back(buf);
  std::snprintf(buf, sizeof buf, "book   exch %s  recv %s  published %s (%s ago)",
                utc_time(t.exch_ts_ns).c_str(), utc_time(t.recv_ts_ns).c_str(),
                utc_time(t.publish_ts_ns).c_str(),
                t.publish_ts_ns != 0 ? duration(now - t.publish_ts_ns).c_str() : "-");
  out.emplace_back(buf);
  if (t.bbo_updates != 0) {
    std::snprintf(buf, sizeof buf, "bbo    %s x %s / %s x %s  (venue update %llu, %llu updates)",
                  decimal(t.bbo_bid_price, e.price_decimals).c_str(),
                  decimal(t.bbo_bid_qty, e.qty_decimals).c_str(),
                  decimal(t.bbo_ask_price, e.price_decimals).c_str(),
                  decimal(t.bbo_ask_qty, e.qty_decimals).c_str(),
                  static_cast<unsigned long long>(t.bbo_update_id),
                  static_cast<unsigned long long>(t.bbo_updates));
    out.emplace_back(buf);
  }
  if (t.trades != 0) {
    std::snprintf(buf, sizeof buf, "trade  %s %s @ %s  id %llu  at %s  (%llu trades)",
                  aggressor_name(t.trade_side), decimal(t.trade_qty, e.qty_decimals).c_str(),
                  decimal(t.trade_price, e.price_decimals).c_str(),
                  static_cast<unsigned long long>(t.trade_id), utc_time(t.trade_exch_ts_ns).c_str(),
                  static_cast<unsigned long long>(t.trades));
    out.emplace_back(buf);
  }
  // Ladder: bid size, bid price | ask price, ask size, best first.
  std::vector<std::string> cols[4];
  const std::uint32_t rows = std::max(b.n_bids, b.n_asks);
  std::size_t w[3] = {8, 9, 9}; // the ask size column is last: no padding
  for (std::uint32_t i = 0; i < rows; ++i) {
    cols[0].push_back(i < b.n_bids ? decimal(b.bids[i].qty, e.qty_decimals) : "");
    cols[1].push_back(i < b.n_bids ? decimal(b.bids[i].price, e.price_decimals) : "");
    cols[2].push_back(i < b.n_asks ? decimal(b.asks[i].price, e.price_decimals) : "");
    cols[3].push_back(i < b.n_asks ? decimal(b.asks[i].qty, e.qty_decimals) : "");
    for (int c = 0; c < 3; ++c)
      w[c] = std::max(w[c], cols[c].back().size());
  }
  auto row = [&](const std::string& a, const std::string& bp, const std::string& ap,
                 const std::string& as) {
    std::snprintf(buf, sizeof buf, "  %*s  %*s | %-*s  %s", static_cast<int>(w[0]), a.c_str(),
                  static_cast<int>(w[1]), bp.c_str(), static_cast<int>(w[2]), ap.c_str(),
                  as.c_str());
    out.emplace_back(buf);
  };
  row("BID SIZE", "BID", "ASK", "ASK SIZE");
  for (std::uint32_t i = 0; i < rows; ++i)
    row(cols[0][i], cols[1][i], cols[2][i], cols[3][i]);
  if (rows == 0)
    out.emplace_back("  (both sides empty)");
  return out;
}

void report_busy(const shm::DirectoryEntry& e) {
  std::fprintf(stderr,
               "fh-inspect: book %s: read status %s (the slot stayed locked for the whole read "
               "budget: writer died mid-write?)\n",
               instrument_name(e).c_str(), shm::to_cstring(shm::ReadStatus::Busy));
}

int watch(shm::Reader& reader, const Options& options, std::uint32_t levels,
          const shm::DirectoryEntry* entry) {
  install_stop_handlers();
  auto book = std::make_unique<shm::Book>();
  const std::string key = instrument_name(*entry); // stable across a writer restart
  std::unique_ptr<Screen> screen;
  if (!options.json)
    screen = std::make_unique<Screen>(stdout);
  std::uint64_t frames = 0;
  std::uint64_t last_version = ~std::uint64_t{0};
  bool restart_pending = false;
  std::string notice; // why the view shows no book (writer restart pending, busy slot)
  while (!stop_requested()) {
    if (restart_pending || reader.writer_restarted()) {
      // The name is another segment now: map it and find the instrument again (ids may move).
      entry = nullptr;
      restart_pending = reader.reattach(0) != shm::AttachError::Ok;
      if (!restart_pending)
        entry = reader.find(key);
      notice = restart_pending ? "writer restarted; waiting for the new segment"
                               : "not in the restarted writer's segment";
    }
    if (entry == nullptr && !restart_pending)
      entry = reader.find(key); // added to the new segment later
    shm::ReadStatus rs = shm::ReadStatus::NotAttached;
    if (entry != nullptr)
      rs = reader.depth(entry->id, levels, *book);
    if (rs == shm::ReadStatus::Busy)
      notice = "read status busy: slot stayed locked (writer died mid-write?)";
    if (options.json) {
      if (rs == shm::ReadStatus::Ok && book->top.seq != last_version) {
        last_version = book->top.seq;
        std::printf("%s\n", book_json(*entry, *book).c_str());
        std::fflush(stdout);
        ++frames;
      } else if (rs == shm::ReadStatus::Busy) {
        report_busy(*entry);
      }
    } else {
      screen->begin_frame();
      if (rs == shm::ReadStatus::Ok) {
        const auto size = terminal_size();
        const auto lines = book_lines(*entry, *book);
        for (std::size_t i = 0; i < lines.size() && i + 1 < static_cast<std::size_t>(size.rows);
             ++i)
          screen->line("%s", lines[i].c_str());
      } else {
        screen->line("%s: %s", key.c_str(), notice.c_str());
      }
      screen->end_frame();
      ++frames;
    }
    if (options.frames != 0 && frames >= options.frames)
      break;
    sleep_ms(options.interval_ms);
  }
  return kExitOk;
}

} // namespace

int run_book(shm::Reader& reader, const Options& options) {
  const shm::DirectoryEntry* e = resolve_instrument(reader, options.instrument);
  if (e == nullptr)
    return kExitNotFound;
  const std::uint32_t levels = options.depth != 0 ? std::min(options.depth, reader.depth())
                                                  : reader.depth();
  if (options.depth > reader.depth())
    std::fprintf(stderr, "fh-inspect: the segment keeps %u levels per side; showing %u\n",
                 reader.depth(), levels);
  if (options.watch)
    return watch(reader, options, levels, e);
  auto book = std::make_unique<shm::Book>();
  if (reader.depth(e->id, levels, *book) != shm::ReadStatus::Ok) {
    report_busy(*e);
    return kExitReadFailed;
  }
  if (options.json) {
    std::printf("%s\n", book_json(*e, *book).c_str());
  } else {
    for (const std::string& line : book_lines(*e, *book))
      std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

} // namespace fh::inspect
