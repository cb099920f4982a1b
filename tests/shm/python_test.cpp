// labels: unit
// The Python module (shm/python/fh_shm.py over libfh_shm.so) and both example strategies
// (shm/examples/strategy_top.{cpp,py}) against segments this test writes with real Binance
// USD-M data (tests/shm/real_market.hpp). The expected values are computed here from the real
// frames, trades and quotes (decimal text formatted from the venue's mantissas) and handed to
// tests/shm/python/test_fh_shm.py in a JSON file; the script asserts and exits non-zero on any
// difference. The examples are run as processes and their output is checked for the real
// best bid, for a re-attach after a writer restart and for a clean stop when the writer closes.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

namespace fh::shm {
namespace {

using test::real_market;
using test::RealFrame;

// Mantissa at `decimals` as decimal text: the test's own formatter, independent of the module.
std::string fixed(std::int64_t m, unsigned decimals) {
  std::string digits = std::to_string(m < 0 ? -m : m);
  if (digits.size() <= decimals)
    digits.insert(0, decimals + 1 - digits.size(), '0');
  if (decimals != 0)
    digits.insert(digits.size() - decimals, ".");
  return (m < 0 ? "-" : "") + digits;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// The repository root (FH_DATA_DIR is <root>/data).
std::string source_dir() { return std::string(FH_DATA_DIR) + "/.."; }

// Environment for python3: the library to load and, in an AddressSanitizer build, the ASan
// runtime first in the process (python3 itself is not instrumented).
std::string python_env() {
  // No __pycache__ left in the source tree.
  std::string env = "PYTHONDONTWRITEBYTECODE=1 FH_SHM_LIB='" + std::string(FH_SHM_LIB_PATH) + "' ";
#if defined(__SANITIZE_ADDRESS__)
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto at = line.find('/');
    if (at != std::string::npos && line.find("libasan.so") != std::string::npos) {
      env += "LD_PRELOAD='" + line.substr(at) + "' ASAN_OPTIONS=detect_leaks=0 ";
      break;
    }
  }
#endif
  return env;
}

// Runs `command` and hands each output line to on_line (which may act on the writer); returns
// the exit status and the whole output.
template <class OnLine>
std::pair<int, std::string> run(const std::string& command, OnLine on_line) {
  std::string output;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr)
    return {-1, "popen failed"};
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    output += line;
    on_line(std::string(line));
  }
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

class PythonTest : public ::testing::Test {
protected:
  void TearDown() override {
    writers_.clear();
    std::filesystem::remove(std::string(kShmDir) + name());
    std::filesystem::remove(expect_path());
  }

  std::string name() const {
    return "fh-shm-py-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  std::string expect_path() const {
    return std::filesystem::temp_directory_path().string() + "/" + name() + ".json";
  }

  Writer* create(std::uint32_t capacity = 1024) {
    WriterOptions o;
    o.name = name();
    o.max_instruments = static_cast<std::uint32_t>(real_market().registry->size());
    o.depth = 10;
    o.journal_capacity = capacity;
    o.if_exists = IfExists::Replace;
    o.remove_on_close = true;
    auto w = test::create_writer(o);
    if (!w) return nullptr;
    test::add_real_instruments(*w);
    writers_.push_back(std::move(w));
    return writers_.back().get();
  }

  static std::uint32_t btc() { return real_market().btc->id; }
  static unsigned pd() { return real_market().btc->price_decimals; }
  static unsigned qd() { return real_market().btc->qty_decimals; }

  static void publish(Writer& w, const RealFrame& f) {
    ASSERT_EQ(w.publish_book(btc(), f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq,
                             f.exch_ts, f.recv_ts),
              WriteStatus::Ok);
  }

  // Two frames whose best bids differ (the book before and after a writer restart).
  static std::pair<std::size_t, std::size_t> two_distinct_frames() {
    const auto& frames = real_market().frames;
    for (std::size_t k = 501; k < frames.size(); ++k)
      if (frames[k].bids[0].price != frames[500].bids[0].price)
        return {500, k};
    ADD_FAILURE() << "every real frame after 500 has the same best bid";
    return {500, 501};
  }

  // Runs an example strategy against a live segment: it must print the real best bid of frame A,
  // re-attach when the writer is replaced and print frame B's best bid, and stop when the writer
  // closes.
  void run_example(const std::string& command) {
    const auto ab = two_distinct_frames();
    const auto& market = real_market();
    const RealFrame& fa = market.frames[ab.first];
    const RealFrame& fb = market.frames[ab.second];
    Writer* w = create(1024);
    ASSERT_NE(w, nullptr);
    ASSERT_EQ(w->publish_book(market.btc->id, fa.status, fa.bids.data(), fa.nb, fa.asks.data(),
                              fa.na, fa.seq, fa.exch_ts, fa.recv_ts),
              WriteStatus::Ok);
    const unsigned dp = market.btc->price_decimals;
    const std::string bid_a = " bid " + fixed(fa.bids[0].price, dp) + " x ";
    const std::string bid_b = " bid " + fixed(fb.bids[0].price, dp) + " x ";
    Writer* second = nullptr;
    bool saw_a = false, saw_reattach = false, saw_b = false;
    const auto [status, output] = run(command, [&](const std::string& line) {
      if (!saw_a && line.find(bid_a) != std::string::npos) {
        saw_a = true;
        second = create(1024);
        ASSERT_NE(second, nullptr);
        ASSERT_EQ(second->publish_book(market.btc->id, fb.status, fb.bids.data(), fb.nb,
                                       fb.asks.data(), fb.na, fb.seq, fb.exch_ts, fb.recv_ts),
                  WriteStatus::Ok);
      } else if (saw_a && line.starts_with("writer restarted")) {
        saw_reattach = true;
      } else if (saw_reattach && !saw_b && line.find(bid_b) != std::string::npos) {
        saw_b = true;
        second->close();
      }
    });
    EXPECT_EQ(status, 0) << output;
    EXPECT_TRUE(saw_a) << "no line with" << bid_a << "\n" << output;
    EXPECT_TRUE(saw_reattach) << output;
    EXPECT_TRUE(saw_b) << "no line with" << bid_b << "\n" << output;
    EXPECT_NE(output.find("writer closed"), std::string::npos) << output;
    EXPECT_NE(output.find("done: "), std::string::npos) << output;
  }

  std::vector<std::unique_ptr<Writer>> writers_;
};

std::string levels_json(const std::array<Level, test::kTopN>& side, std::uint32_t n) {
  std::string s = "[";
  for (std::uint32_t i = 0; i < n; ++i)
    s += (i ? "," : "") + std::string("[") + quoted(fixed(side[i].price, 2)) + "," +
         quoted(fixed(side[i].qty, 3)) + "]";
  return s + "]";
}

TEST_F(PythonTest, ModuleReadsTheRealBookJournalAndRestartThroughTheCAbi) {
  const auto& market = real_market();
  const Instrument& inst = *market.btc;
  ASSERT_EQ(pd(), 2u); // levels_json formats at BTCUSDT's decimals
  ASSERT_EQ(qd(), 3u);
  constexpr std::uint32_t kCapacity = 64;
  constexpr std::size_t kTrades = 100;
  ASSERT_LE(2 * kTrades, market.trades.size());
  Writer* w = create(kCapacity);
  ASSERT_NE(w, nullptr);
  const auto [a, b] = two_distinct_frames();
  const RealFrame& f = market.frames[a];
  const RealFrame& g = market.frames[b];
  publish(*w, f);
  const test::RealBbo& q = market.bbos.at(10);
  ASSERT_EQ(w->publish_bbo(btc(), q.bid_price, q.bid_qty, q.ask_price, q.ask_qty, q.update_id,
                           q.exch_ts, q.recv_ts),
            WriteStatus::Ok);
  // The k-th real trade into the slot and the journal, as a feed handler publishes it.
  const auto append_trade = [&](std::size_t k) {
    const test::RealTrade& t = market.trades[k];
    EXPECT_EQ(w->publish_trade(btc(), t.price, t.qty, t.side, t.trade_id, t.exch_ts, t.recv_ts),
              WriteStatus::Ok);
    JournalRecord rec{};
    rec.type = static_cast<std::uint8_t>(RecordType::Trade);
    rec.side = t.side;
    rec.venue = static_cast<std::uint8_t>(Venue::BinanceUsdm);
    rec.instrument = btc();
    rec.exch_ts_ns = t.exch_ts;
    rec.recv_ts_ns = t.recv_ts;
    rec.payload.trade = JournalTrade{t.price, t.qty, t.trade_id, 0};
    EXPECT_EQ(w->append_journal(rec), k);
  };
  for (std::size_t k = 0; k < kTrades; ++k)
    append_trade(k);
  const test::RealTrade& last = market.trades[kTrades - 1];

  // Expectations, from the real data.
  std::string trades = "[";
  for (std::size_t k = kTrades - kCapacity; k < kTrades; ++k) {
    const test::RealTrade& t = market.trades[k];
    trades += (k != kTrades - kCapacity ? "," : "") + std::string("[") + std::to_string(k) + "," +
              std::to_string(t.trade_id) + "," + quoted(fixed(t.price, pd())) + "," +
              quoted(fixed(t.qty, qd())) + "," +
              quoted(t.side == kAggressorBuy ? "buy" : "sell") + "]";
  }
  trades += "]";
  const auto status_name = [](std::uint8_t s) {
    return quoted(to_cstring(static_cast<BookStatus>(s)));
  };
  {
    std::ofstream out(expect_path());
    out << "{\"segment\":" << quoted(name()) << ",\"key\":\"binance-usdm:BTC-USDT-PERP\""
        << ",\"id\":" << inst.id << ",\"native\":" << quoted(inst.native)
        << ",\"canonical\":" << quoted(inst.canonical) << ",\"price_decimals\":" << pd()
        << ",\"qty_decimals\":" << qd() << ",\"tick\":" << quoted(fixed(inst.tick, pd()))
        << ",\"lot\":" << quoted(fixed(inst.lot, qd()))
        << ",\"instrument_count\":" << market.registry->size()
        << ",\"top\":{\"status\":" << status_name(f.status) << ",\"last_seq\":" << f.seq
        << ",\"n_bids\":" << std::min(f.nb, 10u) << ",\"n_asks\":" << std::min(f.na, 10u)
        << ",\"bids\":" << levels_json(f.bids, std::min(f.nb, 5u))
        << ",\"asks\":" << levels_json(f.asks, std::min(f.na, 5u))
        << ",\"mid\":" << quoted(fixed((f.bids[0].price + f.asks[0].price) * 5, pd() + 1))
        << ",\"spread\":" << quoted(fixed(f.asks[0].price - f.bids[0].price, pd())) << "}"
        << ",\"bbo\":[" << quoted(fixed(q.bid_price, pd())) << "," << quoted(fixed(q.bid_qty, qd()))
        << "," << quoted(fixed(q.ask_price, pd())) << "," << quoted(fixed(q.ask_qty, qd())) << "]"
        << ",\"last_trade\":[" << quoted(fixed(last.price, pd())) << ","
        << quoted(fixed(last.qty, qd())) << "," << last.trade_id << "]"
        << ",\"trades\":" << kTrades << ",\"journal\":{\"lost\":0"
        << ",\"records\":" << trades << "}"
        << ",\"lap\":{\"lost\":" << kTrades - kCapacity << ",\"first\":" << 2 * kTrades - kCapacity
        << ",\"count\":" << kCapacity
        << ",\"first_trade_id\":" << market.trades[2 * kTrades - kCapacity].trade_id
        << ",\"last_trade_id\":" << market.trades[2 * kTrades - 1].trade_id << "}"
        << ",\"restart\":{\"generation\":" << w->generation() + 1
        << ",\"last_seq\":" << g.seq << ",\"bid\":" << quoted(fixed(g.bids[0].price, pd()))
        << "}}\n";
    ASSERT_TRUE(out.good());
  }

  bool restarted = false;
  const std::string cmd = python_env() + "python3 " + source_dir() +
                          "/tests/shm/python/test_fh_shm.py " + expect_path();
  const auto [status, output] = run(cmd, [&](const std::string& line) {
    if (line.starts_with("WAIT_RESTART") && !restarted) {
      restarted = true;
      // The old writer appends a whole ring more first: the script's caught-up cursor on the
      // old mapping is lapped by kTrades - kCapacity records.
      for (std::size_t k = kTrades; k < 2 * kTrades; ++k)
        append_trade(k);
      Writer* second = create(kCapacity); // replaces the segment: generation + 1
      ASSERT_NE(second, nullptr);
      publish(*second, g);
    }
  });
  EXPECT_TRUE(restarted) << output;
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("ALL OK"), std::string::npos) << output;
}

TEST_F(PythonTest, CppExampleStrategyFollowsTheRealBookAcrossARestart) {
  run_example(std::string(FH_EXAMPLE_STRATEGY_PATH) + " " + name() + " binance-usdm:BTCUSDT 20");
}

TEST_F(PythonTest, PythonExampleStrategyFollowsTheRealBookAcrossARestart) {
  run_example(python_env() + "python3 " + source_dir() + "/shm/examples/strategy_top.py " +
              name() + " BTC-USDT-PERP 20");
}

} // namespace
} // namespace fh::shm
