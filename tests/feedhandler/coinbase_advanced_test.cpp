// labels: unit replay
// CoinbaseAdvancedParser (Advanced Trade WebSocket) and its sequence_num gap logic.
//
// There is NO recording of Coinbase Advanced Trade traffic in the corpus (PROVENANCE.md, "What is
// not here"). Venue messages may not be written by hand, so every Advanced Trade frame in this
// file is a MECHANICAL CONVERSION of one recorded legacy Exchange-feed message
// (data/coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz) into the shape Coinbase
// documents (docs.cdp.coinbase.com, Advanced Trade WebSocket channels: level2 -> channel
// "l2_data", market_trades, ticker), by convert() below and nothing else:
//   envelope    {"channel", "client_id":"", "timestamp": the record's receive time (RFC 3339),
//                "sequence_num": the frame's position in the converted stream, "events":[..]}
//   snapshot    l2_data  {"type":"snapshot","product_id","updates":[{"side":"bid"|"offer",
//                "event_time": receive time, "price_level", "new_quantity"}]} (bids then asks as
//                in the text)
//   l2update    l2_data  {"type":"update", ... "event_time": the update's "time"}
//   ticker      ticker   {"type":"update","tickers":[{"type":"ticker","product_id","price",
//                "volume_24_h","low_24_h","high_24_h","best_bid","best_ask"}]}
//   match       market_trades {"type":"update","trades":[{"trade_id" (as a string),
//                "product_id","price","size","side" (upper case, the maker's side),"time"}]}
//   last_match  the same with "type":"snapshot" (the trade sent on subscribe)
//   subscriptions  {"channel":"subscriptions", "events":[{"subscriptions":{name: products}}]}
// Every price, size, id and time is the recorded text, unchanged.
//
// What this tests: that the documented shape is read into the same events and books as the
// recorded legacy messages (10 snapshots, 9,719 updates, the 100/7 ticker cross-check); the
// sequence_num rule (a jump, a repeat, a reorder or a message that could not be read marks every
// book the connection fed Stale through Status events, counted; a new connection restarts the
// count); robustness to mechanically corrupted frames; no allocation per frame.
// What it cannot test: real Advanced Trade traffic. Field order, extra fields, number spellings,
// multi-event messages, heartbeats/candles, the sequence_num a connection starts from, and the
// ask side's spelling "offer" (from the documentation's field description and public clients;
// the documented example shows bids only) are as documented, not as observed.
#include <gtest/gtest.h>

#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/book_error.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/coinbase.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::dom_arr;
using test::dom_str;
using test::g_allocations;
using test::is_received;
using test::read_capture;
using test::Record;
using test::RecordKind;

constexpr const char *kWs = "coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "coinbase/cryptofeed/products_2021-04-17_http.txt.gz";

// ---- the mechanical conversion ---------------------------------------------------------------

std::string q(std::string_view s) {
  EXPECT_EQ(s.find_first_of("\"\\"), std::string_view::npos) << s; // recorded text needs none
  return "\"" + std::string(s) + "\"";
}

// Receive time (ns) as RFC 3339 with 9 fraction digits, via libc.
std::string rfc3339(std::int64_t ns) {
  const std::time_t sec = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  EXPECT_NE(gmtime_r(&sec, &tm), nullptr);
  char buf[64];
  EXPECT_EQ(std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm), 19U);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1000000000));
  return std::string(buf) + frac + "Z";
}

struct Converted {
  std::string text; // followed by SIMDJSON_PADDING zero bytes
  std::size_t size = 0;
  std::string legacy_type;
  std::string product;
  std::uint64_t sequence = 0;
  std::size_t legacy_index = 0; // into the received legacy records
  std::string_view view() const { return std::string_view(text.data(), size); }
};

std::string envelope(std::string_view channel, const Record &r, std::uint64_t seq,
                     const std::string &events) {
  return "{\"channel\":" + q(channel) +
         ",\"client_id\":\"\",\"timestamp\":" + q(rfc3339(r.recv_ts_ns)) +
         ",\"sequence_num\":" + std::to_string(seq) + ",\"events\":[" + events + "]}";
}

Converted convert(const Record &r, std::uint64_t seq) {
  simdjson::dom::parser dom;
  simdjson::dom::element msg;
  EXPECT_EQ(dom.parse(r.payload.data(), r.payload.size()).get(msg), simdjson::SUCCESS);
  Converted c;
  c.legacy_type = std::string(dom_str(msg["type"]));
  c.sequence = seq;
  std::string_view product;
  if (!msg["product_id"].get_string().get(product))
    c.product = std::string(product);
  const std::string &t = c.legacy_type;
  auto update = [](std::string_view side, std::string_view time, std::string_view px,
                   std::string_view sz) {
    return "{\"side\":" + q(side) + ",\"event_time\":" + q(time) + ",\"price_level\":" + q(px) +
           ",\"new_quantity\":" + q(sz) + "}";
  };
  if (t == "snapshot") {
    std::string updates;
    simdjson::dom::object obj;
    EXPECT_EQ(msg.get_object().get(obj), simdjson::SUCCESS);
    const std::string time = rfc3339(r.recv_ts_ns);
    for (const auto [key, value] : obj) {
      if (key != "bids" && key != "asks")
        continue;
      for (const simdjson::dom::element lv : dom_arr(value)) {
        updates += updates.empty() ? "" : ",";
        updates += update(key == "bids" ? "bid" : "offer", time, dom_str(dom_arr(lv).at(0)),
                          dom_str(dom_arr(lv).at(1)));
      }
    }
    c.text = envelope("l2_data", r, seq,
                      "{\"type\":\"snapshot\",\"product_id\":" + q(product) + ",\"updates\":[" +
                          updates + "]}");
  } else if (t == "l2update") {
    std::string updates;
    for (const simdjson::dom::element ch : dom_arr(msg["changes"])) {
      const simdjson::dom::array a = dom_arr(ch);
      updates += updates.empty() ? "" : ",";
      updates += update(dom_str(a.at(0)) == "buy" ? "bid" : "offer", dom_str(msg["time"]),
                        dom_str(a.at(1)), dom_str(a.at(2)));
    }
    c.text = envelope("l2_data", r, seq,
                      "{\"type\":\"update\",\"product_id\":" + q(product) + ",\"updates\":[" +
                          updates + "]}");
  } else if (t == "ticker") {
    c.text = envelope("ticker", r, seq,
                      "{\"type\":\"update\",\"tickers\":[{\"type\":\"ticker\",\"product_id\":" +
                          q(product) + ",\"price\":" + q(dom_str(msg["price"])) +
                          ",\"volume_24_h\":" + q(dom_str(msg["volume_24h"])) +
                          ",\"low_24_h\":" + q(dom_str(msg["low_24h"])) +
                          ",\"high_24_h\":" + q(dom_str(msg["high_24h"])) +
                          ",\"best_bid\":" + q(dom_str(msg["best_bid"])) +
                          ",\"best_ask\":" + q(dom_str(msg["best_ask"])) + "}]}");
  } else if (t == "match" || t == "last_match") {
    std::uint64_t trade_id = 0;
    EXPECT_EQ(msg["trade_id"].get_uint64().get(trade_id), simdjson::SUCCESS);
    const std::string side = dom_str(msg["side"]) == "buy" ? "BUY" : "SELL";
    c.text =
        envelope("market_trades", r, seq,
                 std::string("{\"type\":") + (t == "match" ? "\"update\"" : "\"snapshot\"") +
                     ",\"trades\":[{\"trade_id\":" + q(std::to_string(trade_id)) +
                     ",\"product_id\":" + q(product) + ",\"price\":" + q(dom_str(msg["price"])) +
                     ",\"size\":" + q(dom_str(msg["size"])) + ",\"side\":" + q(side) +
                     ",\"time\":" + q(dom_str(msg["time"])) + "}]}");
  } else if (t == "subscriptions") {
    std::string subs;
    for (const simdjson::dom::element ch : dom_arr(msg["channels"])) {
      std::string ids;
      for (const simdjson::dom::element id : dom_arr(ch["product_ids"]))
        ids += (ids.empty() ? "" : ",") + q(dom_str(id));
      subs += (subs.empty() ? "" : ",") + q(dom_str(ch["name"])) + ":[" + ids + "]";
    }
    c.text = envelope("subscriptions", r, seq, "{\"subscriptions\":{" + subs + "}}");
  } else {
    ADD_FAILURE() << "unexpected legacy type " << t;
  }
  c.size = c.text.size();
  c.text.append(simdjson::SIMDJSON_PADDING, '\0');
  return c;
}

// Positions of the bytes that shape the JSON text: brackets, braces, commas and colons outside
// strings, and the quotes themselves (the recorded texts contain no escapes).
std::vector<std::size_t> structural_positions(std::string_view msg) {
  std::vector<std::size_t> out;
  bool in_string = false;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '"') {
      in_string = !in_string;
      out.push_back(i);
    } else if (!in_string && test::is_structural(msg[i])) {
      out.push_back(i);
    }
  }
  return out;
}

// ---- fixture ---------------------------------------------------------------------------------

bool same_book(const book::L2Book &a, const book::L2Book &b) {
  for (auto side : {book::Side::Bid, book::Side::Ask}) {
    if (a.depth(side) != b.depth(side))
      return false;
    for (std::size_t i = 0; i < a.depth(side); ++i)
      if (a.at(side, i).price != b.at(side, i).price || a.at(side, i).qty != b.at(side, i).qty)
        return false;
  }
  return true;
}

class CoinbaseAdvancedTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    legacy_ = new CaptureRecords(read_capture(kWs, is_received));
    frames_ = new std::vector<Converted>();
    for (std::size_t i = 0; i < legacy_->size(); ++i) {
      frames_->push_back(convert((*legacy_)[i], i));
      frames_->back().legacy_index = i;
    }
  }
  static void TearDownTestSuite() {
    delete frames_;
    delete legacy_;
  }
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(kMeta))
      if (l.kind == RecordKind::Http)
        n += load_coinbase_products(l.payload, registry);
    return n;
  }

  // Parses `frames` in order through one parser into a builder. Per frame, the Status events
  // it carried and its status.
  struct Run {
    std::vector<ParseStatus> status;
    std::vector<std::vector<std::uint32_t>> stale; // instruments a frame's Status events named
    std::uint64_t gaps = 0;
    std::size_t errors = 0;
  };
  Run run(const std::vector<const Converted *> &frames, BookBuilder &builder,
          CoinbaseParser &parser, const std::set<std::size_t> &new_connection_at = {}) {
    Run r;
    EventBatch out;
    for (std::size_t k = 0; k < frames.size(); ++k) {
      if (new_connection_at.count(k) != 0)
        parser.on_new_connection();
      out.clear();
      const ParseStatus st = parser.parse(frames[k]->view(), 1, out);
      r.status.push_back(st);
      r.errors += is_error(st) ? 1U : 0U;
      r.stale.emplace_back();
      if (st != ParseStatus::Ok)
        continue;
      for (const Event &e : out) {
        if (e.type == EventType::Status) {
          EXPECT_EQ(e.status.status, BookStatus::Stale);
          EXPECT_EQ(e.status.reason, static_cast<std::uint8_t>(BookError::SequenceGap));
          r.stale.back().push_back(e.instrument);
        }
        builder.on_event(e);
      }
    }
    r.gaps = parser.advanced().sequence_gaps();
    return r;
  }
  static std::vector<const Converted *> all() {
    std::vector<const Converted *> v;
    for (const Converted &c : *frames_)
      v.push_back(&c);
    return v;
  }
  struct BookSum {
    std::size_t books = 0, synced = 0, stale = 0;
    BookCounters c;
  };
  static BookSum sum(const BookBuilder &b) {
    BookSum s;
    for (std::uint32_t id = 0; id < b.instrument_slots(); ++id) {
      const InstrumentBook *book = b.book(id);
      if (book == nullptr || book->counters().book_messages == 0)
        continue;
      ++s.books;
      s.synced += book->status() == BookStatus::Synced ? 1U : 0U;
      s.stale += book->status() == BookStatus::Stale ? 1U : 0U;
      s.c.snapshots += book->counters().snapshots;
      s.c.applied += book->counters().applied;
      s.c.trades += book->counters().trades;
      s.c.bbos += book->counters().bbos;
      s.c.bbo_checks_ok += book->counters().bbo_checks_ok;
      s.c.bbo_checks_fail += book->counters().bbo_checks_fail;
    }
    return s;
  }
  // Index (into frames_) of the first frame from the middle on that is an l2update.
  static std::size_t middle_update() {
    for (std::size_t k = frames_->size() / 2; k < frames_->size(); ++k)
      if ((*frames_)[k].legacy_type == "l2update")
        return k;
    ADD_FAILURE() << "no update";
    return 0;
  }

  static CaptureRecords *legacy_;
  static std::vector<Converted> *frames_;
};
CaptureRecords *CoinbaseAdvancedTest::legacy_ = nullptr;
std::vector<Converted> *CoinbaseAdvancedTest::frames_ = nullptr;

// ---- the documented shape, read like the legacy messages it was converted from ------------------

TEST_F(CoinbaseAdvancedTest, ConvertedFramesGiveTheEventsOfTheirLegacyMessages) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  CoinbaseParser legacy(registry);
  CoinbaseParser advanced(registry);
  EventBatch a;
  EventBatch b;
  std::map<std::string, std::size_t> by_type;
  ASSERT_EQ(frames_->size(), 9946U);
  for (const Converted &c : *frames_) {
    ASSERT_TRUE(coinbase_advanced_first_key(c.view()));
    a.clear();
    b.clear();
    ASSERT_FALSE(is_error(legacy.parse((*legacy_)[c.legacy_index].payload, 1, a)));
    const ParseStatus st = advanced.parse(c.view(), 1, b);
    ++by_type[c.legacy_type];
    const std::string where = c.legacy_type + " frame " + std::to_string(c.sequence);
    if (c.legacy_type == "subscriptions" || c.legacy_type == "last_match") {
      // An ack; a trade sent on subscribe (market_trades snapshot): not replayed as a print.
      ASSERT_EQ(st, ParseStatus::Ignored) << where;
      ASSERT_EQ(b.size(), 0U);
      continue;
    }
    ASSERT_EQ(st, ParseStatus::Ok) << where;
    ASSERT_EQ(a.size(), b.size()) << where;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const Event &x = a[i];
      const Event &y = b[i];
      ASSERT_EQ(x.type, y.type) << where;
      ASSERT_EQ(x.instrument, y.instrument) << where;
      ASSERT_EQ(x.venue, y.venue);
      switch (x.type) {
      case EventType::BookBegin:
        ASSERT_EQ(x.flags, y.flags) << where;
        ASSERT_EQ(x.begin.levels, y.begin.levels) << where;
        ASSERT_EQ(y.exch_ts_ns, (*legacy_)[c.legacy_index].recv_ts_ns) << where; // "timestamp"
        break;
      case EventType::BookLevel:
        ASSERT_EQ(x.side, y.side) << where;
        ASSERT_EQ(x.level.price, y.level.price) << where;
        ASSERT_EQ(x.level.qty, y.level.qty) << where;
        ASSERT_EQ(x.level.price_text_dp, y.level.price_text_dp) << where;
        ASSERT_EQ(x.level.qty_text_dp, y.level.qty_text_dp) << where;
        // event_time: the update's time (l2update) or the receive time (snapshot).
        ASSERT_EQ(y.exch_ts_ns, c.legacy_type == "snapshot" ? (*legacy_)[c.legacy_index].recv_ts_ns
                                                            : a[0].exch_ts_ns)
            << where;
        break;
      case EventType::BookEnd:
        break;
      case EventType::Bbo:
        ASSERT_EQ(x.bbo.bid_price, y.bbo.bid_price) << where;
        ASSERT_EQ(x.bbo.ask_price, y.bbo.ask_price) << where;
        ASSERT_EQ(y.bbo.bid_qty, 0);
        ASSERT_EQ(y.bbo.ask_qty, 0);
        break;
      case EventType::Trade:
        ASSERT_EQ(x.trade.price, y.trade.price) << where;
        ASSERT_EQ(x.trade.qty, y.trade.qty) << where;
        ASSERT_EQ(x.trade.trade_id, y.trade.trade_id) << where;
        ASSERT_EQ(x.flags, y.flags) << where; // the maker's side -> the same aggressor
        ASSERT_EQ(x.exch_ts_ns, y.exch_ts_ns) << where;
        break;
      default:
        FAIL() << where << ": unexpected event";
      }
    }
  }
  // PROVENANCE.md counts, as converted.
  EXPECT_EQ(by_type["snapshot"], 10U);
  EXPECT_EQ(by_type["l2update"], 9719U);
  EXPECT_EQ(by_type["ticker"], 107U);
  EXPECT_EQ(advanced.advanced().sequence_gaps(), 0U);
}

TEST_F(CoinbaseAdvancedTest, ConvertedStreamRebuildsTheLegacyBooks) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  BookBuilder legacy_books(registry);
  {
    CoinbaseParser parser(registry);
    EventBatch out;
    for (const Record &l : *legacy_) {
      out.clear();
      if (parser.parse(l.payload, 1, out) == ParseStatus::Ok)
        for (const Event &e : out)
          legacy_books.on_event(e);
    }
  }
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(all(), books, parser);
  EXPECT_EQ(r.errors, 0U);
  EXPECT_EQ(r.gaps, 0U);
  const BookSum s = sum(books);
  EXPECT_EQ(s.books, 10U);
  EXPECT_EQ(s.synced, 10U);
  EXPECT_EQ(s.c.snapshots, 10U);
  EXPECT_EQ(s.c.applied, 9719U);
  EXPECT_EQ(s.c.bbos, 107U);
  EXPECT_EQ(s.c.bbo_checks_ok, 100U); // the same ticker cross-check as the legacy stream
  EXPECT_EQ(s.c.bbo_checks_fail, 7U);
  EXPECT_EQ(s.c.trades, 107U - 10U); // last_match (sent on subscribe) is not a new print
  for (std::uint32_t id = 0; id < books.instrument_slots(); ++id) {
    if (const InstrumentBook *b = books.book(id)) {
      EXPECT_TRUE(same_book(b->book(), legacy_books.book(id)->book())) << b->instrument().native;
    }
  }
}

// JSON objects are unordered. The same converted frames with their "events" member moved in
// front of the envelope (cut and re-inserted, no value changed) give the same events.
TEST_F(CoinbaseAdvancedTest, ReadsTheSameEventsWhenEventsPrecedeTheEnvelope) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  CoinbaseParser in_order(registry);
  CoinbaseParser reordered(registry);
  EventBatch a;
  EventBatch b;
  std::size_t frames = 0;
  for (const Converted &c : *frames_) {
    const std::string_view msg = c.view();
    const std::size_t events_at = msg.find(",\"events\":");
    ASSERT_NE(events_at, std::string_view::npos);
    std::string moved = "{" + std::string(msg.substr(events_at + 1, msg.size() - 2 - events_at)) +
                        "," + std::string(msg.substr(1, events_at - 1)) + "}";
    ASSERT_EQ(moved.size(), msg.size());
    ASSERT_FALSE(coinbase_advanced_first_key(moved));
    a.clear();
    b.clear();
    const ParseStatus sa = in_order.parse(msg, 0, a); // parse_padded_copy passes recv_ts 0
    const ParseStatus sb = test::parse_padded_copy(reordered, moved, b);
    ASSERT_EQ(sa, sb) << c.sequence;
    ASSERT_EQ(a.size(), b.size()) << c.sequence;
    for (std::size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(Event)), 0) << c.sequence << " event " << i;
    ++frames;
  }
  EXPECT_EQ(frames, 9946U);
  EXPECT_EQ(reordered.advanced().sequence_gaps(), 0U);
}

// ---- sequence_num ------------------------------------------------------------------------------

// The set of products whose l2_data frames come before frame `end` (the books fed by then).
std::set<std::string> fed_before(const std::vector<const Converted *> &frames, std::size_t end) {
  std::set<std::string> fed;
  for (std::size_t k = 0; k < end; ++k)
    if (frames[k]->legacy_type == "snapshot" || frames[k]->legacy_type == "l2update")
      fed.insert(frames[k]->product);
  return fed;
}

std::set<std::string> names(const InstrumentRegistry &registry,
                            const std::vector<std::uint32_t> &ids) {
  std::set<std::string> out;
  for (const std::uint32_t id : ids)
    out.insert(registry.at(id).native);
  return out;
}

TEST_F(CoinbaseAdvancedTest, DroppedFrameMarksEveryFedBookStaleWithTheNextFrame) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  auto frames = all();
  const std::size_t k = middle_update();
  frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(k));
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(frames, books, parser);
  EXPECT_EQ(r.gaps, 1U);
  EXPECT_EQ(r.errors, 0U);
  // Frame k (formerly k+1) carries Status for all 10 books, in front of its own events; no other
  // frame carries any.
  EXPECT_EQ(names(registry, r.stale[k]), fed_before(frames, k));
  EXPECT_EQ(r.stale[k].size(), 10U);
  for (std::size_t i = 0; i < r.stale.size(); ++i) {
    if (i != k) {
      ASSERT_TRUE(r.stale[i].empty()) << i;
    }
  }
  const BookSum s = sum(books);
  EXPECT_EQ(s.stale, 10U);
  EXPECT_EQ(books.resync_requests(), 10U);
  for (std::uint32_t id = 0; id < books.instrument_slots(); ++id) {
    if (const InstrumentBook *b = books.book(id)) {
      EXPECT_EQ(b->last_error(), BookError::SequenceGap);
    }
  }
}

// A gap found on a snapshot's frame: the Status events go first, so the snapshot's own book ends
// Synced and only the books fed before it are Stale.
TEST_F(CoinbaseAdvancedTest, GapBeforeASnapshotLeavesThatSnapshotsBookSynced) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  auto frames = all();
  std::size_t last_snapshot = 0;
  for (std::size_t k = 0; k < frames.size(); ++k)
    if (frames[k]->legacy_type == "snapshot")
      last_snapshot = k;
  ASSERT_GT(last_snapshot, 1U);
  frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(last_snapshot - 1));
  const std::size_t at = last_snapshot - 1;
  const std::string product = frames[at]->product;
  const std::set<std::string> fed = fed_before(frames, at);
  ASSERT_EQ(fed.count(product), 0U);
  ASSERT_GT(fed.size(), 0U);
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(frames, books, parser);
  EXPECT_EQ(r.gaps, 1U);
  EXPECT_EQ(names(registry, r.stale[at]), fed);
  EXPECT_EQ(books.book(registry.find(Venue::Coinbase, product)->id)->status(), BookStatus::Synced);
  const BookSum s = sum(books);
  EXPECT_EQ(s.stale, fed.size());
  EXPECT_EQ(s.synced, 10U - fed.size());
}

TEST_F(CoinbaseAdvancedTest, RepeatedFrameIsAGap) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  auto frames = all();
  const std::size_t k = middle_update();
  frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(k) + 1, frames[k]);
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(frames, books, parser);
  EXPECT_EQ(r.gaps, 1U);
  EXPECT_EQ(r.stale[k + 1].size(), 10U);
  EXPECT_EQ(sum(books).stale, 10U);
}

TEST_F(CoinbaseAdvancedTest, SwappedFramesAreGaps) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  auto frames = all();
  const std::size_t k = middle_update();
  std::swap(frames[k], frames[k + 1]);
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(frames, books, parser);
  EXPECT_EQ(r.gaps, 3U); // n+1 after n-1, n after n+1, n+2 after n
  EXPECT_EQ(r.stale[k].size(), 10U);
  EXPECT_EQ(sum(books).stale, 10U);
}

// sequence_num is per connection: the second half of the converted stream renumbered from 0 (as
// a new connection would number it) is no gap when the session says the connection is new, and
// is one when it does not.
TEST_F(CoinbaseAdvancedTest, NewConnectionRestartsTheSequence) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const std::size_t split = middle_update();
  std::vector<Converted> second;
  for (std::size_t k = split; k < frames_->size(); ++k)
    second.push_back(convert((*legacy_)[(*frames_)[k].legacy_index], k - split));
  std::vector<const Converted *> frames;
  for (std::size_t k = 0; k < split; ++k)
    frames.push_back(&(*frames_)[k]);
  for (const Converted &c : second)
    frames.push_back(&c);
  {
    BookBuilder books(registry);
    CoinbaseParser parser(registry);
    const Run r = run(frames, books, parser, {split});
    EXPECT_EQ(r.gaps, 0U);
    EXPECT_EQ(sum(books).synced, 10U);
  }
  {
    BookBuilder books(registry);
    CoinbaseParser parser(registry);
    const Run r = run(frames, books, parser);
    EXPECT_EQ(r.gaps, 1U);
    EXPECT_EQ(r.stale[split].size(), 10U);
    EXPECT_EQ(sum(books).stale, 10U);
  }
}

// A frame with one byte replaced: the '[' after `key` becomes 'x' (the JSON text stays
// tokenizable, so the envelope before it is read), or the frame cut to its first 30 bytes.
Converted corrupted(const Converted &c, std::string_view key) {
  Converted broken;
  const std::string_view text = c.view();
  if (key.empty()) {
    broken.text = std::string(text.substr(0, 30));
  } else {
    broken.text = std::string(text);
    const std::size_t at = broken.text.find(key);
    EXPECT_NE(at, std::string::npos) << key;
    EXPECT_EQ(broken.text[at + key.size()], '[');
    broken.text[at + key.size()] = 'x';
  }
  broken.size = broken.text.size();
  broken.text.append(simdjson::SIMDJSON_PADDING, '\0');
  return broken;
}

// An l2_data frame that cannot be read is a lost update of some book. Broken after its
// sequence_num (the number counts; the next frame carries the Status events) or before it (the
// next frame's number shows the loss): either way every fed book goes Stale, once.
TEST_F(CoinbaseAdvancedTest, UnreadableBookFrameMarksEveryFedBookStale) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const std::size_t k = middle_update();
  for (const bool after_number : {true, false}) {
    const Converted broken = corrupted((*frames_)[k], after_number ? "\"updates\":" : "");
    auto frames = all();
    frames[k] = &broken;
    BookBuilder books(registry);
    CoinbaseParser parser(registry);
    const Run r = run(frames, books, parser);
    EXPECT_EQ(r.errors, 1U) << after_number;
    EXPECT_TRUE(is_error(r.status[k]));
    EXPECT_EQ(r.gaps, after_number ? 0U : 1U) << after_number;
    EXPECT_EQ(r.stale[k + 1].size(), 10U) << after_number;
    std::size_t statuses = 0;
    for (const auto &st : r.stale)
      statuses += st.size();
    EXPECT_EQ(statuses, 10U) << after_number;
    EXPECT_EQ(sum(books).stale, 10U) << after_number;
  }
}

// A ticker frame that cannot be read after its number costs no book anything.
TEST_F(CoinbaseAdvancedTest, UnreadableTickerFrameAfterItsNumberLeavesTheBooksSynced) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  std::size_t k = frames_->size() / 2;
  while ((*frames_)[k].legacy_type != "ticker")
    ++k;
  const Converted broken = corrupted((*frames_)[k], "\"tickers\":");
  auto frames = all();
  frames[k] = &broken;
  BookBuilder books(registry);
  CoinbaseParser parser(registry);
  const Run r = run(frames, books, parser);
  EXPECT_EQ(r.errors, 1U);
  EXPECT_EQ(r.gaps, 0U);
  EXPECT_EQ(sum(books).synced, 10U);
}

// ---- robustness and allocation
// -------------------------------------------------------------------

// Converted frames cut short or with a structural byte replaced are refused and leave the batch
// as it was (every frame of the small kinds, every 50th update, every snapshot).
TEST_F(CoinbaseAdvancedTest, RefusesCorruptedFramesWithoutTouchingTheBatch) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  CoinbaseParser parser(registry);
  EventBatch out;
  std::size_t first_snapshot = 0;
  while ((*frames_)[first_snapshot].legacy_type != "snapshot")
    ++first_snapshot;
  ASSERT_EQ(parser.parse((*frames_)[first_snapshot].view(), 1, out), ParseStatus::Ok);
  const std::size_t before = out.size();
  ASSERT_GT(before, 0U);
  std::size_t cases = 0;
  std::size_t updates = 0;
  for (const Converted &c : *frames_) {
    if (c.legacy_type == "l2update" && updates++ % 50 != 0)
      continue;
    const std::string_view msg = c.view();
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      const ParseStatus st = test::parse_padded_copy(parser, std::string(msg.substr(0, len)), out);
      ASSERT_TRUE(is_error(st)) << c.sequence << " cut at " << len;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
    // Every position of small frames; about 150 spread over each (large) snapshot.
    const std::vector<std::size_t> positions = structural_positions(msg);
    const std::size_t step = msg.size() > 2000 ? positions.size() / 150 + 1 : 1;
    std::size_t seen = 0;
    for (const std::size_t pos : positions) {
      if (seen++ % step != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = test::parse_padded_copy(parser, mutated, out);
      ASSERT_TRUE(is_error(st)) << c.sequence << " byte " << pos;
      ASSERT_EQ(out.size(), before);
      ++cases;
    }
  }
  EXPECT_GT(cases, 30000U);
}

TEST_F(CoinbaseAdvancedTest, AllocatesNothingPerFrame) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  CoinbaseParser parser(registry);
  EventBatch out;
  std::size_t frames = 0;
  for (const Converted &c : *frames_) {
    out.clear();
    const std::size_t before = g_allocations.load();
    const ParseStatus st = parser.parse(c.view(), 1, out);
    ASSERT_EQ(g_allocations.load(), before) << c.sequence << " " << to_cstring(st);
    ++frames;
  }
  EXPECT_EQ(frames, 9946U);
}

} // namespace
} // namespace fh::venues
