// labels: unit replay
// BitfinexParser and the conf pair-list loader over the real Bitfinex captures in
// data/bitfinex (PROVENANCE.md, "Bitfinex"): the cryptofeed v2 capture (book P0 len 100,
// ticker, trades for 7 pairs, conf flags 65536 SEQ_ALL), its conf pair lists, and the
// nautilus raw-book (R0) JSON array. Every expected value comes from PROVENANCE.md or from the
// message text itself, read here by string surgery (number tokens, exponents expanded by
// hand, test::ref_mantissa) and simdjson's DOM, never by the parser under test. Corrupted
// inputs are real messages changed mechanically (cut, one byte replaced, one digit changed),
// each said where it is done.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/book_error.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/bitfinex.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::g_allocations;
using test::read_capture;
using test::Record;
using test::RecordKind;

constexpr const char *kP0 = "bitfinex/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz";
constexpr const char *kConf = "bitfinex/cryptofeed/conf_lists_2021-04-17_http.txt.gz";
constexpr const char *kRaw = "bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz";

// ---- independent oracles -------------------------------------------------------------------

// The number tokens of a JSON text in order, as written.
std::vector<std::string> number_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') { // skip strings ("hb", "te")
      i = s.find('"', i + 1) + 1;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t j = i + 1;
      while (j < s.size() &&
             std::string_view("0123456789.eE+-").find(s[j]) != std::string_view::npos)
        ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

// "2e-8" -> "0.00000002": exponent forms (Bitfinex writes small prices so) by moving the point.
std::string expand_exponent(const std::string &t) {
  const std::size_t e = t.find_first_of("eE");
  if (e == std::string::npos)
    return t;
  const bool negative = t[0] == '-';
  const std::string mant = t.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  const int exp = std::stoi(t.substr(e + 1));
  const std::size_t dot = mant.find('.');
  const std::string digits =
      dot == std::string::npos ? mant : mant.substr(0, dot) + mant.substr(dot + 1);
  const int point =
      (dot == std::string::npos ? static_cast<int>(mant.size()) : static_cast<int>(dot)) + exp;
  std::string out;
  if (point <= 0)
    out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  else if (point >= static_cast<int>(digits.size()))
    out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  else
    out = digits.substr(0, static_cast<std::size_t>(point)) + "." +
          digits.substr(static_cast<std::size_t>(point));
  return (negative ? "-" : "") + out;
}

// Mantissa at 8 decimals (the scale Bitfinex instruments are parsed at), sign dropped.
std::int64_t abs_mantissa(const std::string &token) {
  std::string t = expand_exponent(token);
  if (!t.empty() && t[0] == '-')
    t.erase(0, 1);
  const std::optional<std::int64_t> v = test::ref_mantissa(t, 8);
  EXPECT_TRUE(v.has_value()) << token;
  return v.value_or(-1);
}

book::Side side_of(const std::string &amount) {
  return amount[0] == '-' ? book::Side::Ask : book::Side::Bid;
}

// chanId -> (channel, symbol) from the "subscribed" events, read with simdjson's DOM.
struct Subscriptions {
  std::map<std::uint64_t, std::pair<std::string, std::string>> by_id;
  bool add_if_subscribed(std::string_view text) {
    simdjson::dom::parser dom;
    simdjson::dom::element e;
    if (dom.parse(text.data(), text.size(), false).get(e))
      return false;
    std::string_view name;
    if (e["event"].get_string().get(name) || name != "subscribed")
      return false;
    std::uint64_t id = 0;
    std::string_view channel, symbol;
    EXPECT_EQ(e["chanId"].get_uint64().get(id), simdjson::SUCCESS);
    EXPECT_EQ(e["channel"].get_string().get(channel), simdjson::SUCCESS);
    EXPECT_EQ(e["symbol"].get_string().get(symbol), simdjson::SUCCESS);
    by_id[id] = {std::string(channel), std::string(symbol)};
    return true;
  }
};

// ---- fixture ---------------------------------------------------------------------------------

class BitfinexParserTest : public ::testing::Test {
protected:
  static std::size_t load_conf(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &r : read_capture(kConf))
      if (r.kind == RecordKind::Http)
        n += load_metadata(Venue::Bitfinex, r.url, r.payload, registry).value_or(0);
    return n;
  }
  static CaptureRecords received(const char *rel) {
    return read_capture(rel, [](const Record &r) { return r.kind == RecordKind::WsText; });
  }
  // Index of the first received record containing `needle`, from `from` on.
  static std::size_t first_with(const CaptureRecords &recs, std::string_view needle,
                                std::size_t from = 0) {
    for (std::size_t i = from; i < recs.size(); ++i)
      if (recs[i].payload.find(needle) != std::string_view::npos)
        return i;
    ADD_FAILURE() << "no record with " << needle;
    return recs.size();
  }
};

// ---- the P0 capture, message by message --------------------------------------------------

TEST_F(BitfinexParserTest, ParsesEveryMessageOfTheP0CaptureAsItsTextSays) {
  InstrumentRegistry registry;
  ASSERT_GT(load_conf(registry), 0U);
  BitfinexParser parser(registry);
  const CaptureRecords recs = received(kP0);
  Subscriptions subs;
  EventBatch out;
  std::size_t ok = 0, ignored = 0, snapshots = 0, updates = 0, tickers = 0, trade_snapshots = 0,
              trades = 0, heartbeats = 0, book_channel_heartbeats = 0, sequenced = 0;
  for (const Record &r : recs) {
    out.clear();
    const ParseStatus st = parser.parse(r.payload, r.recv_ts_ns, out);
    ASSERT_FALSE(is_error(st)) << "line " << r.line << ": " << to_cstring(st);
    (st == ParseStatus::Ok ? ok : ignored)++;
    if (r.payload.front() == '{') {
      subs.add_if_subscribed(r.payload);
      EXPECT_EQ(st, ParseStatus::Ignored);
      continue;
    }
    const std::vector<std::string> t = number_tokens(r.payload);
    const std::uint64_t chan = std::stoull(t.front());
    const std::uint64_t seq = std::stoull(t.back()); // SEQ_ALL: every array message ends so
    ++sequenced;
    EXPECT_EQ(parser.last_seq(), seq) << "line " << r.line;
    if (r.payload.find("\"hb\"") != std::string_view::npos) {
      ++heartbeats;
      auto s = subs.by_id.find(chan);
      // (Two heartbeats come before their channel is announced: they count as no channel's.)
      book_channel_heartbeats += s != subs.by_id.end() && s->second.first == "book" ? 1U : 0U;
      EXPECT_EQ(st, ParseStatus::Ignored);
      continue;
    }
    ASSERT_EQ(subs.by_id.count(chan), 1U) << "line " << r.line;
    const auto &[channel, symbol] = subs.by_id.at(chan);
    const Instrument *inst = registry.find(Venue::Bitfinex, symbol);
    ASSERT_NE(inst, nullptr) << symbol;
    for (const Event &e : out)
      EXPECT_EQ(e.instrument, inst->id);
    const std::size_t n = t.size() - 2; // without chanId and seq
    if (channel == "book") {
      const bool snapshot = r.payload.find("[[") != std::string_view::npos;
      (snapshot ? snapshots : updates)++;
      ASSERT_EQ(n % 3, 0U);
      ASSERT_EQ(out.size(), n / 3 + 2);
      EXPECT_EQ(out[0].type, EventType::BookBegin);
      EXPECT_EQ(out[0].flags, snapshot ? kFlagSnapshot : 0U);
      EXPECT_EQ(out[0].begin.levels, n / 3);
      EXPECT_EQ(out[0].begin.last_seq, seq);
      for (std::size_t i = 0; i < n / 3; ++i) {
        const Event &e = out[1 + i];
        const std::string &px = t[1 + 3 * i], &count = t[2 + 3 * i], &amount = t[3 + 3 * i];
        ASSERT_EQ(e.type, EventType::BookLevel);
        EXPECT_EQ(e.level.price, abs_mantissa(px)) << "line " << r.line << " " << px;
        EXPECT_EQ(e.level.orders, std::stoul(count));
        EXPECT_EQ(e.side, side_of(amount));
        EXPECT_EQ(e.level.qty, count == "0" ? 0 : abs_mantissa(amount)) << "line " << r.line;
      }
      EXPECT_EQ(out[out.size() - 1].type, EventType::BookEnd);
    } else if (channel == "ticker") {
      ++tickers;
      ASSERT_EQ(out.size(), 1U);
      EXPECT_EQ(out[0].type, EventType::Bbo);
      EXPECT_EQ(out[0].bbo.bid_price, abs_mantissa(t[1]));
      EXPECT_EQ(out[0].bbo.ask_price, abs_mantissa(t[3]));
      EXPECT_EQ(out[0].bbo.bid_qty, 0); // sums of 25 levels, not carried (bitfinex.hpp)
      EXPECT_EQ(out[0].bbo.ask_qty, 0);
    } else {
      ASSERT_EQ(channel, "trades");
      ++trade_snapshots;
      ASSERT_EQ(n % 4, 0U);
      ASSERT_EQ(out.size(), n / 4);
      for (std::size_t i = 0; i < n / 4; ++i) {
        const Event &e = out[n / 4 - 1 - i]; // the wire is newest first, events oldest first
        ASSERT_EQ(e.type, EventType::Trade);
        EXPECT_EQ(e.trade.trade_id, std::stoull(t[1 + 4 * i]));
        EXPECT_EQ(e.exch_ts_ns, std::stoll(t[2 + 4 * i]) * 1'000'000);
        EXPECT_EQ(e.trade.qty, abs_mantissa(t[3 + 4 * i]));
        EXPECT_EQ((e.flags & kFlagBuyerIsMaker) != 0, side_of(t[3 + 4 * i]) == book::Side::Ask);
        EXPECT_EQ(e.trade.price, abs_mantissa(t[4 + 4 * i]));
      }
      trades += n / 4;
    }
  }
  // PROVENANCE.md: 1,693 messages, 1,612 of them book (7 snapshots, 1,593 updates and 12
  // heartbeats on book channels), the sequence +1 on all 1,670 sequenced messages, 0 gaps.
  EXPECT_EQ(recs.size(), 1693U);
  EXPECT_EQ(snapshots + updates + book_channel_heartbeats, 1612U);
  EXPECT_EQ(sequenced, 1670U);
  EXPECT_EQ(parser.counters().sequenced, 1670U);
  EXPECT_EQ(parser.counters().seq_gaps, 0U);
  EXPECT_EQ(parser.counters().seq_stale, 0U);
  EXPECT_EQ(parser.counters().connections, 1U);
  EXPECT_TRUE(parser.seq_all());
  EXPECT_EQ(snapshots, 7U);
  EXPECT_EQ(subs.by_id.size(), 21U); // 7 pairs x book, ticker, trades
  EXPECT_EQ(ok, snapshots + updates + tickers + trade_snapshots);
  EXPECT_EQ(ignored, recs.size() - ok);
  EXPECT_EQ(heartbeats + tickers + trade_snapshots + snapshots + updates, 1670U);
  EXPECT_GT(trades, 0U);
}

TEST_F(BitfinexParserTest, HeartbeatBeforeItsChannelIsAnnouncedIsIgnoredAndConsumesItsNumber) {
  InstrumentRegistry registry;
  ASSERT_GT(load_conf(registry), 0U);
  BitfinexParser parser(registry);
  const CaptureRecords recs = received(kP0);
  // Line 183 of the capture: [232954,"hb",139], ten seconds before channel 232954 (BFTUSD's
  // book) is announced on line 586.
  const std::size_t hb = first_with(recs, "[232954,\"hb\",139]");
  EventBatch out;
  for (std::size_t i = 0; i < hb; ++i)
    (void)parser.parse(recs[i].payload, 0, out);
  out.clear();
  EXPECT_EQ(parser.parse(recs[hb].payload, 0, out), ParseStatus::Ignored);
  EXPECT_EQ(parser.last_seq(), 139U);
  EXPECT_EQ(out.size(), 0U);
  EXPECT_EQ(parser.parse(recs[hb + 1].payload, 0, out), ParseStatus::Ignored); // hb 140
  EXPECT_EQ(parser.counters().seq_gaps, 0U);
}

TEST_F(BitfinexParserTest, RegistersTheSubscribedPairsUnderCanonicalNames) {
  for (const bool metadata : {true, false}) {
    InstrumentRegistry registry;
    if (metadata) {
      ASSERT_GT(load_conf(registry), 0U);
    }
    BitfinexParser parser(registry);
    EventBatch out;
    for (const Record &r : received(kP0))
      (void)parser.parse(r.payload, 0, out);
    // The 7 subscribed pairs, with Bitfinex's codes resolved through its own currency map
    // (IOT = IOTA, MNA = MANA, SNG = SNGLS, DOG = MDOGE); ODE and BFT have no alias.
    const std::pair<const char *, const char *> expected[] = {
        {"tBFTUSD", "BFT-USD"},
        {"tIOTETH", "IOTA-ETH"},
        {"tDOGUSD", "MDOGE-USD"},
        {"tMNABTC", "MANA-BTC"},
        {"tODEUSD", "ODE-USD"},
        {"tSNGUSD", "SNGLS-USD"},
        {"tTESTBTC:TESTUSD", "TESTBTC-TESTUSD"}};
    for (const auto &[native, canonical] : expected) {
      const Instrument *inst = registry.find(Venue::Bitfinex, native);
      ASSERT_NE(inst, nullptr) << native;
      EXPECT_EQ(inst->canonical, canonical);
      EXPECT_EQ(inst->kind, InstrumentKind::Spot);
      EXPECT_EQ(inst->from_metadata, metadata);
      EXPECT_EQ(inst->price_decimals, 8);
      EXPECT_EQ(inst->qty_decimals, 8);
      EXPECT_EQ(registry.find_canonical(Venue::Bitfinex, canonical), inst);
    }
    if (!metadata) {
      EXPECT_EQ(registry.size(), 7U);
    }
  }
}

// ---- the R0 capture ---------------------------------------------------------------------------

TEST_F(BitfinexParserTest, ParsesEveryRawBookMessageIntoOrderEvents) {
  InstrumentRegistry registry; // no metadata: tBTCUSD registers on first sight at 8 decimals
  BitfinexParser parser(registry);
  const CaptureRecords recs = received(kRaw);
  ASSERT_EQ(recs.size(), 100001U); // PROVENANCE: info, subscribed, snapshot, 99,998 updates
  EventBatch out;
  std::size_t snapshot_orders = 0, upserts = 0, deletes = 0;
  for (const Record &r : recs) {
    out.clear();
    const ParseStatus st = parser.parse(r.payload, 0, out);
    ASSERT_FALSE(is_error(st)) << "element " << r.line;
    if (r.payload.front() == '{') {
      EXPECT_EQ(st, ParseStatus::Ignored);
      continue;
    }
    const std::vector<std::string> t = number_tokens(r.payload);
    const bool snapshot = r.payload.find("[[") != std::string_view::npos;
    const std::size_t n = (t.size() - 1) / 3; // no sequence numbers in this capture
    ASSERT_EQ(out.size(), n + 2);
    EXPECT_EQ(out[0].flags, kFlagOrders | (snapshot ? kFlagSnapshot : 0U));
    EXPECT_EQ(out[0].begin.levels, n);
    for (std::size_t i = 0; i < n; ++i) {
      const Event &e = out[1 + i];
      ASSERT_EQ(e.type, EventType::Order);
      EXPECT_EQ(e.order.order_id, std::stoull(t[1 + 3 * i]));
      EXPECT_EQ(e.side, side_of(t[3 + 3 * i]));
      if (t[2 + 3 * i] == "0") {
        EXPECT_EQ(e.order.action, OrderAction::Delete);
        ++deletes;
      } else {
        EXPECT_EQ(e.order.action, snapshot ? OrderAction::Add : OrderAction::Upsert);
        EXPECT_EQ(e.order.price, abs_mantissa(t[2 + 3 * i]));
        EXPECT_EQ(e.order.qty, abs_mantissa(t[3 + 3 * i]));
        (snapshot ? snapshot_orders : upserts)++;
      }
    }
  }
  // PROVENANCE: 50 orders in the snapshot; 37,021 deletions; 37,009 adds + 25,968
  // modifications arrive as order states (Upsert).
  EXPECT_EQ(snapshot_orders, 50U);
  EXPECT_EQ(deletes, 37021U);
  EXPECT_EQ(upserts, 37009U + 25968U);
  EXPECT_FALSE(parser.seq_all()); // no conf: no sequence numbers to check
  EXPECT_EQ(parser.counters().sequenced, 0U);
  const Instrument *btc = registry.find(Venue::Bitfinex, "tBTCUSD");
  ASSERT_NE(btc, nullptr);
  EXPECT_EQ(btc->canonical, "BTC-USD");
}

TEST_F(BitfinexParserTest, TheInfoGreetingOfANewConnectionResetsChannelsAndSequence) {
  InstrumentRegistry registry;
  ASSERT_GT(load_conf(registry), 0U);
  BitfinexParser parser(registry);
  EventBatch out;
  for (const Record &r : received(kP0))
    (void)parser.parse(r.payload, 0, out);
  ASSERT_EQ(parser.channels(), 21U);
  ASSERT_TRUE(parser.seq_all());
  // The raw capture is another connection: its info greeting ends the seven books of the
  // first one (no more updates will come for them), then its own subscription starts.
  const CaptureRecords raw = received(kRaw);
  out.clear();
  EXPECT_EQ(parser.parse(raw[0].payload, 0, out), ParseStatus::Ok);
  std::set<std::uint32_t> ended;
  for (const Event &e : out) {
    ASSERT_EQ(e.type, EventType::Status);
    EXPECT_EQ(e.status.status, BookStatus::Stale);
    EXPECT_EQ(e.status.reason, static_cast<std::uint8_t>(BookError::Disconnected));
    ended.insert(e.instrument);
  }
  EXPECT_EQ(out.size(), 7U);
  EXPECT_EQ(ended.size(), 7U);
  out.clear();
  EXPECT_EQ(parser.channels(), 0U);
  EXPECT_FALSE(parser.seq_all());
  EXPECT_EQ(parser.last_seq(), 0U);
  EXPECT_EQ(parser.parse(raw[1].payload, 0, out), ParseStatus::Ignored);
  EXPECT_EQ(parser.channels(), 1U);
  EXPECT_EQ(parser.parse(raw[2].payload, 0, out), ParseStatus::Ok); // its snapshot, no seq
  EXPECT_EQ(parser.counters().connections, 2U);
}

// ---- SEQ_ALL ------------------------------------------------------------------------------------

class BitfinexSequenceTest : public BitfinexParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_conf(registry_), 0U);
    recs_ = received(kP0);
    // A book update after all seven book channels are announced (the last on line 671).
    first_ = first_with(recs_, "\"symbol\":\"tSNGUSD\",\"prec\":\"P0\"");
    target_ = first_with(recs_, "[232955,[", first_ + 50); // an IOTETH book update
    for (std::size_t i = 0; i < target_; ++i)
      ASSERT_FALSE(is_error(parser_.parse(recs_[i].payload, 0, out_)));
    out_.clear();
  }
  // Book instruments named by Status events in the batch, and whether they all come first.
  std::set<std::uint32_t> stale_books(bool &statuses_first) const {
    std::set<std::uint32_t> ids;
    statuses_first = true;
    bool other_seen = false;
    for (const Event &e : out_) {
      if (e.type == EventType::Status) {
        EXPECT_EQ(e.status.status, BookStatus::Stale);
        EXPECT_EQ(e.status.reason, static_cast<std::uint8_t>(BookError::SequenceGap));
        ids.insert(e.instrument);
        statuses_first = statuses_first && !other_seen;
      } else {
        other_seen = true;
      }
    }
    return ids;
  }
  InstrumentRegistry registry_;
  BitfinexParser parser_{registry_};
  CaptureRecords recs_;
  EventBatch out_;
  std::size_t first_ = 0, target_ = 0;
};

TEST_F(BitfinexSequenceTest, ALostMessageMarksEveryBookOfTheConnectionStaleAheadOfTheNextOne) {
  // recs_[target_] is dropped: the next message reveals the jump.
  const std::uint64_t before = parser_.last_seq();
  ASSERT_EQ(parser_.parse(recs_[target_ + 1].payload, 0, out_), ParseStatus::Ok);
  bool first = false;
  EXPECT_EQ(stale_books(first).size(), 7U); // the seven P0 books, not tickers or trades
  EXPECT_TRUE(first);
  EXPECT_EQ(parser_.counters().seq_gaps, 1U);
  EXPECT_EQ(parser_.counters().seq_lost, 1U);
  EXPECT_EQ(parser_.last_seq(), before + 2);
  // The message's own events (a heartbeat has none) follow the statuses.
  if (recs_[target_ + 1].payload.find("\"hb\"") == std::string_view::npos) {
    EXPECT_NE(out_[out_.size() - 1].type, EventType::Status);
  }
  // From there on the numbers run on without another gap.
  for (std::size_t i = target_ + 2; i < recs_.size(); ++i) {
    out_.clear();
    ASSERT_FALSE(is_error(parser_.parse(recs_[i].payload, 0, out_)));
    for (const Event &e : out_)
      ASSERT_NE(e.type, EventType::Status);
  }
  EXPECT_EQ(parser_.counters().seq_gaps, 1U);
}

TEST_F(BitfinexSequenceTest, ARepeatedMessageIsDroppedAndCounted) {
  ASSERT_EQ(parser_.parse(recs_[target_].payload, 0, out_), ParseStatus::Ok);
  const std::size_t events = out_.size();
  const std::uint64_t seq = parser_.last_seq();
  EXPECT_EQ(parser_.parse(recs_[target_].payload, 0, out_), ParseStatus::Ignored);
  EXPECT_EQ(out_.size(), events);
  EXPECT_EQ(parser_.counters().seq_stale, 1U);
  EXPECT_EQ(parser_.last_seq(), seq);
  out_.clear();
  EXPECT_EQ(parser_.parse(recs_[target_ + 1].payload, 0, out_), ParseStatus::Ok);
  EXPECT_EQ(parser_.counters().seq_gaps, 0U);
}

TEST_F(BitfinexSequenceTest, SwappedMessagesAreAGapThenALateMessage) {
  ASSERT_EQ(parser_.parse(recs_[target_ + 1].payload, 0, out_), ParseStatus::Ok);
  bool first = false;
  EXPECT_EQ(stale_books(first).size(), 7U);
  out_.clear();
  EXPECT_EQ(parser_.parse(recs_[target_].payload, 0, out_), ParseStatus::Ignored);
  EXPECT_EQ(out_.size(), 0U);
  EXPECT_EQ(parser_.counters().seq_gaps, 1U);
  EXPECT_EQ(parser_.counters().seq_stale, 1U);
}

TEST_F(BitfinexSequenceTest, AMessageThatFailsToParseDoesNotConsumeItsNumber) {
  const std::uint64_t before = parser_.last_seq();
  const std::string_view msg = recs_[target_].payload;
  // The update cut in half: an error, nothing emitted, its number not taken.
  EXPECT_TRUE(
      is_error(test::parse_padded_copy(parser_, std::string(msg.substr(0, msg.size() / 2)), out_)));
  EXPECT_EQ(out_.size(), 0U);
  EXPECT_EQ(parser_.last_seq(), before);
  // So the next message shows the loss.
  ASSERT_EQ(parser_.parse(recs_[target_ + 1].payload, 0, out_), ParseStatus::Ok);
  bool first = false;
  EXPECT_EQ(stale_books(first).size(), 7U);
}

TEST_F(BitfinexSequenceTest, DataOnAChannelNeverAnnouncedIsAnErrorAndDoesNotConsumeItsNumber) {
  // The update's channel id with one digit changed: 232955 -> 232855, an id this connection
  // never announced.
  std::string changed(recs_[target_].payload);
  ASSERT_EQ(changed.substr(0, 8), "[232955,");
  changed[4] = '8';
  const std::uint64_t before = parser_.last_seq();
  EXPECT_EQ(test::parse_padded_copy(parser_, changed, out_), ParseStatus::UnknownInstrument);
  EXPECT_EQ(parser_.counters().unknown_channel, 1U);
  EXPECT_EQ(parser_.last_seq(), before);
  EXPECT_EQ(out_.size(), 0U);
}

// ---- malformed input ------------------------------------------------------------------------

class BitfinexMalformedTest : public BitfinexSequenceTest {
protected:
  // Real messages of every shape: events, book snapshots and updates, tickers, trades
  // snapshots, heartbeats, from the P0 capture (each parsed right after the one before it).
  std::vector<std::size_t> samples() const {
    std::vector<std::size_t> s;
    for (std::size_t i = 0; i < target_; i += 7)
      s.push_back(i);
    return s;
  }
  // One parser walks the capture; before each sample k it has parsed every message before k.
  // A corrupted copy of recs_[k] must be an error with nothing emitted and no state taken
  // from it (so the same parser stays positioned for the next corruption).
  BitfinexParser &at(std::size_t k) {
    if (k < walked_) { // restart
      walker_ = std::make_unique<BitfinexParser>(registry_);
      walked_ = 0;
    }
    for (; walked_ < k; ++walked_) {
      out_.clear();
      (void)walker_->parse(recs_[walked_].payload, 0, out_);
    }
    out_.clear();
    return *walker_;
  }
  void expect_rejected(std::size_t k, const std::string &corrupted, const char *what) {
    BitfinexParser &parser = at(k);
    EventBatch &out = out_;
    const std::uint64_t seq = parser.last_seq();
    const std::size_t channels = parser.channels();
    const bool seq_all = parser.seq_all();
    const ParseStatus st = test::parse_padded_copy(parser, corrupted, out);
    ASSERT_TRUE(is_error(st)) << "line " << recs_[k].line << " " << what << ": " << corrupted;
    ASSERT_EQ(out.size(), 0U);
    ASSERT_EQ(parser.last_seq(), seq);
    ASSERT_EQ(parser.channels(), channels);
    ASSERT_EQ(parser.seq_all(), seq_all);
  }
  std::unique_ptr<BitfinexParser> walker_ = std::make_unique<BitfinexParser>(registry_);
  std::size_t walked_ = 0;
};

TEST_F(BitfinexMalformedTest, RejectsTruncatedMessagesWithoutTakingAnythingFromThem) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = recs_[k].payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      expect_rejected(k, std::string(msg.substr(0, len)), "truncated");
      ++cases;
    }
  }
  EXPECT_GT(cases, 300U);
}

TEST_F(BitfinexMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = recs_[k].payload;
    std::size_t seen = 0;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]) || seen++ % 5 != 0)
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x'; // every 5th structural byte becomes a letter
      expect_rejected(k, mutated, "structural byte replaced");
      ++cases;
    }
  }
  EXPECT_GT(cases, 300U);
}

TEST_F(BitfinexMalformedTest, ReportsBadNumberWhenADigitOfAPriceOrAmountBecomesALetter) {
  std::size_t cases = 0;
  for (const std::size_t k : samples()) {
    const std::string_view msg = recs_[k].payload;
    // Book updates only: "[price,count,amount]" after the channel id; the last character of
    // the price and, separately, of the amount becomes a letter.
    if (msg.find("\"hb\"") != std::string_view::npos || msg.front() == '{')
      continue;
    const std::size_t open = msg.find('[', 1);
    const std::size_t close = msg.find(']', open);
    const std::string_view entry = msg.substr(open + 1, close - open - 1);
    if (entry.front() == '[' || std::count(entry.begin(), entry.end(), ',') != 2)
      continue; // a snapshot, ticker or trade list
    const std::size_t c1 = open + 1 + entry.find(',');
    const std::size_t c2 = msg.rfind(',', close);
    for (const auto &[pos, len] :
         {std::pair{c1 - 1, c1 - open - 1}, std::pair{close - 1, close - c2 - 1}}) {
      if (len < 2)
        continue; // a one-character token ("1") would no longer start like a number
      std::string mutated(msg);
      mutated[pos] = 'q';
      BitfinexParser &parser = at(k);
      EventBatch &out = out_;
      EXPECT_EQ(test::parse_padded_copy(parser, mutated, out), ParseStatus::BadNumber)
          << "line " << recs_[k].line << ": " << mutated;
      EXPECT_EQ(out.size(), 0U);
      ++cases;
    }
  }
  EXPECT_GT(cases, 5U);
}

TEST_F(BitfinexMalformedTest, RejectsCorruptedRawBookMessages) {
  const CaptureRecords raw = received(kRaw);
  InstrumentRegistry raw_registry;
  BitfinexParser raw_parser(raw_registry);
  out_.clear();
  ASSERT_EQ(raw_parser.parse(raw[0].payload, 0, out_), ParseStatus::Ignored);
  ASSERT_EQ(raw_parser.parse(raw[1].payload, 0, out_), ParseStatus::Ignored);
  std::size_t cases = 0;
  for (std::size_t k = 2; k < raw.size(); k += 4999) { // the snapshot and updates
    const std::string_view msg = raw[k].payload;
    std::vector<std::string> corrupted;
    for (const std::size_t len : test::truncation_lengths(msg.size()))
      corrupted.emplace_back(msg.substr(0, len)); // cut
    for (std::size_t pos = 0; pos < msg.size(); ++pos)
      if (test::is_structural(msg[pos])) {
        corrupted.emplace_back(msg);
        corrupted.back()[pos] = 'x'; // one structural byte replaced
      }
    for (const std::string &c : corrupted) {
      // One parser after the capture's greeting and subscription: a rejected message takes
      // nothing, so the next corruption meets the same state.
      ASSERT_TRUE(is_error(test::parse_padded_copy(raw_parser, c, out_)))
          << "element " << k << ": " << c;
      ASSERT_EQ(out_.size(), 0U);
      ASSERT_EQ(raw_parser.channels(), 1U);
      ++cases;
    }
  }
  EXPECT_GT(cases, 100U);
}

// ---- metadata
// ------------------------------------------------------------------------------------

TEST_F(BitfinexParserTest, LoadsBothPairListsUnderCanonicalNames) {
  InstrumentRegistry registry;
  std::map<std::string, std::vector<std::string>> lists; // url -> entries (DOM)
  for (const Record &r : read_capture(kConf)) {
    if (r.kind != RecordKind::Http)
      continue;
    simdjson::dom::parser dom;
    simdjson::dom::element root;
    ASSERT_EQ(dom.parse(r.payload.data(), r.payload.size(), false).get(root), simdjson::SUCCESS);
    for (simdjson::dom::element e : test::dom_arr(test::dom_arr(root).at(0)))
      lists[std::string(r.url)].emplace_back(test::dom_str(e));
    const std::optional<std::size_t> n = load_metadata(Venue::Bitfinex, r.url, r.payload, registry);
    if (r.url.find("pub:list:currency") != std::string_view::npos) {
      EXPECT_FALSE(n.has_value()); // currencies are not instruments
    } else {
      ASSERT_TRUE(n.has_value()) << r.url;
      EXPECT_EQ(*n, lists[std::string(r.url)].size()) << r.url; // every pair splits
    }
  }
  const auto &spot = lists.at("https://api-pub.bitfinex.com/v2/conf/pub:list:pair:exchange");
  const auto &perps = lists.at("https://api-pub.bitfinex.com/v2/conf/pub:list:pair:future");
  EXPECT_EQ(registry.size(), spot.size() + perps.size());
  EXPECT_TRUE(registry.has_metadata(Venue::Bitfinex));
  for (const std::string &pair : spot) {
    const Instrument *inst = registry.find(Venue::Bitfinex, "t" + pair);
    ASSERT_NE(inst, nullptr) << pair;
    EXPECT_EQ(inst->kind, InstrumentKind::Spot);
    EXPECT_EQ(inst->contract, ContractType::None);
    EXPECT_TRUE(inst->from_metadata);
    // BASE-QUOTE from BASE:QUOTE or 3 + 3 letters (aliases aside, checked below).
    const std::size_t colon = pair.find(':');
    const std::string base = colon == std::string::npos ? pair.substr(0, 3) : pair.substr(0, colon);
    const std::string quote = colon == std::string::npos ? pair.substr(3) : pair.substr(colon + 1);
    EXPECT_EQ(inst->canonical, std::string(bitfinex_common_currency(base)) + "-" +
                                   std::string(bitfinex_common_currency(quote)));
    // No tick or lot in the list: one unit of the 8th decimal (Bitfinex's finest).
    EXPECT_EQ(inst->price_decimals, 8);
    EXPECT_EQ(inst->qty_decimals, 8);
    EXPECT_EQ(inst->tick, 1);
    EXPECT_EQ(inst->lot, 1);
    EXPECT_EQ(inst->min_qty, 0);
  }
  for (const std::string &pair : perps) {
    const Instrument *inst = registry.find(Venue::Bitfinex, "t" + pair);
    ASSERT_NE(inst, nullptr) << pair;
    EXPECT_EQ(inst->kind, InstrumentKind::Perpetual);
    EXPECT_EQ(inst->contract, ContractType::Linear);
    EXPECT_EQ(inst->canonical.substr(inst->canonical.size() - 5), "-PERP");
    EXPECT_EQ(inst->canonical.find("F0"), std::string::npos) << inst->canonical;
  }
  // Bitfinex's codes that its own currency map spells otherwise (UST is Tether USDt).
  const std::pair<const char *, const char *> named[] = {
      {"tBTCUSD", "BTC-USD"},           {"tBTCUST", "BTC-USDT"},
      {"tAAVE:UST", "AAVE-USDT"},       {"tBTCF0:USTF0", "BTC-USDT-PERP"},
      {"tETHF0:BTCF0", "ETH-BTC-PERP"}, {"tIOTETH", "IOTA-ETH"},
      {"tDSHBTC", "DASH-BTC"}};
  for (const auto &[native, canonical] : named) {
    const Instrument *inst = registry.find(Venue::Bitfinex, native);
    ASSERT_NE(inst, nullptr) << native;
    EXPECT_EQ(inst->canonical, canonical);
  }
}

// ---- allocation
// ------------------------------------------------------------------------------------

// With the pair lists loaded nothing allocates per message, not even a "subscribed" event.
TEST_F(BitfinexParserTest, AllocatesNothingPerMessage) {
  for (const char *rel : {kP0, kRaw}) {
    InstrumentRegistry registry;
    ASSERT_GT(load_conf(registry), 0U);
    BitfinexParser parser(registry);
    EventBatch out;
    const CaptureRecords recs = received(rel);
    std::size_t messages = 0;
    const std::size_t before = g_allocations.load();
    for (const Record &r : recs) {
      out.clear();
      ASSERT_FALSE(is_error(parser.parse(r.payload, 0, out))) << rel << " " << r.line;
      ++messages;
    }
    EXPECT_EQ(g_allocations.load() - before, 0U) << rel;
    EXPECT_GT(messages, 1000U);
  }
  // The counter works: registering a symbol on first sight (no metadata) does allocate.
  InstrumentRegistry registry;
  BitfinexParser parser(registry);
  EventBatch out;
  const CaptureRecords raw = received(kRaw);
  const std::size_t before = g_allocations.load();
  (void)parser.parse(raw[1].payload, 0, out); // "subscribed" tBTCUSD
  EXPECT_GT(g_allocations.load() - before, 0U);
}

} // namespace
} // namespace fh::venues
