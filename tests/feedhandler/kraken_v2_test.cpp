// labels: unit replay
// KrakenV2Parser (WS v2) and the v2 pieces it is built from, over the real Kraken captures in
// data/kraken/cryptofeed (PROVENANCE.md, "Kraken").
//
// There is NO recording of Kraken WebSocket v2 traffic in the corpus: every Kraken capture is
// v1 (2021-04-17). Venue messages may not be written by hand, so v2 message parsing itself
// (book/trade/ticker objects, subscribe acks and the depth they carry) is not exercised here
// against real v2 traffic. What real data can check, and this file checks:
//  - the v2 checksum path: v2 writes prices and quantities as JSON numbers in their shortest
//    form and Kraken checksums them formatted at the pair's precision. Each recorded v1 level is
//    turned mechanically into that shortest form (trailing fractional zeros dropped), read by
//    kraken_v2_level at the pair's precision, and the rebuilt books must give the venue's own
//    `c` on every recorded update (4,269, PROVENANCE.md);
//  - RFC 3339 times: recorded v1 times rewritten as RFC 3339 with libc's gmtime_r must convert
//    to the same nanoseconds as the original seconds text;
//  - robustness: every recorded v1 frame, as is and mechanically corrupted (cut short, bytes
//    flipped or replaced), handed straight to the v2 entry point never yields events and never
//    reports Ok; none of them is taken for v2 by the protocol check of the Kraken entry point.
// The v1 path through the shared entry point is covered by kraken_parser_test and the golden
// replay (4,269 checksums), unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kraken.hpp"
#include "feedhandler/venues/kraken_v2.hpp"
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
using test::wire_decimals;

// ---- independent helpers ---------------------------------------------------------------------
// The shortest JSON number for a decimal text: trailing fractional zeros and a bare '.' dropped
// ("354.80000000" -> "354.8", "0.00000000" -> "0"). This is how v2 writes what v1 quoted.
std::string json_number_form(std::string_view text) {
  std::string s(text);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

// Kraken v1 times: "1618678133.365913" seconds -> ns, by string surgery.
std::int64_t seconds_text_to_ns(std::string_view s) {
  const std::size_t dot = s.find('.');
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  frac.resize(9, '0');
  return std::stoll(std::string(s.substr(0, dot))) * 1000000000LL + std::stoll(frac);
}

// The same instant as RFC 3339 UTC, via libc: "2021-04-17T16:48:53" + "." + fraction + "Z".
std::string rfc3339_of(std::string_view seconds_text, std::string_view fraction) {
  const std::size_t dot = seconds_text.find('.');
  const std::time_t sec = std::stoll(std::string(seconds_text.substr(0, dot)));
  std::tm tm{};
  EXPECT_NE(gmtime_r(&sec, &tm), nullptr);
  char buf[32];
  EXPECT_EQ(std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm), 19U);
  std::string out(buf);
  if (!fraction.empty())
    out += "." + std::string(fraction);
  return out + "Z";
}

// ---- fixture ---------------------------------------------------------------------------------
class KrakenV2Test : public ::testing::Test {
protected:
  static constexpr const char *kBook = "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz";
  static constexpr const char *kTrade = "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz";
  static constexpr const char *kTicker = "kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz";
  static constexpr const char *kMeta = "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz";

  static bool is_data_message(const Record &r) {
    return is_received(r) && !r.payload.empty() && r.payload.front() == '[';
  }
  static bool is_event_object(const Record &r) {
    return is_received(r) && !r.payload.empty() && r.payload.front() == '{';
  }

  struct Precision {
    int price = -1;
    int qty = -1;
  };

  // The decimals every recorded v1 book level of each pair is written with (the test fails if
  // a pair mixes precisions: then no single precision could rebuild its text).
  static std::map<std::string, Precision> wire_precision() {
    std::map<std::string, Precision> by_pair;
    simdjson::dom::parser dom;
    for (const Record &l : read_capture(kBook, is_data_message)) {
      simdjson::dom::element msg;
      EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      const simdjson::dom::array a = dom_arr(msg);
      Precision &p = by_pair[std::string(dom_str(a.at(a.size() - 1)))];
      for (std::size_t k = 1; k + 2 < a.size(); ++k) {
        simdjson::dom::object dict;
        EXPECT_EQ(a.at(k).get_object().get(dict), simdjson::SUCCESS);
        for (const auto [key, value] : dict) {
          if (key == "c")
            continue;
          for (const simdjson::dom::element lv : dom_arr(value)) {
            const int pd = wire_decimals(dom_str(dom_arr(lv).at(0)));
            const int qd = wire_decimals(dom_str(dom_arr(lv).at(1)));
            EXPECT_TRUE(p.price < 0 || p.price == pd) << l.line;
            EXPECT_TRUE(p.qty < 0 || p.qty == qd) << l.line;
            p.price = pd;
            p.qty = qd;
          }
        }
      }
    }
    return by_pair;
  }

  static void add_pair(InstrumentRegistry &registry, const std::string &pair, int price_dp,
                       int qty_dp) {
    Instrument inst;
    inst.venue = Venue::Kraken;
    inst.native = pair;
    inst.canonical = pair;
    inst.price_decimals = static_cast<std::uint8_t>(price_dp);
    inst.qty_decimals = static_cast<std::uint8_t>(qty_dp);
    inst.from_metadata = true;
    ASSERT_NE(registry.add(std::move(inst)), kNoInstrument);
  }

  // Every recorded v1 time: trades and book levels, as the venue wrote them.
  static std::vector<std::string> recorded_times() {
    std::vector<std::string> times;
    simdjson::dom::parser dom;
    for (const char *file : {kBook, kTrade}) {
      for (const Record &l : read_capture(file, is_data_message)) {
        simdjson::dom::element msg;
        EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
        const simdjson::dom::array a = dom_arr(msg);
        for (std::size_t k = 1; k + 2 < a.size(); ++k) {
          if (dom_str(a.at(a.size() - 2)) == "trade") {
            for (const simdjson::dom::element t : dom_arr(a.at(k)))
              times.emplace_back(dom_str(dom_arr(t).at(2)));
            continue;
          }
          simdjson::dom::object dict;
          EXPECT_EQ(a.at(k).get_object().get(dict), simdjson::SUCCESS);
          for (const auto [key, value] : dict)
            if (key != "c")
              for (const simdjson::dom::element lv : dom_arr(value))
                times.emplace_back(dom_str(dom_arr(lv).at(2)));
        }
      }
    }
    return times;
  }

  struct Rebuilt {
    std::size_t messages = 0;    // book messages of the registered pairs
    std::size_t checksummed = 0; // of which carry the venue's `c`
    std::size_t levels = 0;
    std::size_t reformatted = 0; // levels whose v2 number form is shorter than the v1 text
    std::uint64_t checksum_ok = 0;
    std::uint64_t checksum_fail = 0;
  };

  // Rebuilds the recorded books of the pairs in `registry` from levels read the v2 way
  // (kraken_v2_level over each level's JSON number form), through the real BookBuilder, with
  // the depth of the v1 channel name and the venue's `c` as the BookEnd checksum.
  static Rebuilt rebuild_with_v2_levels(const InstrumentRegistry &registry) {
    Rebuilt r;
    BookBuilder builder(registry);
    simdjson::dom::parser dom;
    for (const Record &l : read_capture(kBook, is_data_message)) {
      simdjson::dom::element msg;
      EXPECT_EQ(dom.parse(l.payload.data(), l.payload.size(), false).get(msg), simdjson::SUCCESS);
      const simdjson::dom::array a = dom_arr(msg);
      const std::size_t n = a.size();
      const Instrument *inst = registry.find(Venue::Kraken, dom_str(a.at(n - 1)));
      if (inst == nullptr)
        continue;
      ++r.messages;
      const std::string_view channel = dom_str(a.at(n - 2));
      EXPECT_EQ(channel.substr(0, 5), "book-");
      std::vector<Event> levels;
      bool snapshot = false;
      bool has_c = false;
      std::int64_t c = 0;
      for (std::size_t k = 1; k + 2 < n; ++k) {
        simdjson::dom::object dict;
        EXPECT_EQ(a.at(k).get_object().get(dict), simdjson::SUCCESS);
        for (const auto [key, value] : dict) {
          if (key == "c") {
            has_c = true;
            c = std::stoll(std::string(dom_str(value)));
            continue;
          }
          snapshot |= key == "as" || key == "bs";
          const book::Side side = key[0] == 'a' ? book::Side::Ask : book::Side::Bid;
          for (const simdjson::dom::element lv : dom_arr(value)) {
            const std::string_view px = dom_str(dom_arr(lv).at(0));
            const std::string_view sz = dom_str(dom_arr(lv).at(1));
            const std::string px_number = json_number_form(px);
            const std::string sz_number = json_number_form(sz);
            Event e = make_event(EventType::BookLevel, Venue::Kraken, inst->id, 0);
            e.side = side;
            EXPECT_TRUE(kraken_v2_level(px_number, sz_number, *inst, e.level))
                << l.line << " " << px << " " << sz;
            EXPECT_EQ(e.level.price_text_dp, inst->price_decimals);
            EXPECT_EQ(e.level.qty_text_dp, inst->qty_decimals);
            r.reformatted += px_number.size() < px.size() || sz_number.size() < sz.size() ? 1U : 0U;
            ++r.levels;
            levels.push_back(e);
          }
        }
      }
      Event begin = make_event(EventType::BookBegin, Venue::Kraken, inst->id, 0);
      begin.flags = snapshot ? kFlagSnapshot : std::uint8_t{0};
      begin.begin.levels = static_cast<std::uint32_t>(levels.size());
      begin.begin.depth = static_cast<std::uint32_t>(std::stoul(std::string(channel.substr(5))));
      Event end = make_event(EventType::BookEnd, Venue::Kraken, inst->id, 0);
      if (has_c) {
        end.flags = kFlagHasChecksum;
        end.end.checksum = c;
        ++r.checksummed;
      }
      builder.on_event(begin);
      for (const Event &e : levels)
        builder.on_event(e);
      builder.on_event(end);
    }
    for (std::uint32_t id = 0; id < registry.size(); ++id) {
      if (const InstrumentBook *b = builder.book(id)) {
        r.checksum_ok += b->counters().checksum_ok;
        r.checksum_fail += b->counters().checksum_fail;
      }
    }
    return r;
  }
};

// v2 sends 354.8 where v1 sent "354.80000000"; formatted back at the pair's precision it must
// give the text Kraken checksummed. The precision is the one every recorded level of the pair
// uses (read from the text by the test); the venue's `c` is the oracle.
TEST_F(KrakenV2Test, V2LevelsRebuildTheVenueChecksumOfEveryRecordedUpdate) {
  const auto precision = wire_precision();
  ASSERT_EQ(precision.size(), 10U); // PROVENANCE.md: 10 pairs
  InstrumentRegistry registry;
  for (const auto &[pair, p] : precision)
    add_pair(registry, pair, p.price, p.qty);
  const Rebuilt r = rebuild_with_v2_levels(registry);
  EXPECT_EQ(r.messages, 4279U);    // 10 snapshots + 4,269 updates (PROVENANCE.md)
  EXPECT_EQ(r.checksummed, 4269U); // PROVENANCE.md
  EXPECT_EQ(r.checksum_ok, 4269U);
  EXPECT_EQ(r.checksum_fail, 0U);
  // Most levels really go through the reformatting (their number form drops zeros).
  EXPECT_GT(r.levels, 10000U);
  EXPECT_GT(r.reformatted * 2, r.levels);
}

// The same with the instrument as the AssetPairs metadata defines it, for the pairs whose
// recorded text precision is the metadata's (pair_decimals / lot_decimals): there the v2 path
// needs nothing but the metadata. (In the 2021 recording most pairs were quoted with more
// decimals than pair_decimals, so only those pairs can serve as this oracle.)
TEST_F(KrakenV2Test, MetadataPrecisionRebuildsTheVenueChecksumWhereTheRecordingUsesIt) {
  InstrumentRegistry metadata;
  std::size_t loaded = 0;
  for (const Record &l : read_capture(kMeta))
    if (l.kind == test::RecordKind::Http)
      loaded += load_kraken_asset_pairs(l.payload, metadata);
  ASSERT_GT(loaded, 0U);
  InstrumentRegistry registry;
  std::size_t pairs = 0;
  for (const auto &[pair, p] : wire_precision()) {
    const Instrument *inst = metadata.find(Venue::Kraken, pair);
    ASSERT_NE(inst, nullptr) << pair;
    if (inst->price_decimals == p.price && inst->qty_decimals == p.qty) {
      add_pair(registry, pair, inst->price_decimals, inst->qty_decimals);
      ++pairs;
    }
  }
  ASSERT_GT(pairs, 0U);
  const Rebuilt r = rebuild_with_v2_levels(registry);
  EXPECT_GT(r.checksummed, 100U);
  EXPECT_EQ(r.checksum_ok, r.checksummed);
  EXPECT_EQ(r.checksum_fail, 0U);
}

// Every recorded v1 time (trades and book levels) rewritten as RFC 3339 by libc, with its
// 6-digit fraction, padded to 9 digits and without one, converts to the same nanoseconds.
TEST_F(KrakenV2Test, ConvertsRfc3339TimesLikeLibc) {
  const std::vector<std::string> times = recorded_times();
  ASSERT_GT(times.size(), 10000U);
  std::size_t checked = 0;
  for (const std::string &t : times) {
    const std::size_t dot = t.find('.');
    ASSERT_NE(dot, std::string::npos) << t;
    const std::string fraction = t.substr(dot + 1);
    std::string padded = fraction;
    padded.resize(9, '0');
    const std::int64_t expected = seconds_text_to_ns(t);
    const std::int64_t whole = seconds_text_to_ns(t.substr(0, dot));
    for (const auto &[text, want] :
         {std::pair{rfc3339_of(t, fraction), expected}, std::pair{rfc3339_of(t, padded), expected},
          std::pair{rfc3339_of(t, ""), whole}}) {
      std::int64_t ns = 0;
      ASSERT_TRUE(kraken_v2_time_to_ns(text, ns)) << text;
      ASSERT_EQ(ns, want) << text;
      ++checked;
    }
  }
  EXPECT_EQ(checked, times.size() * 3);
}

// Each byte of such a time (every 50th recorded one) replaced by a letter, or the time cut
// short, is refused.
TEST_F(KrakenV2Test, RefusesRfc3339TimesWithAByteReplacedOrCut) {
  const std::vector<std::string> times = recorded_times();
  std::size_t cases = 0;
  for (std::size_t k = 0; k < times.size(); k += 50) {
    const std::string_view t = times[k];
    const std::string text = rfc3339_of(t, t.substr(t.find('.') + 1));
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
      std::string mutated = text;
      mutated[pos] = 'q';
      std::int64_t ns = 0;
      ASSERT_FALSE(kraken_v2_time_to_ns(mutated, ns)) << mutated;
      ASSERT_FALSE(kraken_v2_time_to_ns(std::string_view(text).substr(0, pos), ns)) << pos;
      cases += 2;
    }
  }
  EXPECT_GT(cases, 1000U);
}

// The Kraken entry point's per-message protocol check takes no recorded v1 frame for v2.
TEST_F(KrakenV2Test, TakesNoRecordedV1FrameForV2) {
  std::size_t frames = 0;
  for (const char *file : {kBook, kTrade, kTicker}) {
    for (const Record &l : read_capture(file, is_received)) {
      ASSERT_FALSE(kraken_v2_first_key(l.payload)) << file << ":" << l.line;
      ++frames;
    }
  }
  EXPECT_EQ(frames, 4321U + 49U + 60U); // PROVENANCE.md
}

// Malformed-input robustness of the v2 entry point, on real v1 frames only (see the header):
// none is a v2 message, so each must be refused with nothing pushed.
class KrakenV2RobustnessTest : public KrakenV2Test {
protected:
  void SetUp() override {
    frames_.add(kBook, is_received).add(kTrade, is_received).add(kTicker, is_received);
    ASSERT_EQ(frames_.size(), 4321U + 49U + 60U);
    // A batch that already holds events: a refused frame must leave them as they are.
    InstrumentRegistry v1_registry;
    KrakenParser v1(v1_registry);
    for (const Record &l : frames_) {
      if (is_data_message(l) && out_.size() == 0) {
        ASSERT_EQ(v1.parse(l.payload, 0, out_), ParseStatus::Ok);
      }
    }
    before_ = out_.size();
    ASSERT_GT(before_, 0U);
  }
  ::testing::AssertionResult refused(std::string text, const char *what, std::size_t line) {
    const ParseStatus st = test::parse_padded_copy(parser_, std::move(text), out_);
    if (st == ParseStatus::Ok || out_.size() != before_)
      return ::testing::AssertionFailure() << what << " line " << line << ": " << to_cstring(st);
    ++cases_;
    return ::testing::AssertionSuccess();
  }
  InstrumentRegistry registry_;
  KrakenV2Parser parser_{registry_};
  EventBatch out_;
  CaptureRecords frames_;
  std::size_t before_ = 0;
  std::size_t cases_ = 0;
};

TEST_F(KrakenV2RobustnessTest, RefusesEveryRecordedV1FrameAsMalformed) {
  for (const Record &l : frames_) {
    ASSERT_EQ(parser_.parse(l.payload, 0, out_), ParseStatus::Malformed) << l.line;
    ASSERT_EQ(out_.size(), before_);
  }
  EXPECT_EQ(registry_.size(), 0U); // nothing was registered on the way
}

// Cut short at 0..99% (every frame), and the same after the opening '[' became '{' so the
// frame reaches the v2 object walk.
TEST_F(KrakenV2RobustnessTest, RefusesTruncatedV1Frames) {
  for (const Record &l : frames_) {
    const std::string_view msg = l.payload;
    for (const std::size_t len : test::truncation_lengths(msg.size())) {
      ASSERT_TRUE(refused(std::string(msg.substr(0, len)), "cut", l.line));
      std::string as_object(msg.substr(0, len));
      if (!as_object.empty() && as_object.front() == '[') {
        as_object.front() = '{';
        ASSERT_TRUE(refused(as_object, "cut object", l.line));
      }
    }
  }
  EXPECT_GT(cases_, 100000U);
}

// Every byte of every v1 event object (systemStatus, subscriptionStatus, heartbeat) flipped in
// three bit positions and replaced by each structural byte; array frames, every 25th, with the
// leading '[' made '{' and then every 7th byte (at most 256 per frame) perturbed the same way.
TEST_F(KrakenV2RobustnessTest, RefusesV1FramesWithABytePerturbed) {
  std::size_t objects = 0;
  for (std::size_t k = 0; k < frames_.size(); ++k) {
    const Record &l = frames_[k];
    std::string base(l.payload);
    std::size_t step = 1;
    if (base.front() == '[') {
      if (k % 25 != 0)
        continue;
      base.front() = '{';
      step = std::max<std::size_t>(7, base.size() / 256); // snapshots are ~80 KB
    } else {
      ++objects;
    }
    for (std::size_t pos = 0; pos < base.size(); pos += step) {
      for (const unsigned bit : {0x01U, 0x20U, 0x80U}) {
        std::string mutated = base;
        mutated[pos] = static_cast<char>(static_cast<unsigned char>(mutated[pos]) ^ bit);
        ASSERT_TRUE(refused(mutated, "flip", l.line)) << " byte " << pos;
      }
      for (const char c : {'{', '}', '[', ']', ',', ':', '"', '\0'}) {
        std::string mutated = base;
        mutated[pos] = c;
        ASSERT_TRUE(refused(mutated, "replace", l.line)) << " byte " << pos;
      }
    }
  }
  EXPECT_GT(objects, 40U);
  EXPECT_GT(cases_, 100000U);
}

// Refusing costs no allocation, whatever the frame.
TEST_F(KrakenV2RobustnessTest, AllocatesNothingWhileRefusing) {
  std::size_t n = 0;
  for (const Record &l : frames_) {
    std::string as_object(l.payload);
    as_object.front() = '{';
    as_object.append(simdjson::SIMDJSON_PADDING, '\0');
    const std::size_t before = g_allocations.load();
    const ParseStatus a = parser_.parse(l.payload, 0, out_);
    const ParseStatus b =
        parser_.parse(std::string_view(as_object.data(), l.payload.size()), 0, out_);
    ASSERT_EQ(g_allocations.load(), before) << l.line;
    ASSERT_TRUE(is_error(a) && is_error(b)) << l.line;
    ++n;
  }
  EXPECT_EQ(n, 4321U + 49U + 60U);
}

} // namespace
} // namespace fh::venues
