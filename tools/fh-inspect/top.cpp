// fh-inspect top: a live full-screen table of every instrument (status, sequence, best levels,
// update rate, last trade, age of the last publish; instruments that never had data are
// counted, not shown), redrawn in place every --interval ms until Ctrl-C; the terminal is
// restored on the way out.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"
#include "tools/fh-inspect/terminal.hpp"

namespace fh::inspect {
namespace {

struct Previous {
  std::uint64_t book_updates;
  std::uint64_t trades;
};

// Events per second over `dt_ns`, integer arithmetic.
std::string rate(std::uint64_t now, std::uint64_t before, std::int64_t dt_ns) {
  if (dt_ns <= 0 || now < before)
    return "-";
  const std::uint64_t delta = now - before;
  const auto dt = static_cast<std::uint64_t>(dt_ns);
  constexpr std::uint64_t kNsPerS = 1'000'000'000;
  if (delta > UINT64_MAX / kNsPerS) // no overflow: a coarser division is plenty here
    return std::to_string(delta / (dt / kNsPerS + 1));
  return std::to_string(delta * kNsPerS / dt);
}

std::string clip(const std::string& s, int cols) {
  return static_cast<int>(s.size()) <= cols ? s : s.substr(0, static_cast<std::size_t>(cols));
}

} // namespace

int run_top(shm::Reader& reader, const Options& options) {
  install_stop_handlers();
  Screen screen(stdout);
  std::unordered_map<std::uint32_t, Previous> previous;
  std::int64_t previous_ns = 0;
  std::uint64_t previous_tail = 0;
  std::uint64_t frames = 0;
  bool restart_pending = false;
  while (!stop_requested()) {
    const TerminalSize size = terminal_size();
    const std::int64_t now = shm::realtime_ns();
    screen.begin_frame();
    if (restart_pending || reader.writer_restarted()) {
      previous.clear();
      previous_ns = 0;
      restart_pending = reader.reattach(0) != shm::AttachError::Ok;
    }
    if (restart_pending) {
      screen.line("%s", clip("fh-inspect top: writer restarted; waiting for the new segment: " +
                                 std::string(reader.error_message()),
                             size.cols)
                            .c_str());
      screen.end_frame();
    } else {
      const std::int64_t dt = previous_ns != 0 ? now - previous_ns : 0;
      const shm::WriterStatus w = reader.writer_status(now);
      const Liveness live = writer_liveness(w, options.stale_ms * 1'000'000);
      const std::uint64_t tail = reader.journal(shm::JournalStart::Now).tail();
      std::vector<std::string> lines;
      lines.push_back("fh-inspect top  " + std::string(reader.path()) + "  generation " +
                      std::to_string(w.generation) + "  writer " + shm::to_cstring(w.state) +
                      ", pid " + std::to_string(w.pid) + " (" + live.word + "), heartbeat " +
                      (w.heartbeat_ns != 0 ? duration(w.heartbeat_age_ns) + " ago" : "never") +
                      "  " + utc_time(now));
      lines.push_back("journal tail " + std::to_string(tail) + " (" +
                      (previous_ns != 0 ? rate(tail, previous_tail, dt) : std::string("-")) +
                      " records/s)  errors " + std::to_string(reader.error_count()) + " (" +
                      std::to_string(reader.errors_dropped()) + " dropped)  every " +
                      std::to_string(options.interval_ms) + " ms, Ctrl-C quits");
      lines.emplace_back();
      std::vector<std::vector<std::string>> rows{{"ID", "INSTRUMENT", "STATUS", "SEQ", "BID_QTY",
                                                  "BID", "ASK", "ASK_QTY", "UPD/S", "UPDATES",
                                                  "TRADES", "LAST_TRADE", "AGE"}};
      std::unordered_map<std::uint32_t, Previous> current;
      std::size_t empty = 0;
      for (std::uint32_t id = 0; id < reader.instrument_count(); ++id) {
        const shm::DirectoryEntry* e = reader.instrument(id);
        if (e == nullptr)
          continue;
        shm::Top t{};
        const shm::ReadStatus rs = reader.top(id, t);
        if (rs != shm::ReadStatus::Ok) {
          rows.push_back({std::to_string(id), instrument_name(*e),
                          std::string("read:") + shm::to_cstring(rs)});
          continue;
        }
        if (t.status == static_cast<std::uint8_t>(shm::BookStatus::Empty) &&
            t.book_updates == 0 && t.trades == 0 && t.bbo_updates == 0) {
          ++empty; // never had data: listed by `fh-inspect list`, not worth a row here
          continue;
        }
        current[id] = Previous{t.book_updates, t.trades};
        const auto prev = previous.find(id);
        const bool b = t.n_bids > 0;
        const bool a = t.n_asks > 0;
        rows.push_back(
            {std::to_string(id), instrument_name(*e), status_name(t.status),
             std::to_string(t.last_seq), b ? decimal(t.best_bid.qty, e->qty_decimals) : "-",
             b ? decimal(t.best_bid.price, e->price_decimals) : "-",
             a ? decimal(t.best_ask.price, e->price_decimals) : "-",
             a ? decimal(t.best_ask.qty, e->qty_decimals) : "-",
             prev != previous.end() ? rate(t.book_updates, prev->second.book_updates, dt) : "-",
             std::to_string(t.book_updates), std::to_string(t.trades),
             t.trades != 0 ? std::string(aggressor_name(t.trade_side)) + " " +
                                 decimal(t.trade_qty, e->qty_decimals) + "@" +
                                 decimal(t.trade_price, e->price_decimals)
                           : "-",
             t.publish_ts_ns != 0 ? duration(now - t.publish_ts_ns) : "-"});
      }
      lines[1] += "  (" + std::to_string(empty) + " instruments without data hidden)";
      const std::vector<std::string> table = table_lines(
          rows, {true, false, false, true, true, true, true, true, true, true, true, false, true});
      const auto room = static_cast<std::size_t>(size.rows > 1 ? size.rows - 1 : 1);
      for (const std::string& l : table)
        lines.push_back(l);
      if (lines.size() > room) {
        const std::size_t hidden = lines.size() - (room - 1);
        lines.resize(room - 1);
        lines.push_back("... " + std::to_string(hidden) + " more rows (enlarge the terminal)");
      }
      for (const std::string& l : lines)
        screen.line("%s", clip(l, size.cols).c_str());
      screen.end_frame();
      previous = std::move(current);
      previous_ns = now;
      previous_tail = tail;
    }
    if (options.frames != 0 && ++frames >= options.frames)
      break;
    sleep_ms(options.interval_ms);
  }
  return kExitOk;
}

} // namespace fh::inspect
