// labels: replay
// The fault matrix: a VenueSession against fh-venue serving real captures over loopback TLS,
// one test per fault fh-venue can inject (docs/fh-venue.md "Faults"), for OKX (books-l2-tbt
// 2022-02-27), Kraken (WS v1 book-1000 2021-04-17) and, where the fault means something for a
// REST-snapshot venue, Binance USD-M (2021-07-22).
//
// What every test checks besides its exact counters: every book ends Synced; checksum_fail is
// the number of failures the fault explains; and no book is ever reported Synced while wrong:
// each notice on a book whose message carries the venue's checksum, while the book is Synced,
// is checked against an independent recomputation here (price/size text rebuilt from our book's
// levels, CRC-32 from zlib), not against book::okx_checksum / kraken_checksum.
//
// Which book a drop/corrupt hits is read from the capture here: frames are numbered the way
// fh-venue numbers them on a first connection (every recorded received frame, in recorded
// order, acks included), and the instrument is taken from frame N's own text.
#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "feedhandler/backoff.hpp"
#include "feedhandler/capture.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/venue_session.hpp"
#include "tests/support/live_helpers.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/session_loop.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/venue_process.hpp"

namespace fh::test {
namespace {

const std::string kOkxWs = "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
const std::string kOkxHttp = "okx/cryptofeed/instruments_2022-02-27_http.txt.gz";
const std::string kKrakenWs = "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz";
const std::string kKrakenHttp = "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz";
const std::string kBinanceWs = "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz";
const std::string kBinanceSnaps = "binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz";
const std::string kBinanceInfo = "binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz";
constexpr std::uint64_t kBinanceFrames = 1535; // PROVENANCE.md: 1,535 ws frames

// ---- independent checksum oracle ------------------------------------------------------------
// A level's mantissa (at `decimals`) written back as the venue wrote it (`text_dp` digits).
std::string level_text(std::int64_t mantissa, int decimals, int text_dp) {
  const bool negative = mantissa < 0;
  std::string digits = std::to_string(negative ? -mantissa : mantissa);
  if (static_cast<int>(digits.size()) <= decimals)
    digits.insert(0, static_cast<std::size_t>(decimals) + 1 - digits.size(), '0');
  const std::size_t int_len = digits.size() - static_cast<std::size_t>(decimals);
  std::string frac = digits.substr(int_len);
  if (text_dp < decimals) frac.resize(static_cast<std::size_t>(text_dp));
  else frac.append(static_cast<std::size_t>(text_dp - decimals), '0');
  std::string out = (negative ? "-" : "") + digits.substr(0, int_len);
  if (text_dp > 0) out += "." + frac;
  return out;
}

std::uint32_t crc(const std::string& s) {
  return static_cast<std::uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string px(const book::L2Book& b, const book::Level& l) {
  return level_text(l.price, b.price_decimals(), l.price_text_dp);
}
std::string sz(const book::L2Book& b, const book::Level& l) {
  return level_text(l.qty, b.qty_decimals(), l.qty_text_dp);
}

// OKX (VENUE_RULES.md): "bid:size:ask:size:..." over the top 25, interleaved, CRC-32.
std::uint32_t okx_oracle(const book::L2Book& b) {
  std::string s;
  for (std::size_t i = 0; i < 25; ++i) {
    for (const book::Side side : {book::Side::Bid, book::Side::Ask}) {
      if (i >= b.depth(side)) continue;
      const book::Level& l = b.at(side, i);
      if (!s.empty()) s += ':';
      s += px(b, l) + ":" + sz(b, l);
    }
  }
  return crc(s);
}

// Kraken (VENUE_RULES.md): top 10 asks then top 10 bids, price and volume text without '.'
// and without leading zeros, concatenated, CRC-32.
std::uint32_t kraken_oracle(const book::L2Book& b) {
  auto digits = [](std::string t) {
    t.erase(std::remove(t.begin(), t.end(), '.'), t.end());
    const std::size_t nz = t.find_first_not_of('0');
    return nz == std::string::npos ? std::string() : t.substr(nz);
  };
  std::string s;
  for (const book::Side side : {book::Side::Ask, book::Side::Bid})
    for (std::size_t i = 0; i < std::min<std::size_t>(10, b.depth(side)); ++i)
      s += digits(px(b, b.at(side, i))) + digits(sz(b, b.at(side, i)));
  return crc(s);
}

// Publisher: every status transition per instrument, and the oracle on every checksummed
// message while the book says it is Synced.
struct Observer {
  struct Book {
    std::vector<std::pair<BookStatus, BookError>> transitions;
    std::uint64_t oracle_ok = 0;
    std::uint64_t oracle_fail = 0;
    std::uint64_t oracle_ok_since_sync = 0; // since the last transition to Synced
  };
  std::map<std::uint32_t, Book> books;

  void on_notice(const BookNotice& n, const Event& e) noexcept {
    if (n.book == nullptr) return;
    Book& b = books[n.book->instrument().id];
    const BookStatus st = n.book->status();
    if (n.status_changed) {
      b.transitions.emplace_back(st, n.book->last_error());
      if (st == BookStatus::Synced) b.oracle_ok_since_sync = 0;
    }
    if (e.type != EventType::BookEnd || (e.flags & kFlagHasChecksum) == 0) return;
    if (st != BookStatus::Synced && st != BookStatus::Crossed) return;
    const Venue v = n.book->instrument().venue;
    if (v != Venue::Okx && v != Venue::Kraken) return;
    const std::uint32_t ours =
        v == Venue::Okx ? okx_oracle(n.book->book()) : kraken_oracle(n.book->book());
    if (ours == static_cast<std::uint32_t>(e.end.checksum)) {
      ++b.oracle_ok;
      ++b.oracle_ok_since_sync;
    } else {
      ++b.oracle_fail;
    }
  }
};

using Session = venues::VenueSession<FusedPipeline<Observer>>;

// ---- reading the captures -------------------------------------------------------------------
std::vector<std::string> received_frames(const std::string& capture) {
  auto f = capture::CaptureFile::open(data_path(capture));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  std::vector<std::string> out;
  if (!std::holds_alternative<capture::CaptureFile>(f)) return out;
  for (const auto& r : std::get<capture::CaptureFile>(f).records())
    if (r.kind == capture::RecordKind::WsText) out.emplace_back(r.payload);
  return out;
}

std::vector<std::string> sent_frames(const std::string& capture) {
  auto f = capture::CaptureFile::open(data_path(capture));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  std::vector<std::string> out;
  if (!std::holds_alternative<capture::CaptureFile>(f)) return out;
  for (const auto& r : std::get<capture::CaptureFile>(f).records())
    if (r.kind == capture::RecordKind::WsSent) out.emplace_back(r.payload);
  return out;
}

// The instrument of a book *update* frame ("" for anything else): OKX arg.instId of an
// "action":"update" books frame; Kraken v1 the pair closing [id,{"a"|"b":..},"book-N","PAIR"].
std::string updated_instrument(Venue v, const std::string& frame) {
  if (v == Venue::Okx) {
    if (frame.find("\"channel\":\"books") == std::string::npos ||
        frame.find("\"action\":\"update\"") == std::string::npos)
      return {};
    const std::size_t at = frame.find("\"instId\":\"");
    if (at == std::string::npos) return {};
    return frame.substr(at + 10, frame.find('"', at + 10) - at - 10);
  }
  if (frame.empty() || frame.front() != '[' || frame.find("\"book-") == std::string::npos ||
      (frame.find("{\"a\":") == std::string::npos && frame.find("{\"b\":") == std::string::npos))
    return {};
  const std::size_t close = frame.rfind('"');
  const std::size_t open = frame.rfind('"', close - 1);
  return frame.substr(open + 1, close - open - 1);
}

// The prices a book message touches: the first string of every level array (OKX
// ["px","sz","0","n"], Kraken ["price","volume","time"(,"r")]).
std::set<std::string> touched_prices(const std::string& frame) {
  std::set<std::string> out;
  for (std::size_t at = frame.find("[\""); at != std::string::npos; at = frame.find("[\"", at + 2)) {
    const std::size_t end = frame.find('"', at + 2);
    if (end == std::string::npos) break;
    const std::string p = frame.substr(at + 2, end - at - 2);
    if (!p.empty() && p.find_first_not_of("0123456789.") == std::string::npos) out.insert(p);
  }
  return out;
}

// The venue's checksum as written in a book update (OKX "checksum":-123, Kraken "c":"123").
std::string checksum_text(Venue v, const std::string& frame) {
  const std::string key = v == Venue::Okx ? "\"checksum\":" : "\"c\":\"";
  const std::size_t at = frame.find(key);
  if (at == std::string::npos) return {};
  const std::size_t from = at + key.size();
  return frame.substr(from, frame.find_first_not_of("-0123456789", from) - from);
}

// Frame number (1-based, fh-venue's numbering on a first connection) of the first book update
// at or after `from` whose loss the next update's checksum must show, and that instrument: it
// changed its book's checksum (the venue's value differs from that book's previous update, so
// it moved levels the checksum covers) and the book's next update touches none of its prices
// (so that update cannot write over what was lost).
std::pair<std::uint64_t, std::string> pick_update_frame(Venue v, const std::vector<std::string>& frames,
                                                        std::size_t from) {
  std::map<std::string, std::string> last_checksum;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::string inst = updated_instrument(v, frames[i]);
    if (inst.empty()) continue;
    const std::string sum = checksum_text(v, frames[i]);
    const auto prev = last_checksum.find(inst);
    const bool changed = prev != last_checksum.end() && prev->second != sum;
    last_checksum[inst] = sum;
    if (i + 1 < from || !changed) continue;
    for (std::size_t j = i + 1; j < frames.size(); ++j) {
      if (updated_instrument(v, frames[j]) != inst) continue;
      const auto lost = touched_prices(frames[i]);
      const auto next = touched_prices(frames[j]);
      const bool overlap = std::any_of(lost.begin(), lost.end(),
                                       [&](const std::string& p) { return next.count(p) != 0; });
      if (!overlap && !lost.empty()) return {i + 1, inst};
      break;
    }
  }
  return {0, {}};
}

// The pairs and depth of the recorded Kraken v1 book subscribe.
std::pair<std::vector<std::string>, std::uint32_t> recorded_kraken_book(const std::string& ws) {
  std::vector<std::string> pairs;
  std::uint32_t depth = 0;
  for (const auto& s : sent_frames(ws)) {
    if (s.find("\"name\":\"book\"") == std::string::npos) continue;
    const std::size_t open = s.find("\"pair\":[");
    const std::size_t close = s.find(']', open);
    for (std::size_t q = s.find('"', open + 8); q < close; q = s.find('"', q + 1)) {
      const std::size_t end = s.find('"', q + 1);
      pairs.push_back(s.substr(q + 1, end - q - 1));
      q = end;
    }
    const std::size_t d = s.find("\"depth\":");
    if (d != std::string::npos) depth = static_cast<std::uint32_t>(std::stoul(s.substr(d + 8)));
  }
  return {pairs, depth};
}

// The depth streams of the recorded Binance session (its combined-stream URL).
std::vector<std::string> recorded_binance_symbols(const std::string& ws) {
  auto f = capture::CaptureFile::open(data_path(ws));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
  if (!std::holds_alternative<capture::CaptureFile>(f)) return {};
  const std::string url(std::get<capture::CaptureFile>(f).ws_url());
  std::set<std::string> natives;
  for (std::size_t at = url.find("streams=") + 8; at < url.size();) {
    const std::size_t end = std::min(url.find('/', at), url.size());
    const std::string stream = url.substr(at, end - at);
    if (stream.find("@depth") != std::string::npos) {
      std::string sym = stream.substr(0, stream.find('@'));
      for (auto& ch : sym) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      natives.insert(sym);
    }
    at = end + 1;
  }
  return {natives.begin(), natives.end()};
}

// ---- fixture --------------------------------------------------------------------------------
class LiveFaultsTest : public ::testing::Test {
protected:
  struct Options {
    std::vector<std::string> faults;
    std::int64_t no_data_timeout_ms = 0;
    // refuse=MS refuses REST too: the metadata then comes from a second, healthy fh-venue, as
    // a control thread would have loaded it before any stream connection is tried.
    bool metadata_from_healthy_venue = false;
    BackoffPolicy backoff{50, 30'000, 20, 60'000};
    std::uint32_t max_requests_per_hour = 0; // 0: the venue profile's
  };

  // fh-venue on the venue's capture with `faults`, metadata over https, a started session.
  void start(Venue v, const Options& o) {
    venue_ = v;
    ASSERT_EQ(certs_.error(), "");
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_.localhost_cert(),
                                  "--key", certs_.localhost_key(), "--pace",
                                  v == Venue::BinanceUsdm ? "scale=10" : "flat"};
    for (const auto& f : o.faults) {
      args.push_back("--fault");
      args.push_back(f);
    }
    std::vector<std::string> inputs;
    if (v == Venue::Okx) inputs = {kOkxWs, kOkxHttp};
    if (v == Venue::Kraken) inputs = {kKrakenWs, kKrakenHttp};
    if (v == Venue::BinanceUsdm) inputs = {kBinanceWs, kBinanceSnaps, kBinanceInfo};
    for (const auto& i : inputs) args.push_back(data_path(i));
    ASSERT_EQ(venue_process_.start(args, ::testing::TempDir() + "fh_live_faults_venue.log"), "");
    const std::string port = std::to_string(venue_process_.port());
    const std::string base = "https://127.0.0.1:" + port;

    RestOptions ro;
    ro.ca_file = certs_.ca();
    auto fetcher_or = RestFetcher::start(ro);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<RestFetcher>>(fetcher_or));
    fetcher_ = std::move(std::get<std::unique_ptr<RestFetcher>>(fetcher_or));
    if (o.metadata_from_healthy_venue) {
      ASSERT_EQ(metadata_venue_.start({"--listen", "127.0.0.1:0", "--cert", certs_.localhost_cert(),
                                       "--key", certs_.localhost_key(), data_path(inputs.back())},
                                      ::testing::TempDir() + "fh_live_faults_meta.log"),
                "");
      ASSERT_GT(load_metadata_via_rest(*fetcher_,
                                       "https://127.0.0.1:" + std::to_string(metadata_venue_.port()),
                                       inputs.back(), v, registry_),
                0u);
    } else {
      ASSERT_GT(load_metadata_via_rest(*fetcher_, base, inputs.back(), v, registry_), 0u);
    }

    venues::SubscriptionSet subs;
    if (v == Venue::Okx) {
      subs.natives = recorded_okx_natives(kOkxWs);
      subs.okx_book_channel = "books-l2-tbt"; // the recorded channel
    } else if (v == Venue::Kraken) {
      auto [pairs, depth] = recorded_kraken_book(kKrakenWs);
      subs.natives = pairs;
      subs.kraken_api = venues::KrakenApi::V1; // the recording's protocol
      subs.kraken_depth = depth;
      subs.trades = subs.bbo = false;          // the capture holds the book channel only
    } else {
      subs.natives = recorded_binance_symbols(kBinanceWs);
    }
    natives_ = subs.natives;
    ASSERT_FALSE(natives_.empty());
    venues::SessionOptions so;
    so.venue = v;
    so.plan = venues::plan_connections(v, subs, "wss://127.0.0.1:" + port).at(0);
    so.rest_base = base;
    so.backoff = o.backoff;
    so.no_data_timeout_ms = o.no_data_timeout_ms;
    so.max_requests_per_hour = o.max_requests_per_hour;

    parsers_ = std::make_unique<venues::VenueParsers>(registry_);
    builder_ = std::make_unique<BookBuilder>(registry_);
    pipeline_ = std::make_unique<FusedPipeline<Observer>>(*builder_, seen_);
    client_ = make_live_client(certs_.ca());
    ASSERT_TRUE(client_.ok());
    session_ = std::make_unique<Session>(*client_.reactor, *client_.tls,
                                         v == Venue::BinanceUsdm ? fetcher_.get() : nullptr,
                                         registry_, *parsers_, *pipeline_, so);
    std::string error;
    ASSERT_TRUE(session_->start(error)) << error;
  }

  template <class Done> bool run(Done done) {
    return run_session_until(*client_.reactor, *session_, done);
  }

  const InstrumentBook* book(const std::string& native) const {
    const Instrument* inst = registry_.find(venue_, native);
    return inst == nullptr ? nullptr : builder_->book(inst->id);
  }
  const Observer::Book& observed(const std::string& native) {
    return seen_.books[registry_.find(venue_, native)->id];
  }
  bool all_synced() const {
    for (const auto& n : natives_) {
      const InstrumentBook* b = book(n);
      if (b == nullptr || b->status() != BookStatus::Synced) return false;
    }
    return true;
  }
  const venues::SessionCounters& counters() const { return session_->counters(); }

  // Every book Synced at the end, checksum failures as explained (`failed` had one), the
  // oracle never disagreeing with a Synced book, and checksums passing again after the last
  // (re)sync of every book the fault touched.
  void expect_books_end_synced(const std::string& failed = {}) {
    for (const auto& n : natives_) {
      const InstrumentBook* b = book(n);
      ASSERT_NE(b, nullptr) << n;
      EXPECT_EQ(b->status(), BookStatus::Synced) << n;
      EXPECT_EQ(b->counters().checksum_fail, n == failed ? 1u : 0u) << n;
      const Observer::Book& o = observed(n);
      EXPECT_EQ(o.oracle_fail, 0u) << n << ": Synced while the venue's checksum disagreed";
      if (venue_ != Venue::BinanceUsdm) {
        EXPECT_GT(o.oracle_ok, 0u) << n;
        EXPECT_EQ(b->counters().checksum_ok, o.oracle_ok) << n; // the builder saw the same
      }
    }
  }

  // A disconnect-type fault: every book went Stale(Disconnected) and its last transition is
  // back to Synced, with checksums verified since.
  void expect_every_book_stale_then_resynced() {
    for (const auto& n : natives_) {
      const auto& t = observed(n).transitions;
      ASSERT_GE(t.size(), 2u) << n;
      const auto stale = std::find_if(t.begin(), t.end(), [](const auto& x) {
        return x.first == BookStatus::Stale && x.second == BookError::Disconnected;
      });
      ASSERT_NE(stale, t.end()) << n << " never marked stale by the disconnect";
      EXPECT_EQ(t.back().first, BookStatus::Synced) << n;
      if (venue_ == Venue::Okx) {
        EXPECT_GT(observed(n).oracle_ok_since_sync, 0u) << n;
      }
    }
  }

  // drop/corrupt: only `hit` went stale (checksum mismatch), once, and synced again with
  // checksums passing since; no other book ever left Synced.
  void expect_only_book_resynced(const std::string& hit) {
    for (const auto& n : natives_) {
      const auto& t = observed(n).transitions;
      const auto stales = std::count_if(t.begin(), t.end(),
                                        [](const auto& x) { return x.first == BookStatus::Stale; });
      if (n != hit) {
        EXPECT_EQ(stales, 0) << n;
        continue;
      }
      EXPECT_EQ(stales, 1) << n;
      const auto stale = std::find_if(t.begin(), t.end(),
                                      [](const auto& x) { return x.first == BookStatus::Stale; });
      ASSERT_NE(stale, t.end()) << n;
      EXPECT_EQ(stale->second, BookError::ChecksumMismatch) << n;
      ASSERT_NE(stale + 1, t.end()) << n << " never resynced";
      EXPECT_EQ((stale + 1)->first, BookStatus::Synced) << n;
      EXPECT_EQ(book(n)->counters().resyncs, 1u) << n;
      EXPECT_GT(observed(n).oracle_ok_since_sync, 1u) << n; // the updates after the new snapshot
    }
  }

  // Binance: at the end each book equals the offline replay's book, level for level (the same
  // recorded snapshot plus the same updates; PROVENANCE.md: pu chain unbroken).
  void expect_binance_books_equal_offline() {
    auto offline = open_replay({kBinanceWs, kBinanceSnaps, kBinanceInfo});
    ASSERT_TRUE(offline);
    offline->run();
    for (const auto& n : natives_) {
      const InstrumentBook* b = book(n);
      const InstrumentBook* o = book_of(*offline, Venue::BinanceUsdm, n);
      ASSERT_NE(b, nullptr) << n;
      ASSERT_NE(o, nullptr) << n;
      EXPECT_EQ(b->counters().seq_gaps, 0u) << n;
      EXPECT_EQ(b->counters().bbo_checks_fail, 0u) << n;
      EXPECT_EQ(b->last_update_id(), o->last_update_id()) << n;
      for (const book::Side side : {book::Side::Bid, book::Side::Ask}) {
        ASSERT_EQ(b->book().depth(side), o->book().depth(side)) << n;
        for (std::size_t i = 0; i < b->book().depth(side); ++i) {
          ASSERT_EQ(b->book().at(side, i).price, o->book().at(side, i).price) << n << " " << i;
          ASSERT_EQ(b->book().at(side, i).qty, o->book().at(side, i).qty) << n << " " << i;
        }
      }
    }
  }

  // The most connection attempts a refuse=window_ms fault allows: attempt k+1 starts no
  // earlier than the sum of the first k backoff delays (same policy and seed as the session),
  // and the first one starting at or after the window is accepted.
  static std::uint64_t max_attempts_for_refuse(const BackoffPolicy& p, std::int64_t window_ms) {
    Backoff b(p, venues::SessionOptions{}.backoff_seed);
    std::uint64_t attempts = 1;
    for (std::int64_t t = 0; t < window_ms; ++attempts) t += b.next_delay_ms();
    return attempts;
  }

  // ---- one check per fault, shared by the OKX and Kraken tests -------------------------------
  // stall longer than the no-data timeout: one timeout, reconnect, resubscribe, every book
  // resynced (its stale marks ask for resyncs the resubscription already answers: ignored).
  void check_stall(Venue v) {
    Options o;
    o.faults = {"stall=5000:after=1000"};
    o.no_data_timeout_ms = 2000;
    ASSERT_NO_FATAL_FAILURE(start(v, o));
    EXPECT_TRUE(run([&] { return counters().reconnects() >= 1 && all_synced(); }));
    const auto& c = counters();
    EXPECT_EQ(c.no_data_timeouts, 1u);
    EXPECT_EQ(c.disconnects, 1u);
    EXPECT_EQ(c.reconnects(), 1u);
    EXPECT_EQ(c.resubscribes(), 1u);
    EXPECT_EQ(c.parse_errors, 0u);
    EXPECT_EQ(c.instrument_resubscribes, 0u);
    EXPECT_EQ(c.resyncs_ignored, natives_.size());
    expect_books_end_synced();
    expect_every_book_stale_then_resynced();
  }
  // refused for 1.5 s: retried with backoff (bounded by the policy), then one open.
  void check_refuse(Venue v) {
    Options o;
    o.faults = {"refuse=1500"};
    o.metadata_from_healthy_venue = true;
    o.backoff = BackoffPolicy{100, 30'000, 20, 60'000};
    ASSERT_NO_FATAL_FAILURE(start(v, o));
    EXPECT_TRUE(run([&] { return counters().opens >= 1 && all_synced(); }));
    const auto& c = counters();
    EXPECT_GE(c.connects, 2u);
    EXPECT_LE(c.connects, max_attempts_for_refuse(o.backoff, 1500));
    EXPECT_EQ(c.opens, 1u);
    EXPECT_EQ(c.disconnects, c.connects - 1); // every refused attempt, none after
    EXPECT_EQ(c.resubscribes(), 0u);
    EXPECT_EQ(c.parse_errors, 0u);
    EXPECT_EQ(c.instrument_resubscribes, 0u);
    expect_books_end_synced();
  }
  // corrupt-at / drop-at: only the book hit goes stale and is resynced by an unsubscribe +
  // subscribe on the same connection; a corrupt frame is also one parse error.
  void check_lost_frame(Venue v, const std::string& ws, const char* fault, std::size_t from_frame) {
    Options o;
    venue_ = v;
    const auto [n, hit] = pick(ws, from_frame);
    o.faults = {std::string(fault) + "=" + std::to_string(n)};
    ASSERT_NO_FATAL_FAILURE(start(v, o));
    EXPECT_TRUE(run([&] { return counters().instrument_resubscribes >= 1 && all_synced(); }));
    const auto& c = counters();
    EXPECT_EQ(c.parse_errors, std::string(fault) == "corrupt-at" ? 1u : 0u);
    EXPECT_EQ(c.disconnects, 0u);
    EXPECT_EQ(c.reconnects(), 0u);
    EXPECT_EQ(c.instrument_resubscribes, 1u);
    EXPECT_EQ(c.resubscribe_requests, 2u); // unsubscribe + subscribe
    EXPECT_EQ(c.resyncs_ignored, 0u);
    expect_books_end_synced(hit);
    expect_only_book_resynced(hit);
  }
  // reject-subscribe: close 1008, reconnect, resubscribe, every book synced again.
  void check_reject(Venue v) {
    Options o;
    o.faults = {"reject-subscribe"};
    ASSERT_NO_FATAL_FAILURE(start(v, o));
    EXPECT_TRUE(run([&] { return counters().reconnects() >= 1 && all_synced(); }));
    const auto& c = counters();
    EXPECT_EQ(c.disconnects, 1u);
    EXPECT_EQ(c.reconnects(), 1u);
    EXPECT_EQ(c.resubscribes(), 1u);
    EXPECT_EQ(c.parse_errors, 0u);
    EXPECT_EQ(c.instrument_resubscribes, 0u);
    EXPECT_EQ(c.resyncs_ignored, natives_.size());
    expect_books_end_synced();
    expect_every_book_stale_then_resynced();
  }

  // The frame a drop/corrupt fault hits, from the capture itself.
  std::pair<std::uint64_t, std::string> pick(const std::string& ws, std::size_t from) {
    const auto frames = received_frames(ws);
    auto hit = pick_update_frame(venue_, frames, from);
    EXPECT_NE(hit.first, 0u);
    return hit;
  }

  Venue venue_ = Venue::Okx;
  TestCerts certs_;
  VenueProcess venue_process_;
  VenueProcess metadata_venue_;
  InstrumentRegistry registry_;
  std::unique_ptr<RestFetcher> fetcher_;
  std::unique_ptr<venues::VenueParsers> parsers_;
  std::unique_ptr<BookBuilder> builder_;
  Observer seen_;
  std::unique_ptr<FusedPipeline<Observer>> pipeline_;
  LiveClient client_;
  std::unique_ptr<Session> session_;
  std::vector<std::string> natives_;
};

// ---- OKX and Kraken, one test per fault (the checks are the fixture's check_* above) ----------
// stall: after frame 1000 fh-venue sends nothing for 5 s; the session gives up after 2 s of
// silence, reconnects and resubscribes. refuse: connections are closed at accept for 1.5 s.
// reject-subscribe: the first subscribe is answered with WS close 1008.
TEST_F(LiveFaultsTest, OkxStallLongerThanTheNoDataTimeoutReconnectsAndResyncsEveryBook) {
  check_stall(Venue::Okx);
}
TEST_F(LiveFaultsTest, KrakenStallLongerThanTheNoDataTimeoutReconnectsAndResyncsEveryBook) {
  check_stall(Venue::Kraken);
}
TEST_F(LiveFaultsTest, OkxRefusedConnectionsAreRetriedWithBackoffUntilAccepted) {
  check_refuse(Venue::Okx);
}
TEST_F(LiveFaultsTest, KrakenRefusedConnectionsAreRetriedWithBackoffUntilAccepted) {
  check_refuse(Venue::Kraken);
}
// corrupt-at truncates one real frame to its first half: the parser rejects it (counted), the
// book misses that update, its next checksum fails. drop-at never sends one frame (these OKX
// messages have no seqId, PROVENANCE.md: the loss shows as one checksum mismatch).
TEST_F(LiveFaultsTest, OkxCorruptFrameIsCountedAndItsBookResyncsByResubscribing) {
  check_lost_frame(Venue::Okx, kOkxWs, "corrupt-at", 2000);
}
TEST_F(LiveFaultsTest, KrakenCorruptFrameIsCountedAndItsBookResyncsByResubscribing) {
  check_lost_frame(Venue::Kraken, kKrakenWs, "corrupt-at", 2000);
}
TEST_F(LiveFaultsTest, OkxDroppedFrameFailsOneChecksumAndOnlyThatBookResubscribes) {
  check_lost_frame(Venue::Okx, kOkxWs, "drop-at", 1000);
}
TEST_F(LiveFaultsTest, KrakenDroppedFrameFailsOneChecksumAndOnlyThatBookResubscribes) {
  check_lost_frame(Venue::Kraken, kKrakenWs, "drop-at", 1000);
}
TEST_F(LiveFaultsTest, OkxRejectedSubscribeReconnectsResubscribesAndEveryBookSyncs) {
  check_reject(Venue::Okx);
}
TEST_F(LiveFaultsTest, KrakenRejectedSubscribeReconnectsResubscribesAndEveryBookSyncs) {
  check_reject(Venue::Kraken);
}

// ---- Binance USD-M -------------------------------------------------------------------------
// Binance stalls right after its first frame: the resumed stream (frames 2..) still straddles
// the recorded REST snapshot, which the session fetches again for the new connection.
TEST_F(LiveFaultsTest, BinanceStallReconnectsRefetchesSnapshotsAndEveryBookMatchesOffline) {
  Options o;
  o.faults = {"stall=5000:after=1"};
  o.no_data_timeout_ms = 2000;
  ASSERT_NO_FATAL_FAILURE(start(Venue::BinanceUsdm, o));
  EXPECT_TRUE(run([&] {
    return counters().reconnects() >= 1 && counters().messages >= kBinanceFrames && all_synced();
  }));
  const auto& c = counters();
  EXPECT_EQ(c.no_data_timeouts, 1u);
  EXPECT_EQ(c.disconnects, 1u);
  EXPECT_EQ(c.reconnects(), 1u);
  EXPECT_EQ(c.messages, kBinanceFrames); // frame 1, then 2.. on the new connection: none twice
  EXPECT_EQ(c.snapshots_requested, 2 * natives_.size());
  EXPECT_EQ(c.snapshots_fetched, 2 * natives_.size());
  EXPECT_EQ(c.snapshots_discarded, 0u);
  EXPECT_EQ(c.parse_errors, 0u);
  expect_books_end_synced();
  expect_every_book_stale_then_resynced();
  expect_binance_books_equal_offline();
}

TEST_F(LiveFaultsTest, BinanceRefusedConnectionsAreRetriedWithBackoffUntilAccepted) {
  Options o;
  o.faults = {"refuse=1500"};
  o.metadata_from_healthy_venue = true;
  o.backoff = BackoffPolicy{100, 30'000, 20, 60'000};
  ASSERT_NO_FATAL_FAILURE(start(Venue::BinanceUsdm, o));
  EXPECT_TRUE(run([&] { return counters().messages >= kBinanceFrames && all_synced(); }));
  const auto& c = counters();
  EXPECT_GE(c.connects, 2u);
  EXPECT_LE(c.connects, max_attempts_for_refuse(o.backoff, 1500));
  EXPECT_EQ(c.opens, 1u);
  EXPECT_EQ(c.disconnects, c.connects - 1);
  EXPECT_EQ(c.messages, kBinanceFrames);
  EXPECT_EQ(c.snapshots_requested, natives_.size()); // only an open asks for snapshots
  EXPECT_EQ(c.snapshots_fetched, natives_.size());
  EXPECT_EQ(c.parse_errors, 0u);
  expect_books_end_synced();
  expect_binance_books_equal_offline();
}

// OKX limits subscribe/unsubscribe requests per connection per hour. With a budget of 4 the
// subscribe round (3 requests) leaves no room for the unsubscribe + subscribe pair that
// would resync the book the corrupt frame broke: the session reconnects instead (new
// connection, new budget), which resubscribes and resyncs every book.
TEST_F(LiveFaultsTest, OkxResyncThatWouldPassTheHourlyRequestLimitReconnectsInstead) {
  Options o;
  venue_ = Venue::Okx;
  const auto [n, hit] = pick(kOkxWs, 2000);
  o.faults = {"corrupt-at=" + std::to_string(n)};
  o.max_requests_per_hour = 4;
  ASSERT_NO_FATAL_FAILURE(start(Venue::Okx, o));
  EXPECT_TRUE(run([&] { return counters().reconnects() >= 1 && all_synced(); }));
  const auto& c = counters();
  EXPECT_EQ(c.parse_errors, 1u);
  EXPECT_EQ(c.budget_reconnects, 1u);
  EXPECT_EQ(c.disconnects, 1u);
  EXPECT_EQ(c.reconnects(), 1u);
  EXPECT_EQ(c.resubscribe_requests, 0u); // never sent past the budget
  expect_books_end_synced(hit);
  // The broken book was already stale (checksum mismatch) when the session reconnected; every
  // other book went stale on the disconnect. All came back through the new subscription.
  for (const auto& name : natives_) {
    const auto& t = observed(name).transitions;
    ASSERT_GE(t.size(), 2u) << name;
    const BookError why = name == hit ? BookError::ChecksumMismatch : BookError::Disconnected;
    EXPECT_NE(std::find_if(t.begin(), t.end(),
                           [&](const auto& x) { return x.first == BookStatus::Stale && x.second == why; }),
              t.end())
        << name;
    EXPECT_EQ(t.back().first, BookStatus::Synced) << name;
    EXPECT_EQ(book(name)->counters().resyncs, 1u) << name;
  }
}

// Binance subscribes by URL, so the close comes right after the handshake. The snapshots asked
// for on that first open are discarded when they arrive (their stream is gone); the second
// connection's are applied.
TEST_F(LiveFaultsTest, BinanceRejectedConnectionReconnectsAndSyncsFromTheNewSnapshots) {
  Options o;
  o.faults = {"reject-subscribe"};
  ASSERT_NO_FATAL_FAILURE(start(Venue::BinanceUsdm, o));
  EXPECT_TRUE(run([&] {
    return counters().reconnects() >= 1 && counters().messages >= kBinanceFrames && all_synced();
  }));
  const auto& c = counters();
  EXPECT_EQ(c.disconnects, 1u);
  EXPECT_EQ(c.reconnects(), 1u);
  EXPECT_EQ(c.messages, kBinanceFrames);
  EXPECT_EQ(c.snapshots_requested, 2 * natives_.size());
  EXPECT_EQ(c.snapshots_fetched, natives_.size());
  EXPECT_EQ(c.snapshots_discarded, natives_.size());
  EXPECT_EQ(c.parse_errors, 0u);
  expect_books_end_synced();
  expect_binance_books_equal_offline();
}

} // namespace
} // namespace fh::test
