// labels: unit replay
// DeribitParser over the real Deribit captures in data/deribit/cryptofeed (PROVENANCE.md,
// "Deribit"). Expected values come from the venue text itself, read independently here: the
// message shape with simdjson's DOM API, the numbers (bare JSON numbers, which the DOM would
// turn into doubles) as text cut out of the message by string surgery and converted with the
// test's own decimal reader; counts from PROVENANCE.md or counted in the file by the test.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/deribit.hpp"
#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/malformed_inputs.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::venues {
namespace {

using test::CaptureRecords;
using test::dom_str;
using test::g_allocations;
using test::is_received;
using test::read_capture;
using test::Record;
using test::RecordKind;
using test::ref_mantissa;
using test::wire_decimals;

constexpr const char *k0722 = "deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz";
constexpr const char *k0417 = "deribit/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz";
constexpr const char *kMeta = "deribit/cryptofeed/instruments_2021-07-22_http.txt.gz";

// ---- independent oracles ---------------------------------------------------------------------
struct TextLevel {
  std::string action, price, amount;
};

// The [action, price, amount] entries of `"side":[...]` in the message text, in wire order.
std::vector<TextLevel> text_levels(std::string_view msg, const std::string &side) {
  const std::string key = "\"" + side + "\":[";
  const std::size_t open = msg.find(key);
  EXPECT_NE(open, std::string_view::npos) << side;
  std::size_t end = open + key.size();
  for (int depth = 1; depth > 0 && end < msg.size(); ++end)
    depth += msg[end] == '[' ? 1 : msg[end] == ']' ? -1 : 0;
  // Each entry is `["` action `",` price `,` amount `]` (Deribit writes no spaces).
  const std::string_view array = msg.substr(open + key.size(), end - open - key.size());
  std::vector<TextLevel> out;
  for (std::size_t p = array.find("[\""); p != std::string_view::npos;
       p = array.find("[\"", p + 1)) {
    const std::size_t action_end = array.find("\",", p + 2);
    const std::size_t price_end = array.find(',', action_end + 2);
    const std::size_t amount_end = array.find(']', price_end + 1);
    out.push_back({std::string(array.substr(p + 2, action_end - p - 2)),
                   std::string(array.substr(action_end + 2, price_end - action_end - 2)),
                   std::string(array.substr(price_end + 1, amount_end - price_end - 1))});
  }
  return out;
}

// The text of the bare number (or null) after `"key":`, first occurrence.
std::string text_number(std::string_view msg, const std::string &key) {
  const std::string needle = "\"" + key + "\":";
  const std::size_t k = msg.find(needle);
  EXPECT_NE(k, std::string_view::npos) << key;
  if (k == std::string_view::npos)
    return {};
  const std::size_t begin = k + needle.size();
  return std::string(msg.substr(begin, msg.find_first_of(",}]", begin) - begin));
}

std::int64_t ms_to_ns(std::uint64_t ms) {
  return static_cast<std::int64_t>(ms) * 1000000;
}

std::uint64_t dom_u64(simdjson::dom::element e, const char *key) {
  std::uint64_t v = 0;
  EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
  return v;
}

// ---- fixture ---------------------------------------------------------------------------------
class DeribitParserTest : public ::testing::Test {
protected:
  static std::size_t load_metadata(InstrumentRegistry &registry) {
    std::size_t n = 0;
    for (const Record &l : read_capture(kMeta))
      if (l.kind == RecordKind::Http)
        n += load_deribit_instruments(l.payload, registry);
    return n;
  }

  struct Counts {
    std::size_t received = 0, book = 0, snapshots = 0, changes = 0, levels = 0;
    std::size_t tickers = 0, trades = 0, ignored = 0, errors = 0;
  };

  // Compares the events of one received message with the independent view of the same text.
  static ::testing::AssertionResult check_message(const Record &line, ParseStatus st,
                                                  const EventBatch &out,
                                                  const InstrumentRegistry &registry,
                                                  std::int64_t recv_ts, Counts &counts) {
    simdjson::dom::parser dom;
    simdjson::dom::element msg;
    if (dom.parse(line.payload.data(), line.payload.size(), false).get(msg))
      return ::testing::AssertionFailure() << "DOM cannot parse line " << line.line;
    auto fail = [&]() { return ::testing::AssertionFailure() << "line " << line.line << ": "; };
    if (!msg["id"].error()) { // the subscribe response
      ++counts.ignored;
      if (st != ParseStatus::Ignored || out.size() != 0)
        return fail() << "response not ignored";
      return ::testing::AssertionSuccess();
    }
    if (dom_str(msg["method"]) != "subscription")
      return fail() << "unexpected message";
    const std::string_view channel = dom_str(msg["params"]["channel"]);
    simdjson::dom::element data;
    if (msg["params"]["data"].get(data))
      return fail() << "no params.data";
    const std::string_view prefix = channel.substr(0, channel.find('.'));
    if (prefix == "trades") {
      ++counts.trades; // none in our captures; checked against the file's own count
      return st == ParseStatus::Ok ? ::testing::AssertionSuccess() : fail() << to_cstring(st);
    }
    const std::string_view name = dom_str(data["instrument_name"]);
    const Instrument *inst = registry.find(Venue::Deribit, name);
    if (inst == nullptr)
      return fail() << "instrument " << name << " not registered";
    if (st != ParseStatus::Ok)
      return fail() << "status " << to_cstring(st);
    for (const Event &e : out)
      if (e.instrument != inst->id || e.venue != Venue::Deribit || e.recv_ts_ns != recv_ts)
        return fail() << "instrument/venue/recv_ts";
    const std::int64_t ts = ms_to_ns(dom_u64(data, "timestamp"));
    std::size_t i = 0;
    if (prefix == "book") {
      ++counts.book;
      const bool snapshot = dom_str(data["type"]) == "snapshot";
      (snapshot ? counts.snapshots : counts.changes)++;
      const std::vector<TextLevel> bids = text_levels(line.payload, "bids");
      const std::vector<TextLevel> asks = text_levels(line.payload, "asks");
      if (bids.size() != test::dom_arr(data["bids"]).size() ||
          asks.size() != test::dom_arr(data["asks"]).size())
        return fail() << "text oracle disagrees with the DOM on level counts";
      const std::size_t n = bids.size() + asks.size();
      if (out.size() != n + 2)
        return fail() << "event count " << out.size() << " vs " << n + 2;
      const Event &b = out[i++];
      const std::uint64_t change_id = dom_u64(data, "change_id");
      const std::uint8_t flags =
          snapshot ? (kFlagSnapshot | kFlagHasSeq) : (kFlagHasSeq | kFlagHasPrevSeq);
      if (b.type != EventType::BookBegin || b.begin.levels != n || b.exch_ts_ns != ts ||
          b.flags != flags || b.begin.first_seq != change_id || b.begin.last_seq != change_id ||
          b.begin.prev_seq != (snapshot ? 0 : dom_u64(data, "prev_change_id")))
        return fail() << "BookBegin";
      for (const auto &[levels, side] :
           {std::pair{bids, book::Side::Bid}, std::pair{asks, book::Side::Ask}}) {
        for (const TextLevel &lv : levels) {
          const Event &e = out[i++];
          const std::optional<std::int64_t> qty = lv.action == "delete"
                                                      ? std::optional<std::int64_t>(0)
                                                      : ref_mantissa(lv.amount, inst->qty_decimals);
          if (e.type != EventType::BookLevel || e.side != side ||
              ref_mantissa(lv.price, inst->price_decimals) != e.level.price || qty != e.level.qty ||
              wire_decimals(lv.price) != e.level.price_text_dp ||
              wire_decimals(lv.amount) != e.level.qty_text_dp || e.level.orders != 0)
            return fail() << "level " << lv.action << " " << lv.price << " " << lv.amount;
          ++counts.levels;
        }
      }
      const Event &end = out[i++];
      if (end.type != EventType::BookEnd || end.flags != 0 || end.exch_ts_ns != ts)
        return fail() << "BookEnd";
    } else if (prefix == "ticker") {
      ++counts.tickers;
      if (out.size() != 1)
        return fail() << "one Bbo expected";
      const Event &e = out[i++];
      auto num = [&](const char *key, std::uint8_t dp) {
        return ref_mantissa(text_number(line.payload, key), dp);
      };
      if (e.type != EventType::Bbo ||
          num("best_bid_price", inst->price_decimals) != e.bbo.bid_price ||
          num("best_bid_amount", inst->qty_decimals) != e.bbo.bid_qty ||
          num("best_ask_price", inst->price_decimals) != e.bbo.ask_price ||
          num("best_ask_amount", inst->qty_decimals) != e.bbo.ask_qty || e.bbo.update_id != 0 ||
          e.exch_ts_ns != ts)
        return fail() << "Bbo";
    } else {
      return fail() << "unexpected channel " << channel;
    }
    return ::testing::AssertionSuccess();
  }

  static Counts replay(const char *rel, InstrumentRegistry &registry) {
    Counts counts;
    DeribitParser parser(registry);
    EventBatch out;
    std::int64_t recv_ts = 1;
    for (const Record &l : read_capture(rel)) {
      if (!is_received(l))
        continue;
      ++counts.received;
      out.clear();
      const ParseStatus st = parser.parse(l.payload, ++recv_ts, out);
      counts.errors += is_error(st) ? 1U : 0U;
      const auto ok = check_message(l, st, out, registry, recv_ts, counts);
      EXPECT_TRUE(ok) << rel;
      if (!ok)
        break;
    }
    return counts;
  }

  // Messages of a channel type, counted in the file with the DOM (not with the parser).
  static std::size_t count_channel(const char *rel, std::string_view prefix) {
    std::size_t n = 0;
    simdjson::dom::parser dom;
    for (const Record &l : read_capture(rel, is_received)) {
      simdjson::dom::element msg;
      EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      std::string_view channel;
      if (!msg["params"]["channel"].get_string().get(channel) &&
          channel.substr(0, channel.find('.')) == prefix)
        ++n;
    }
    return n;
  }

  static CaptureRecords book_messages(const char *rel) {
    return read_capture(rel, [](const Record &l) {
      return is_received(l) && l.payload.find("\"channel\":\"book.") != std::string_view::npos;
    });
  }
};

TEST_F(DeribitParserTest, ParsesEveryMessageOf20210722LikeTheTextWithMetadata) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  const Counts c = replay(k0722, registry);
  // PROVENANCE.md: 136 messages, 10 snapshots, 36 changes.
  EXPECT_EQ(c.received, 136U);
  EXPECT_EQ(c.snapshots, 10U);
  EXPECT_EQ(c.changes, 36U);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.tickers, count_channel(k0722, "ticker"));
  EXPECT_EQ(c.trades, count_channel(k0722, "trades"));
  EXPECT_EQ(c.book + c.tickers + c.trades + c.ignored, c.received);
  EXPECT_EQ(c.ignored, 1U); // the public/subscribe response
  // `zcat ... | grep -o '\["\(new\|change\|delete\)"' | wc -l` on the file: 149 entries.
  EXPECT_EQ(c.levels, 149U);
}

// The April capture's options had expired by July: without metadata every instrument is
// registered on first sight at the default decimals, which hold every Deribit number exactly.
TEST_F(DeribitParserTest, ParsesEveryMessageOf20210417LikeTheTextWithoutMetadata) {
  InstrumentRegistry registry;
  const Counts c = replay(k0417, registry);
  // PROVENANCE.md: 149 messages, 10 snapshots, 46 changes.
  EXPECT_EQ(c.received, 149U);
  EXPECT_EQ(c.snapshots, 10U);
  EXPECT_EQ(c.changes, 46U);
  EXPECT_EQ(c.errors, 0U);
  EXPECT_EQ(c.tickers, count_channel(k0417, "ticker"));
  EXPECT_EQ(c.trades, count_channel(k0417, "trades"));
  EXPECT_EQ(c.book + c.tickers + c.trades + c.ignored, c.received);
  EXPECT_EQ(registry.size(), 10U); // the 10 subscribed options
  for (std::uint32_t id = 0; id < registry.size(); ++id) {
    EXPECT_FALSE(registry.at(id).from_metadata);
    EXPECT_EQ(registry.at(id).kind, InstrumentKind::Option) << registry.at(id).native;
  }
}

// The subscribed instruments resolve to the metadata's entries, and the names assumed without
// metadata (from the shape of the name) are the same.
TEST_F(DeribitParserTest, InstrumentsSeenWithoutMetadataGetTheMetadataNames) {
  InstrumentRegistry guessed;
  replay(k0722, guessed);
  InstrumentRegistry known;
  ASSERT_GT(load_metadata(known), 0U);
  ASSERT_EQ(guessed.size(), 10U);
  for (std::uint32_t id = 0; id < guessed.size(); ++id) {
    const Instrument &g = guessed.at(id);
    const Instrument *k = known.find(Venue::Deribit, g.native);
    ASSERT_NE(k, nullptr) << g.native;
    EXPECT_EQ(g.canonical, k->canonical);
    EXPECT_EQ(g.kind, k->kind);
    EXPECT_EQ(g.contract, k->contract);
    EXPECT_EQ(g.expiry, k->expiry);
    EXPECT_EQ(g.strike, k->strike);
    EXPECT_EQ(g.option_right, k->option_right);
  }
}

// JSON objects are unordered: "data" moved before "channel" (cut and re-inserted, no value
// changed) must give the same events (the parser reads the frame a second time).
TEST_F(DeribitParserTest, ParsesTheSameEventsWhenDataPrecedesChannel) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  DeribitParser parser(registry);
  EventBatch expected;
  EventBatch actual;
  std::size_t n = 0;
  for (const Record &l : read_capture(k0722, is_received)) {
    const std::string_view msg = l.payload;
    const std::size_t channel_pos = msg.find("\"channel\":");
    const std::size_t data_pos = msg.find(",\"data\":");
    if (channel_pos == std::string_view::npos)
      continue;
    ASSERT_NE(data_pos, std::string_view::npos);
    ASSERT_EQ(msg.substr(msg.size() - 2), "}}");
    const std::string_view channel_member = msg.substr(channel_pos, data_pos - channel_pos);
    const std::string_view data_member = msg.substr(data_pos + 1, msg.size() - 2 - data_pos - 1);
    std::string reordered = std::string(msg.substr(0, channel_pos)) + std::string(data_member) +
                            "," + std::string(channel_member) + "}}";
    ASSERT_EQ(reordered.size(), msg.size());
    const std::size_t size = reordered.size();
    reordered.append(simdjson::SIMDJSON_PADDING, '\0');
    expected.clear();
    actual.clear();
    ASSERT_EQ(parser.parse(msg, 5, expected), ParseStatus::Ok) << "line " << l.line;
    ASSERT_EQ(parser.parse(std::string_view(reordered.data(), size), 5, actual), ParseStatus::Ok)
        << reordered.substr(0, 160);
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
      ASSERT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(Event)), 0) << "event " << i;
    ++n;
  }
  EXPECT_EQ(n, 135U); // every notification of the file
}

// With metadata, each message's numbers fit the instrument's scale (tick_size decimals for
// prices, min_trade_amount decimals for amounts): a rule PROVENANCE's data must satisfy.
TEST_F(DeribitParserTest, EveryBookNumberFitsTheMetadataScale) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  std::size_t levels = 0;
  simdjson::dom::parser dom;
  for (const Record &l : book_messages(k0722)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    const Instrument *inst =
        registry.find(Venue::Deribit, dom_str(msg["params"]["data"]["instrument_name"]));
    ASSERT_NE(inst, nullptr);
    for (const char *side : {"bids", "asks"})
      for (const TextLevel &lv : text_levels(l.payload, side)) {
        ASSERT_TRUE(ref_mantissa(lv.price, inst->price_decimals)) << lv.price;
        ASSERT_TRUE(ref_mantissa(lv.amount, inst->qty_decimals)) << lv.amount;
        ++levels;
      }
  }
  EXPECT_EQ(levels, 149U); // every entry of the file (see above)
}

// Malformed input made mechanically from real messages (book snapshots, changes, tickers):
// cut at several offsets, a structural byte replaced by a letter, a digit of a level replaced
// by a letter. The batch must be left exactly as it was.
class DeribitMalformedTest : public DeribitParserTest {
protected:
  void SetUp() override {
    ASSERT_GT(load_metadata(registry_), 0U);
    messages_ = read_capture(k0722, [](const Record &l) {
      return is_received(l) && l.payload.find("\"channel\":") != std::string_view::npos;
    });
    ASSERT_EQ(messages_.size(), 135U);
    ASSERT_EQ(parser_.parse(messages_[0].payload, 0, out_), ParseStatus::Ok);
    before_ = out_.size();
  }
  ParseStatus parse_copy(std::string text) {
    return test::parse_padded_copy(parser_, std::move(text), out_);
  }
  InstrumentRegistry registry_;
  DeribitParser parser_{registry_};
  EventBatch out_;
  CaptureRecords messages_;
  std::size_t before_ = 0;
};

TEST_F(DeribitMalformedTest, RejectsEveryTruncationOfEveryMessage) {
  std::size_t cases = 0;
  for (const Record &m : messages_) {
    for (const std::size_t len : test::truncation_lengths(m.payload.size())) {
      const ParseStatus st = parse_copy(std::string(m.payload.substr(0, len)));
      ASSERT_TRUE(is_error(st)) << "line " << m.line << " cut at " << len;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 135U * 14U);
}

TEST_F(DeribitMalformedTest, RejectsMessagesWithAStructuralByteReplaced) {
  std::size_t cases = 0;
  for (std::size_t k = 0; k < messages_.size(); k += 3) {
    const std::string_view msg = messages_[k].payload;
    for (std::size_t pos = 0; pos < msg.size(); ++pos) {
      if (!test::is_structural(msg[pos]))
        continue;
      std::string mutated(msg);
      mutated[pos] = 'x';
      const ParseStatus st = parse_copy(mutated);
      ASSERT_TRUE(is_error(st)) << "line " << messages_[k].line << " byte " << pos << " '"
                                << msg[pos] << "' -> " << to_cstring(st);
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_GT(cases, 3000U);
}

TEST_F(DeribitMalformedTest, ReportsBadNumberWhenADigitOfALevelBecomesALetter) {
  std::size_t cases = 0;
  for (const Record &m : book_messages(k0722)) {
    const std::string_view msg = m.payload;
    // Entries look like ["new",0.0015,4714.0]: the last digit of the price and, separately,
    // of the amount becomes a letter.
    for (std::size_t start = msg.find("[\""); start != std::string_view::npos;
         start = msg.find("[\"", start + 1)) {
      const std::size_t px_begin = msg.find("\",", start + 2) + 2;
      const std::size_t px_end = msg.find(',', px_begin);
      const std::size_t sz_end = msg.find(']', px_end);
      for (const std::size_t pos : {px_end - 1, sz_end - 1}) {
        std::string mutated(msg);
        mutated[pos] = 'a';
        ASSERT_EQ(parse_copy(mutated), ParseStatus::BadNumber)
            << "line " << m.line << " byte " << pos;
        ASSERT_EQ(out_.size(), before_);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 2U * 149U); // price and amount of every entry of the file
}

TEST_F(DeribitMalformedTest, ReportsAnErrorWhenAChangeIdLosesADigit) {
  std::size_t cases = 0;
  for (const Record &m : book_messages(k0722)) {
    for (const char *key : {"\"change_id\":", "\"prev_change_id\":", "\"timestamp\":"}) {
      std::string mutated(m.payload);
      const std::size_t pos = mutated.find(key);
      if (pos == std::string::npos)
        continue; // snapshots have no prev_change_id
      mutated[pos + std::strlen(key)] = 'z';
      ASSERT_TRUE(is_error(parse_copy(mutated))) << "line " << m.line << " " << key;
      ASSERT_EQ(out_.size(), before_);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 46U * 2U + 36U);
}

// With metadata loaded nothing allocates, not even the first message of an instrument. With
// defaults, only the first sight of an instrument does (the registry adds it).
TEST_F(DeribitParserTest, AllocatesNothingPerMessageAfterFirstSight) {
  for (const char *file : {k0722, k0417}) {
    for (const bool metadata : {true, false}) {
      InstrumentRegistry registry;
      if (metadata) {
        ASSERT_GT(load_metadata(registry), 0U);
      }
      DeribitParser parser(registry);
      EventBatch out;
      std::size_t messages = 0;
      std::size_t first_sight_allocations = 0;
      for (const Record &l : read_capture(file, is_received)) {
        const std::size_t known = registry.size();
        out.clear();
        const std::size_t before = g_allocations.load();
        const ParseStatus st = parser.parse(l.payload, 0, out);
        const std::size_t allocations = g_allocations.load() - before;
        if (registry.size() == known) {
          ASSERT_EQ(allocations, 0U) << file << " line " << l.line << " " << to_cstring(st);
        } else {
          first_sight_allocations += allocations;
        }
        ++messages;
      }
      EXPECT_GT(messages, 100U);
      if (!metadata) {
        EXPECT_GT(first_sight_allocations, 0U); // the counter works
      }
    }
  }
}

// Expired instruments are not in the July metadata: their messages are UnknownInstrument
// (counted, no events), never parsed at a guessed scale.
TEST_F(DeribitParserTest, ReportsUnknownInstrumentForOptionsMissingFromLoadedMetadata) {
  InstrumentRegistry registry;
  ASSERT_GT(load_metadata(registry), 0U);
  DeribitParser parser(registry);
  EventBatch out;
  std::size_t unknown = 0;
  std::size_t known = 0;
  simdjson::dom::parser dom;
  for (const Record &l : read_capture(k0417, is_received)) {
    simdjson::dom::element msg;
    ASSERT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
    std::string_view name;
    if (msg["params"]["data"]["instrument_name"].get_string().get(name))
      continue;
    out.clear();
    const ParseStatus st = parser.parse(l.payload, 0, out);
    if (registry.find(Venue::Deribit, name) != nullptr) {
      ASSERT_EQ(st, ParseStatus::Ok) << name;
      ++known;
    } else {
      ASSERT_EQ(st, ParseStatus::UnknownInstrument) << name;
      ASSERT_EQ(out.size(), 0U);
      ++unknown;
    }
  }
  EXPECT_GT(unknown, 0U);
  EXPECT_GT(known, 0U);
}

} // namespace
} // namespace fh::venues
