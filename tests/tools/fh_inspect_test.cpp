// labels: unit replay
// fh-inspect as an operator runs it, against segments written by fh::shm::Writer with real
// Binance USD-M data (tests/shm/real_market.hpp: exchangeInfo of 2021-07-22, BTCUSDT depth,
// trades and bookTicker of 2024-08-08). Expected decimal strings are taken from the venue's
// own wire text in the capture (scanned here, independently of the tool and of
// book/decimal.hpp's formatting), reduced to the canonical form the tool promises (no
// trailing fractional zeros). Covers book/list/stats/tail JSON, laps with the exact lost
// count, not-found and attach failures, a closed writer and a dead writer process, a slot
// left locked, the live views and malformed arguments.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "book/decimal.hpp"
#include "feedhandler/capture.hpp"
#include "shm/reader.hpp"
#include "shm/writer.hpp"
#include "tests/shm/real_market.hpp"

namespace fh::shm {
namespace {

using test::real_market;

const std::string kTool = std::string(FH_BINARY_DIR) + "/tools/fh-inspect";

// ---- the venue's own text for every price and size in the loaded part of the capture ----------

// "61800.20" -> "61800.2", "2.500" -> "2.5", "10.0" -> "10", "5" -> "5".
std::string canonical_text(std::string_view wire) {
  std::string s(wire);
  if (s.find('.') == std::string::npos)
    return s;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.pop_back();
  return s;
}

struct WireText {
  std::map<std::int64_t, std::string> price; // mantissa -> canonical wire text
  std::map<std::int64_t, std::string> qty;
};

// Scans the capture (the REST snapshot, depth diffs and trades) up to the last frame
// real_market() loaded and records the text the venue sent for each mantissa.
const WireText& wire_text() {
  static const WireText texts = [] {
    WireText t;
    const auto& m = real_market();
    const Instrument& inst = *m.btc;
    auto opened = capture::CaptureFile::open(test::detail::data_path(test::kCapture));
    if (std::holds_alternative<capture::Error>(opened))
      std::abort();
    const auto& file = std::get<capture::CaptureFile>(opened);
    simdjson::ondemand::parser parser;
    auto note = [&](std::string_view px, std::string_view qty) {
      book::ParsedDecimal p{}, q{};
      if (book::parse_decimal(px, inst.price_decimals, p) == book::DecimalError::Ok)
        t.price[p.mantissa] = canonical_text(px);
      if (book::parse_decimal(qty, inst.qty_decimals, q) == book::DecimalError::Ok)
        t.qty[q.mantissa] = canonical_text(qty);
    };
    auto levels = [&](simdjson::ondemand::array arr) {
      for (auto level : arr) {
        std::string_view pair[2];
        std::size_t n = 0;
        for (auto v : level.get_array())
          if (n < 2 && v.get_string().get(pair[n++]) != simdjson::SUCCESS)
            return;
        if (n == 2)
          note(pair[0], pair[1]);
      }
    };
    const std::uint64_t last_u = m.frames.back().seq;
    for (const capture::Record& r : file.records()) {
      if (r.kind != capture::RecordKind::WsText)
        continue;
      simdjson::padded_string_view json(r.payload.data(), r.payload.size(),
                                        r.payload.size() + simdjson::SIMDJSON_PADDING);
      simdjson::ondemand::document doc;
      simdjson::ondemand::object root;
      if (parser.iterate(json).get(doc) || doc.get_object().get(root))
        continue;
      simdjson::ondemand::array b, a;
      if (r.payload.starts_with("{\"lastUpdateId\"")) {
        if (!root.find_field_unordered("bids").get_array().get(b))
          levels(b);
        if (!root.find_field_unordered("asks").get_array().get(a))
          levels(a);
        continue;
      }
      std::string_view stream;
      simdjson::ondemand::object data;
      if (root.find_field_unordered("stream").get_string().get(stream) ||
          root.find_field_unordered("data").get_object().get(data))
        continue;
      if (stream.ends_with("@trade")) {
        std::string_view p, q;
        if (!data.find_field_unordered("p").get_string().get(p) &&
            !data.find_field_unordered("q").get_string().get(q))
          note(p, q);
      } else if (stream.ends_with("@depth@0ms")) {
        std::uint64_t u = 0;
        if (!data.find_field_unordered("b").get_array().get(b))
          levels(b);
        if (!data.find_field_unordered("a").get_array().get(a))
          levels(a);
        if (!data.find_field_unordered("u").get_uint64().get(u) && u == last_u)
          break;
      }
    }
    return t;
  }();
  return texts;
}

// ---- running the tool ---------------------------------------------------------------------------

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Outcome run_tool(const std::string& args) {
  const std::string err_file = std::filesystem::temp_directory_path().string() +
                               "/fh-inspect-test-" + std::to_string(::getpid()) + ".err";
  const std::string cmd = kTool + " " + args + " 2>" + err_file;
  Outcome r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  const int rc = ::pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.err = slurp(err_file);
  std::filesystem::remove(err_file);
  return r;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// A child running the tool with stdout and stderr on pipes (for --follow and signals).
class Child {
public:
  explicit Child(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0)
      return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close(out[0]);
      ::close(err[0]);
      std::vector<char*> argv{const_cast<char*>(kTool.c_str())};
      for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(kTool.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      ::close(out_);
    if (err_ >= 0)
      ::close(err_);
  }

  [[nodiscard]] pid_t pid() const { return pid_; }

  // Reads from fd until `needle` shows up in what was read, or timeout_ms passes.
  bool read_until(bool from_err, const std::string& needle, int timeout_ms) {
    std::string& into = from_err ? err_text_ : out_text_;
    const int fd = from_err ? err_ : out_;
    for (int waited = 0; into.find(needle) == std::string::npos; waited += 10) {
      if (waited > timeout_ms)
        return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
          return into.find(needle) != std::string::npos;
        into.append(buf, static_cast<std::size_t>(n));
      }
    }
    return true;
  }

  // Reads stdout to EOF and reaps the child; returns its exit status (-1 if killed).
  int finish() {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0)
        break;
      out_text_.append(buf, static_cast<std::size_t>(n));
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  [[nodiscard]] const std::string& out() const { return out_text_; }
  [[nodiscard]] const std::string& err() const { return err_text_; }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool reaped_ = false;
  std::string out_text_, err_text_;
};

// ---- fixture ------------------------------------------------------------------------------------

class FhInspectTest : public ::testing::Test {
protected:
  static constexpr std::size_t kFrames = 300;  // real book frames published
  static constexpr std::size_t kTrades = 120;  // real trades published (slot + journal)
  static constexpr std::uint32_t kDepth = 10;

  void TearDown() override {
    writers_.clear();
    for (const std::string& f : files_)
      std::filesystem::remove(f);
  }

  std::string name(const std::string& suffix = "") const {
    return "fh-inspect-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix;
  }

  WriterOptions options(const std::string& n) const {
    WriterOptions o;
    o.name = n;
    o.max_instruments = static_cast<std::uint32_t>(real_market().registry->size());
    o.depth = kDepth;
    o.journal_capacity = 1024;
    o.if_exists = IfExists::Replace;
    return o;
  }

  Writer* create(const WriterOptions& o) {
    auto w = test::create_writer(o);
    if (!w) return nullptr;
    writers_.push_back(std::move(w));
    files_.push_back(std::string(kShmDir) + o.name);
    return writers_.back().get();
  }

  static JournalRecord trade_record(const test::RealTrade& t) {
    JournalRecord r{};
    r.type = static_cast<std::uint8_t>(RecordType::Trade);
    r.side = t.side;
    r.venue = static_cast<std::uint8_t>(Venue::BinanceUsdm);
    r.instrument = real_market().btc->id;
    r.exch_ts_ns = t.exch_ts;
    r.recv_ts_ns = t.recv_ts;
    r.payload.trade.price = t.price;
    r.payload.trade.qty = t.qty;
    r.payload.trade.trade_id = t.trade_id;
    return r;
  }

  // Every instrument of the exchangeInfo, BTCUSDT's first kFrames real frames and kTrades real
  // trades (slot and journal), its last BBO, counters, errors and a heartbeat.
  void fill(Writer& w) {
    const auto& m = real_market();
    const InstrumentRegistry& reg = *m.registry;
    for (std::uint32_t id = 0; id < reg.size(); ++id)
      ASSERT_EQ(w.add_instrument(test::info_of(reg.at(id))), WriteStatus::Ok);
    ASSERT_GE(m.frames.size(), kFrames);
    ASSERT_GE(m.trades.size(), kTrades);
    const std::uint32_t btc = m.btc->id;
    for (std::size_t i = 0; i < kFrames; ++i) {
      const test::RealFrame& f = m.frames[i];
      ASSERT_EQ(w.publish_book(btc, f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq,
                               f.exch_ts, f.recv_ts),
                WriteStatus::Ok);
    }
    for (std::size_t i = 0; i < kTrades; ++i) {
      const test::RealTrade& t = m.trades[i];
      ASSERT_EQ(w.publish_trade(btc, t.price, t.qty, t.side, t.trade_id, t.exch_ts, t.recv_ts),
                WriteStatus::Ok);
      w.append_journal(trade_record(t));
    }
    const auto venue = static_cast<std::uint8_t>(Venue::BinanceUsdm);
    w.set_counter(venue, VenueCounter::Messages, kFrames + kTrades);
    w.add_counter(venue, VenueCounter::Snapshots, 1);
    w.log_error(7, btc, "checksum mismatch", 1'000);
    w.log_error(7, btc, "checksum mismatch again", 2'000);
    w.log_error(9, Writer::kNoInstrument, "reconnect", 3'000);
    w.heartbeat();
  }

  const test::RealFrame& last_frame() const { return real_market().frames[kFrames - 1]; }

  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::string> files_;
};

constexpr const char* kBtc = "binance-usdm:BTC-USDT-PERP";

// Checks `[[price, size], ...]` against the frame's levels through the venue's text.
void expect_side(simdjson::dom::element side, const std::array<Level, test::kTopN>& levels,
                 std::uint32_t n, const char* what) {
  const WireText& wire = wire_text();
  simdjson::dom::array arr;
  ASSERT_EQ(side.get(arr), simdjson::SUCCESS) << what;
  ASSERT_EQ(arr.size(), n) << what;
  std::uint32_t i = 0;
  for (simdjson::dom::element level : arr) {
    simdjson::dom::array pair;
    ASSERT_EQ(level.get(pair), simdjson::SUCCESS);
    ASSERT_EQ(pair.size(), 2u);
    std::string_view px, qty;
    ASSERT_EQ(pair.at(0).get(px), simdjson::SUCCESS);
    ASSERT_EQ(pair.at(1).get(qty), simdjson::SUCCESS);
    ASSERT_TRUE(wire.price.count(levels[i].price)) << what << " level " << i;
    ASSERT_TRUE(wire.qty.count(levels[i].qty)) << what << " level " << i;
    EXPECT_EQ(px, wire.price.at(levels[i].price)) << what << " level " << i;
    EXPECT_EQ(qty, wire.qty.at(levels[i].qty)) << what << " level " << i;
    ++i;
  }
}

// ---- book -----------------------------------------------------------------------------------------

TEST_F(FhInspectTest, BookJsonIsThePublishedRealBookInTheVenuesDecimalText) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const test::RealFrame& f = last_frame();
  const Outcome r = run_tool("--shm " + name() + " book " + kBtc + " --json");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(lines_of(r.out).size(), 1u) << "one object on one line";
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(doc.size(), 5u) << "exactly instrument, state, seq, bids, asks";
  std::string_view instrument, state;
  std::uint64_t seq = 0;
  ASSERT_EQ(doc["instrument"].get(instrument), simdjson::SUCCESS);
  ASSERT_EQ(doc["state"].get(state), simdjson::SUCCESS);
  ASSERT_EQ(doc["seq"].get(seq), simdjson::SUCCESS);
  EXPECT_EQ(instrument, kBtc);
  EXPECT_EQ(state, f.status == static_cast<std::uint8_t>(BookStatus::Synced) ? "synced"
                                                                              : "crossed");
  EXPECT_EQ(seq, f.seq);
  expect_side(doc["bids"], f.bids, std::min(f.nb, kDepth), "bids");
  expect_side(doc["asks"], f.asks, std::min(f.na, kDepth), "asks");

  // The same object whichever way the instrument is named.
  for (const std::string& key : {std::string("BTCUSDT"), std::string("BTC-USDT-PERP"),
                                std::string("binance-usdm:BTCUSDT"),
                                std::to_string(real_market().btc->id)}) {
    const Outcome again = run_tool("--shm " + name() + " --json book " + key);
    EXPECT_EQ(again.status, 0) << key << ": " << again.err;
    EXPECT_EQ(again.out, r.out) << key;
  }
}

TEST_F(FhInspectTest, BookDepthLimitsTheLevelsAndTextShowsTheLadder) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const test::RealFrame& f = last_frame();
  const Outcome r = run_tool("--shm " + name() + " book " + kBtc + " --depth 3 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS);
  expect_side(doc["bids"], f.bids, 3, "bids");
  expect_side(doc["asks"], f.asks, 3, "asks");

  const Outcome text = run_tool("--shm " + name() + " book " + kBtc + " --depth 2");
  ASSERT_EQ(text.status, 0) << text.err;
  const WireText& wire = wire_text();
  const std::vector<std::string> lines = lines_of(text.out);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(lines[0].find(kBtc), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("seq " + std::to_string(f.seq)), std::string::npos) << lines[0];
  // The best level row: bid size, bid price | ask price, ask size.
  bool found = false;
  for (const std::string& l : lines)
    found = found || (l.find(wire.price.at(f.bids[0].price)) != std::string::npos &&
                      l.find(wire.price.at(f.asks[0].price)) != std::string::npos &&
                      l.find(" | ") != std::string::npos);
  EXPECT_TRUE(found) << text.out;
}

TEST_F(FhInspectTest, UnknownInstrumentExitsWith3) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  for (const std::string& args :
       {std::string("book binance-usdm:NOPE-USDT-PERP"), std::string("book okx:BTC-USDT-PERP"),
        std::string("book NOPE"), std::string("book 999999"),
        std::string("tail --instrument NOPE")}) {
    const Outcome r = run_tool("--shm " + name() + " " + args);
    EXPECT_EQ(r.status, 3) << args;
    EXPECT_NE(r.err.find("no instrument"), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
}

// ---- list -----------------------------------------------------------------------------------------

TEST_F(FhInspectTest, ListJsonHasEveryInstrumentWithItsBestLevels) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const auto& m = real_market();
  const test::RealFrame& f = last_frame();
  const Outcome r = run_tool("--shm " + name() + " list --json");
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  ASSERT_EQ(parser.parse(r.out).get(arr), simdjson::SUCCESS) << r.out;
  ASSERT_EQ(arr.size(), m.registry->size());
  std::size_t empty = 0;
  for (simdjson::dom::element e : arr) {
    std::uint64_t id = 0;
    std::string_view venue, native, canonical, status;
    ASSERT_EQ(e["id"].get(id), simdjson::SUCCESS);
    ASSERT_EQ(e["venue"].get(venue), simdjson::SUCCESS);
    ASSERT_EQ(e["native"].get(native), simdjson::SUCCESS);
    ASSERT_EQ(e["canonical"].get(canonical), simdjson::SUCCESS);
    ASSERT_EQ(e["status"].get(status), simdjson::SUCCESS);
    const Instrument& inst = m.registry->at(static_cast<std::uint32_t>(id));
    EXPECT_EQ(venue, "binance-usdm");
    EXPECT_EQ(native, inst.native);
    EXPECT_EQ(canonical, inst.canonical);
    if (id != m.btc->id) {
      EXPECT_EQ(status, "empty") << native;
      EXPECT_TRUE(e["bid"].is_null()) << native;
      ++empty;
      continue;
    }
    std::string_view bid, ask;
    std::uint64_t seq = 0, updates = 0;
    ASSERT_EQ(e["bid"].get(bid), simdjson::SUCCESS);
    ASSERT_EQ(e["ask"].get(ask), simdjson::SUCCESS);
    ASSERT_EQ(e["seq"].get(seq), simdjson::SUCCESS);
    ASSERT_EQ(e["updates"].get(updates), simdjson::SUCCESS);
    EXPECT_EQ(bid, wire_text().price.at(f.bids[0].price));
    EXPECT_EQ(ask, wire_text().price.at(f.asks[0].price));
    EXPECT_EQ(seq, f.seq);
    EXPECT_EQ(updates, kFrames);
  }
  EXPECT_EQ(empty, m.registry->size() - 1);

  const Outcome text = run_tool("--shm " + name() + " list");
  ASSERT_EQ(text.status, 0);
  EXPECT_EQ(lines_of(text.out).size(), m.registry->size() + 1) << "header + one row each";
}

// ---- stats ----------------------------------------------------------------------------------------

TEST_F(FhInspectTest, StatsJsonReportsLivenessCountersErrorsAndJournalLag) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const Outcome r = run_tool("--shm " + name() + " stats --json");
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;

  std::string_view state, liveness;
  std::int64_t pid = 0;
  ASSERT_EQ(doc["writer"]["state"].get(state), simdjson::SUCCESS);
  ASSERT_EQ(doc["writer"]["liveness"].get(liveness), simdjson::SUCCESS);
  ASSERT_EQ(doc["writer"]["pid"].get(pid), simdjson::SUCCESS);
  EXPECT_EQ(state, "running");
  EXPECT_EQ(liveness, "alive");
  EXPECT_EQ(pid, ::getpid());

  // kTrades journal records in a 1024-record ring: nothing lost, the oldest is position 0.
  EXPECT_EQ(doc["journal"]["tail"].get_uint64().value(), kTrades);
  EXPECT_EQ(doc["journal"]["oldest"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["journal"]["lag_from_now"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["journal"]["lag_from_oldest"].get_uint64().value(), kTrades);
  EXPECT_EQ(doc["segment"]["depth"].get_uint64().value(), kDepth);
  EXPECT_EQ(doc["segment"]["instruments"].get_uint64().value(), real_market().registry->size());

  simdjson::dom::array venues;
  ASSERT_EQ(doc["venues"].get(venues), simdjson::SUCCESS);
  ASSERT_EQ(venues.size(), 1u);
  std::string_view venue;
  ASSERT_EQ(venues.at(0)["name"].get(venue), simdjson::SUCCESS);
  EXPECT_EQ(venue, "binance-usdm");
  EXPECT_EQ(venues.at(0)["counters"]["messages"].get_uint64().value(), kFrames + kTrades);
  EXPECT_EQ(venues.at(0)["counters"]["snapshots"].get_uint64().value(), 1u);
  EXPECT_EQ(venues.at(0)["counters"]["gaps"].get_uint64().value(), 0u);

  bool btc_seen = false;
  for (simdjson::dom::element i : doc["instruments"].get_array()) {
    std::string_view name_of;
    ASSERT_EQ(i["instrument"].get(name_of), simdjson::SUCCESS);
    if (name_of != kBtc)
      continue;
    btc_seen = true;
    EXPECT_EQ(i["book_updates"].get_uint64().value(), kFrames);
    EXPECT_EQ(i["trades"].get_uint64().value(), kTrades);
    EXPECT_EQ(i["seq"].get_uint64().value(), last_frame().seq);
  }
  EXPECT_TRUE(btc_seen);

  EXPECT_EQ(doc["errors"]["used"].get_uint64().value(), 2u);
  EXPECT_EQ(doc["errors"]["dropped"].get_uint64().value(), 0u);
  simdjson::dom::array errors;
  ASSERT_EQ(doc["errors"]["entries"].get(errors), simdjson::SUCCESS);
  ASSERT_EQ(errors.size(), 2u);
  std::string_view text, inst;
  ASSERT_EQ(errors.at(0)["text"].get(text), simdjson::SUCCESS);
  ASSERT_EQ(errors.at(0)["instrument"].get(inst), simdjson::SUCCESS);
  EXPECT_EQ(text, "checksum mismatch again") << "the latest text of a deduplicated error";
  EXPECT_EQ(inst, kBtc);
  EXPECT_EQ(errors.at(0)["count"].get_uint64().value(), 2u);
  EXPECT_EQ(errors.at(0)["first_ns"].get_int64().value(), 1'000);
  EXPECT_EQ(errors.at(0)["last_ns"].get_int64().value(), 2'000);
  EXPECT_TRUE(errors.at(1)["instrument_id"].is_null());

  const Outcome plain = run_tool("--shm " + name() + " stats");
  ASSERT_EQ(plain.status, 0);
  EXPECT_NE(plain.out.find("running, pid " + std::to_string(::getpid()) + " (alive)"),
            std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find("checksum mismatch again"), std::string::npos);
}

// ---- tail -----------------------------------------------------------------------------------------

TEST_F(FhInspectTest, TailFromOldestDecodesEveryJournalRecord) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const auto& m = real_market();
  const Outcome r = run_tool("--shm " + name() + " tail --from-oldest --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), kTrades);
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element rec;
    ASSERT_EQ(parser.parse(lines[i]).get(rec), simdjson::SUCCESS) << lines[i];
    const test::RealTrade& t = m.trades[i];
    std::string_view type, price, qty, side, inst;
    ASSERT_EQ(rec["type"].get(type), simdjson::SUCCESS);
    ASSERT_EQ(rec["price"].get(price), simdjson::SUCCESS);
    ASSERT_EQ(rec["qty"].get(qty), simdjson::SUCCESS);
    ASSERT_EQ(rec["side"].get(side), simdjson::SUCCESS);
    ASSERT_EQ(rec["instrument"].get(inst), simdjson::SUCCESS);
    EXPECT_EQ(rec["position"].get_uint64().value(), i);
    EXPECT_EQ(type, "trade");
    EXPECT_EQ(inst, kBtc);
    EXPECT_EQ(price, wire_text().price.at(t.price)) << i;
    EXPECT_EQ(qty, wire_text().qty.at(t.qty)) << i;
    EXPECT_EQ(side, t.side == kAggressorBuy ? "buy" : "sell") << i;
    EXPECT_EQ(rec["trade_id"].get_uint64().value(), t.trade_id);
    EXPECT_EQ(rec["exch_ts_ns"].get_int64().value(), t.exch_ts);
  }

  // --count stops early; the text form names the trade the way the venue wrote it.
  const Outcome two = run_tool("--shm " + name() + " tail --from-oldest --count 2");
  ASSERT_EQ(two.status, 0);
  const std::vector<std::string> text = lines_of(two.out);
  ASSERT_EQ(text.size(), 2u);
  const test::RealTrade& t0 = m.trades[0];
  const std::string expect = "0 trade " + std::string(kBtc) + " " +
                             (t0.side == kAggressorBuy ? "buy " : "sell ") +
                             wire_text().qty.at(t0.qty) + " @ " + wire_text().price.at(t0.price) +
                             " id " + std::to_string(t0.trade_id);
  EXPECT_EQ(text[0].rfind(expect, 0), 0u) << text[0] << "\nexpected prefix: " << expect;

  // From now (the default) there is nothing to drain.
  const Outcome now = run_tool("--shm " + name() + " tail");
  EXPECT_EQ(now.status, 0);
  EXPECT_TRUE(now.out.empty()) << now.out;
}

TEST_F(FhInspectTest, TailFollowReportsALapWithTheExactLostCount) {
  WriterOptions o = options(name());
  o.journal_capacity = 64;
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  fill(*w); // kTrades (120) records: the 64-record ring already wrapped once
  const auto& m = real_market();
  constexpr std::uint64_t kCapacity = 64;
  constexpr std::uint64_t kBehind = 37; // the writer laps the stopped tool by this many
  ASSERT_GE(m.trades.size(), kCapacity + kBehind);

  Child tool({"--shm", name(), "tail", "--follow", "--json", "--count",
              std::to_string(kCapacity)});
  ASSERT_TRUE(tool.read_until(true, "from position", 5000)) << tool.err();
  EXPECT_NE(tool.err().find("from position " + std::to_string(kTrades)), std::string::npos)
      << tool.err();
  // Stop the tool, write a whole ring and kBehind records more, let it continue.
  ASSERT_EQ(::kill(tool.pid(), SIGSTOP), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(tool.pid(), &st, WUNTRACED), tool.pid());
  ASSERT_TRUE(WIFSTOPPED(st));
  for (std::uint64_t i = 0; i < kCapacity + kBehind; ++i)
    w->append_journal(trade_record(m.trades[i]));
  ASSERT_EQ(::kill(tool.pid(), SIGCONT), 0);
  ASSERT_EQ(tool.finish(), 0) << tool.err();

  const std::vector<std::string> lines = lines_of(tool.out());
  ASSERT_EQ(lines.size(), kCapacity + 1) << tool.out();
  simdjson::dom::parser parser;
  simdjson::dom::element lap;
  ASSERT_EQ(parser.parse(lines[0]).get(lap), simdjson::SUCCESS) << lines[0];
  std::string_view type;
  ASSERT_EQ(lap["type"].get(type), simdjson::SUCCESS);
  EXPECT_EQ(type, "lap");
  EXPECT_EQ(lap["lost"].get_uint64().value(), kBehind);
  EXPECT_EQ(lap["from"].get_uint64().value(), kTrades);
  EXPECT_EQ(lap["to"].get_uint64().value(), kTrades + kBehind);
  // Then the records still in the ring, in order, starting right after the lost ones.
  for (std::uint64_t i = 0; i < kCapacity; ++i) {
    simdjson::dom::element rec;
    ASSERT_EQ(parser.parse(lines[1 + i]).get(rec), simdjson::SUCCESS);
    EXPECT_EQ(rec["position"].get_uint64().value(), kTrades + kBehind + i);
    EXPECT_EQ(rec["trade_id"].get_uint64().value(), m.trades[kBehind + i].trade_id);
  }
}

// ---- attach failures, closed and dead writers, a locked slot --------------------------------------

TEST_F(FhInspectTest, AnotherLayoutMajorExitsWith2AndTheReadersMessage) {
  WriterOptions o = options(name());
  o.test_hooks.layout_major = kLayoutMajor + 1;
  Writer* w = create(o);
  ASSERT_NE(w, nullptr);
  Reader reader;
  ASSERT_EQ(reader.attach(name()), AttachError::MajorMismatch);
  for (const char* cmd : {"list", "stats", "tail", "book BTCUSDT"}) {
    const Outcome r = run_tool("--shm " + name() + " " + cmd);
    EXPECT_EQ(r.status, 2) << cmd;
    EXPECT_EQ(r.err, std::string("fh-inspect: major_mismatch: ") + reader.error_message() + "\n")
        << cmd;
    EXPECT_TRUE(r.out.empty());
  }
  const Outcome missing = run_tool("--shm " + name("-absent") + " list");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
}

TEST_F(FhInspectTest, ReadsTheSegmentAfterTheWriterClosed) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const Outcome live = run_tool("--shm " + name() + " book " + kBtc + " --json");
  ASSERT_EQ(live.status, 0);
  w->close();
  const Outcome closed = run_tool("--shm " + name() + " book " + kBtc + " --json");
  EXPECT_EQ(closed.status, 0) << closed.err;
  EXPECT_EQ(closed.out, live.out);
  const Outcome stats = run_tool("--shm " + name() + " stats --json");
  ASSERT_EQ(stats.status, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(stats.out).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["writer"]["state"].get_string().value(), "closed");
  EXPECT_EQ(doc["writer"]["liveness"].get_string().value(), "closed");
}

TEST_F(FhInspectTest, AWriterProcessThatDiedIsReportedDead) {
  const std::string n = name();
  files_.push_back(std::string(kShmDir) + n);
  (void)real_market(); // load before fork
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto created = Writer::create(options(n));
    if (!std::holds_alternative<Writer>(created))
      ::_exit(1);
    Writer& w = std::get<Writer>(created);
    const auto& m = real_market();
    const InstrumentRegistry& reg = *m.registry;
    for (std::uint32_t id = 0; id < reg.size(); ++id)
      (void)w.add_instrument(test::info_of(reg.at(id)));
    const test::RealFrame& f = m.frames[0];
    (void)w.publish_book(m.btc->id, f.status, f.bids.data(), f.nb, f.asks.data(), f.na, f.seq,
                         f.exch_ts, f.recv_ts);
    w.heartbeat();
    ::_exit(0); // no close(): the segment still says running
  }
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  const Outcome r = run_tool("--shm " + n + " stats --json");
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["writer"]["state"].get_string().value(), "running");
  EXPECT_EQ(doc["writer"]["liveness"].get_string().value(), "dead");
  EXPECT_EQ(doc["writer"]["pid"].get_int64().value(), child);
  // Its last book is still there.
  const Outcome book = run_tool("--shm " + n + " book " + kBtc + " --json");
  ASSERT_EQ(book.status, 0);
  simdjson::dom::element b;
  ASSERT_EQ(parser.parse(book.out).get(b), simdjson::SUCCESS);
  EXPECT_EQ(b["seq"].get_uint64().value(), real_market().frames[0].seq);
}

TEST_F(FhInspectTest, ASlotLeftLockedIsReportedBusy) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  // A copy of the segment with the BTC slot's sequence made odd: what a writer killed inside
  // publish_book leaves behind (a mechanical change to a copy of a real segment).
  const std::string copy = std::filesystem::temp_directory_path().string() + "/" + name() + ".seg";
  std::filesystem::copy_file(std::string(kShmDir) + name(), copy,
                             std::filesystem::copy_options::overwrite_existing);
  files_.push_back(copy);
  Reader reader;
  ASSERT_EQ(reader.attach(copy), AttachError::Ok);
  const std::uint64_t offset = reader.header().slots.offset +
                               std::uint64_t{real_market().btc->id} * slot_size_for(kDepth);
  Top top{};
  ASSERT_EQ(reader.top(real_market().btc->id, top), ReadStatus::Ok);
  const std::uint64_t odd = top.seq | 1;
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(reinterpret_cast<const char*>(&odd), sizeof odd);
    ASSERT_TRUE(f.good());
  }
  const Outcome r = run_tool("--shm " + copy + " book " + kBtc);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("read status busy"), std::string::npos) << r.err;
  const Outcome list = run_tool("--shm " + copy + " list --json");
  EXPECT_EQ(list.status, 1);
  EXPECT_NE(list.out.find("\"read\":\"busy\""), std::string::npos);
}

// ---- live views -----------------------------------------------------------------------------------

TEST_F(FhInspectTest, WatchAndTopRedrawInPlaceAndGiveTheTerminalBack) {
  Writer* w = create(options(name()));
  ASSERT_NE(w, nullptr);
  fill(*w);
  const std::string best_bid = wire_text().price.at(last_frame().bids[0].price);
  const std::string enter = "\x1b[?1049h\x1b[?25l", leave = "\x1b[?25h\x1b[?1049l", home = "\x1b[H";
  auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1))
      ++n;
    return n;
  };
  const Outcome watch =
      run_tool("--shm " + name() + " book " + kBtc + " --watch --frames 3 --interval 5");
  ASSERT_EQ(watch.status, 0) << watch.err;
  EXPECT_EQ(watch.out.rfind(enter, 0), 0u);
  EXPECT_TRUE(watch.out.ends_with(leave));
  EXPECT_EQ(count(watch.out, home), 3u);
  EXPECT_NE(watch.out.find(best_bid), std::string::npos);

  // --json --watch: one book object per change (nothing changes here: one line).
  const Outcome json =
      run_tool("--shm " + name() + " book " + kBtc + " --watch --json --frames 1 --interval 5");
  const Outcome once = run_tool("--shm " + name() + " book " + kBtc + " --json");
  ASSERT_EQ(json.status, 0);
  EXPECT_EQ(json.out, once.out);

  // top until Ctrl-C: the terminal is restored on SIGINT.
  Child top({"--shm", name(), "top", "--interval", "20"});
  ASSERT_TRUE(top.read_until(false, kBtc, 5000)) << top.out();
  ASSERT_EQ(::kill(top.pid(), SIGINT), 0);
  EXPECT_EQ(top.finish(), 0);
  EXPECT_EQ(top.out().rfind(enter, 0), 0u);
  EXPECT_TRUE(top.out().ends_with(leave));
  EXPECT_NE(top.out().find(best_bid), std::string::npos);
}

// ---- arguments ------------------------------------------------------------------------------------

TEST(FhInspectArgs, MalformedArgumentsExitWith2AndSayWhy) {
  for (const char* args :
       {"", "frobnicate", "--bogus list", "book", "book A B", "list extra", "list --watch",
        "book X --depth", "book X --depth abc", "book X --depth 0", "book X --depth 65",
        "book X --depth -1", "book X --depth 3x", "tail --count 0", "tail --count -5",
        "top --json", "stats --follow", "book X --frames 2", "book X --interval 10",
        "--timeout soon list", "--shm", "--shm '' list"}) {
    const Outcome r = run_tool(args);
    EXPECT_EQ(r.status, 2) << "'" << args << "'";
    EXPECT_NE(r.err.find("fh-inspect: "), std::string::npos) << "'" << args << "': " << r.err;
    EXPECT_TRUE(r.out.empty()) << "'" << args << "'";
  }
  const Outcome help = run_tool("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.out.rfind("usage: fh-inspect", 0), 0u);
}

} // namespace
} // namespace fh::shm
