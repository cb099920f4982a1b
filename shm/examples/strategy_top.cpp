// Example strategy: reads one instrument's top of book and the event journal from a feed
// handler's shared-memory segment.
//
//   fh_example_strategy <segment> <symbol> [seconds]
//   fh_example_strategy fh-main binance-usdm:BTC-USDT-PERP 30
//
// It includes only shm/reader.hpp (header-only, standard library + POSIX): a strategy links
// nothing of the feed handler. It prints the book (best levels, mid, spread, microprice) when
// it changed, at most every 100 ms, counts journal records and laps, re-attaches when the feed
// handler restarts, and stops after `seconds` (default 10) or when the writer closes.
// Prices are int64 mantissas; they are printed exactly, never through a double.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <time.h>

#include "shm/reader.hpp"

namespace {

namespace shm = fh::shm;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kPrintEveryNs = 100 * kMs;
constexpr std::int64_t kRestartCheckNs = 10 * kMs; // writer_restarted() costs a stat(2)

__extension__ using Wide = __int128; // products of two mantissas

std::int64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void pause_us(long us) noexcept {
  timespec ts{0, us * 1000};
  ::nanosleep(&ts, nullptr);
}

// Mantissa m at `decimals` as exact decimal text ("61800.20").
const char* fixed(std::int64_t m, unsigned decimals, char (&buf)[48]) noexcept {
  const bool negative = m < 0;
  std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>(m);
  char digits[32];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 || n <= static_cast<int>(decimals));
  int o = 0;
  if (negative)
    buf[o++] = '-';
  for (int i = n - 1; i >= 0; --i) {
    buf[o++] = digits[i];
    if (i == static_cast<int>(decimals) && decimals != 0)
      buf[o++] = '.';
  }
  buf[o] = '\0';
  return buf;
}

struct Stats {
  std::uint64_t records = 0, trades = 0, lost = 0, laps = 0, prints = 0, reattaches = 0;
};

void print_top(const shm::DirectoryEntry& inst, const shm::Top& t, const Stats& s) noexcept {
  char b[48], bq[48], a[48], aq[48], mid[48], spread[48], micro[48];
  const unsigned pd = inst.price_decimals, qd = inst.qty_decimals;
  const char* status = shm::to_cstring(static_cast<shm::BookStatus>(t.status));
  if (t.n_bids == 0 || t.n_asks == 0) {
    std::printf("%s %s one side empty (bids %u, asks %u) journal %" PRIu64 " records %" PRIu64
                " lost %" PRIu64 " laps\n",
                inst.native, status, unsigned{t.n_bids}, unsigned{t.n_asks}, s.records, s.lost,
                s.laps);
    return;
  }
  const shm::Level& bid = t.best_bid;
  const shm::Level& ask = t.best_ask;
  // mid at pd+1 decimals is exact: (bid + ask) / 2 = (bid + ask) * 5 / 10.
  const std::int64_t mid_m = (bid.price + ask.price) * 5;
  // Microprice (size-weighted: leans towards the side with less size) at pd+2 decimals,
  // truncated toward zero.
  const Wide weight = Wide{bid.qty} + ask.qty;
  const auto micro_m = static_cast<std::int64_t>(
      (Wide{bid.price} * ask.qty + Wide{ask.price} * bid.qty) * 100 / weight);
  std::printf("%s %s bid %s x %s ask %s x %s mid %s spread %s micro %s seq %" PRIu64
              " journal %" PRIu64 " records %" PRIu64 " trades %" PRIu64 " lost %" PRIu64
              " laps\n",
              inst.native, status, fixed(bid.price, pd, b), fixed(bid.qty, qd, bq),
              fixed(ask.price, pd, a), fixed(ask.qty, qd, aq), fixed(mid_m, pd + 1, mid),
              fixed(ask.price - bid.price, pd, spread), fixed(micro_m, pd + 2, micro), t.last_seq,
              s.records, s.trades, s.lost, s.laps);
}

// Waits until `symbol` appears in the directory (the writer may add it after starting).
const shm::DirectoryEntry* find_until(const shm::Reader& r, const char* symbol,
                                      std::int64_t deadline) noexcept {
  for (;;) {
    if (const shm::DirectoryEntry* e = r.find(symbol); e != nullptr)
      return e;
    if (now_ns() >= deadline)
      return nullptr;
    pause_us(1000);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <segment> <symbol> [seconds]\n", argv[0]);
    return 2;
  }
  const char* segment = argv[1];
  const char* symbol = argv[2];
  const double seconds = argc > 3 ? std::strtod(argv[3], nullptr) : 10.0;
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(seconds * 1e9);

  shm::Reader reader;
  if (const auto e = reader.attach(segment, 5'000 * kMs); e != shm::AttachError::Ok) {
    std::fprintf(stderr, "attach: %s: %s\n", shm::to_cstring(e), reader.error_message());
    return 1;
  }
  std::printf("attached %s generation %" PRIu64 "\n", reader.path(), reader.generation());
  const shm::DirectoryEntry* inst = find_until(reader, symbol, deadline);
  if (inst == nullptr) {
    std::fprintf(stderr, "%s: no instrument %s\n", reader.path(), symbol);
    return 1;
  }
  shm::JournalReader journal = reader.journal(shm::JournalStart::Oldest);
  Stats stats;
  shm::Top top{};
  std::uint64_t printed_version = 0; // slot seq of the last print (0: nothing printed yet)
  std::uint64_t printed_records = 0;
  std::int64_t last_print = 0, last_restart_check = now_ns();
  int exit_code = 0;

  for (;;) {
    const std::int64_t now = now_ns();
    if (now >= deadline)
      break;
    const shm::PollResult p = journal.poll(256, [&](const shm::JournalRecord& rec, std::uint64_t) {
      ++stats.records;
      if (rec.type == static_cast<std::uint8_t>(shm::RecordType::Trade) &&
          rec.instrument == inst->id)
        ++stats.trades;
    });
    if (p.lost != 0) { // lapped: the book itself is always current, only events were missed
      stats.lost += p.lost;
      ++stats.laps;
    }
    if (reader.top(inst->id, top) != shm::ReadStatus::Ok) {
      std::fprintf(stderr, "top: slot stayed locked (writer died mid-write?)\n");
      exit_code = 1;
      break;
    }
    const bool changed = top.seq != printed_version || stats.records != printed_records;
    if (changed && top.book_updates != 0 && now - last_print >= kPrintEveryNs) {
      print_top(*inst, top, stats);
      std::fflush(stdout);
      printed_version = top.seq;
      printed_records = stats.records;
      last_print = now;
      ++stats.prints;
    }
    if (p.delivered != 0)
      continue;
    // Idle: check the writer now and then.
    if (now - last_restart_check >= kRestartCheckNs) {
      last_restart_check = now;
      if (reader.writer_restarted()) {
        const auto e = reader.reattach(5'000 * kMs);
        if (e != shm::AttachError::Ok) {
          std::fprintf(stderr, "reattach: %s: %s\n", shm::to_cstring(e), reader.error_message());
          exit_code = 1;
          break;
        }
        ++stats.reattaches;
        std::printf("writer restarted: reattached generation %" PRIu64 "\n", reader.generation());
        inst = find_until(reader, symbol, deadline);
        if (inst == nullptr) {
          std::fprintf(stderr, "%s: no instrument %s after restart\n", reader.path(), symbol);
          exit_code = 1;
          break;
        }
        journal = reader.journal(shm::JournalStart::Oldest);
        printed_version = 0;
        last_print = 0;
        continue;
      }
      if (reader.writer_status().state == shm::WriterState::Closed) {
        // Print what the writer left, then stop.
        if (reader.top(inst->id, top) == shm::ReadStatus::Ok && top.book_updates != 0 &&
            top.seq != printed_version)
          print_top(*inst, top, stats);
        std::printf("writer closed\n");
        break;
      }
    }
    pause_us(200);
  }
  std::printf("done: %" PRIu64 " prints %" PRIu64 " records %" PRIu64 " lost %" PRIu64
              " laps %" PRIu64 " reattaches\n",
              stats.prints, stats.records, stats.lost, stats.laps, stats.reattaches);
  return exit_code;
}
