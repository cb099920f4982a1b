// labels: unit replay
// DEEP 1.0 (and the TOPS types it shares) message decoding over every message of the real
// capture. Expected counts are PROVENANCE.md's; decoded values are checked against the value
// sets the IEX DEEP specification enumerates (system event codes, trading status, halt status,
// short sale test, event flags) and against the segment's own send time. Malformed inputs are
// real messages cut short or with a symbol byte changed, as each test says.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/iex/iex_deep.hpp"
#include "feedhandler/iex/iex_tops.hpp"
#include "feedhandler/iex/iex_tp.hpp"
#include "tests/support/pcap_frames.hpp"

namespace fh::test {
namespace {

using iex::DecodeError;
using iex::Message;

struct RawMessage {
  const std::uint8_t* data;
  std::uint16_t len;
  std::int64_t send_time_ns;
  bool session_start; // first message of a segment at sequence 1
};

// Every message of every intact segment, in stream order.
std::vector<RawMessage> all_messages() {
  std::vector<RawMessage> out;
  for (const auto& f : iex_frames()) {
    const auto& b = f.bytes;
    const std::size_t total = std::size_t{b[16]} << 8 | b[17];
    if (total + 14 > b.size()) continue; // the truncated packet (udp_packet_test)
    const std::uint8_t* seg = b.data() + 42;
    iex::TpHeader h;
    if (iex::parse_segment(seg, total - 28, h) != iex::TpError::None) {
      ADD_FAILURE() << "segment did not parse";
      continue;
    }
    iex::TpBlocks blocks(seg, total - 28);
    const std::uint8_t* m = nullptr;
    std::uint16_t n = 0;
    bool first = h.first_seq == 1;
    while (blocks.next(m, n)) {
      out.push_back({m, n, h.send_time_ns, first});
      first = false;
    }
  }
  return out;
}

bool same(const Message& a, const Message& b) {
  return a.type == b.type && a.code == b.code && a.timestamp_ns == b.timestamp_ns &&
         a.symbol == b.symbol && a.size == b.size && a.price == b.price && a.price2 == b.price2 &&
         a.size2 == b.size2 && a.trade_id == b.trade_id && a.detail == b.detail &&
         std::string_view(a.reason, 4) == std::string_view(b.reason, 4);
}

class IexDeepTest : public ::testing::Test {
protected:
  static const std::vector<RawMessage>& messages() {
    static const std::vector<RawMessage> m = all_messages();
    return m;
  }
};

TEST_F(IexDeepTest, DecodesEveryMessageWithProvenanceCounts) {
  std::map<char, std::uint64_t> by_type;
  Message m;
  for (const RawMessage& r : messages()) {
    ASSERT_EQ(iex::decode_deep(r.data, r.len, m), DecodeError::None)
        << "type " << static_cast<char>(r.data[0]);
    EXPECT_EQ(m.type, r.data[0]);
    ++by_type[static_cast<char>(m.type)];
  }
  // PROVENANCE.md (its per-type counts skip the truncated last packet entirely).
  EXPECT_EQ(by_type['5'], 14627u); // price level update, sell side
  EXPECT_EQ(by_type['8'], 12941u); // price level update, buy side
  EXPECT_EQ(by_type['T'], 83343u); // trade reports
  // PROVENANCE.md calls 'P' "price-level updates"; in DEEP 1.0, 0x50 is the short sale price
  // test status message (price levels are '8' and '5'). The count is the same message.
  EXPECT_EQ(by_type['P'], 93636u);
  // 392,043 (PROVENANCE.md) = these + the 44 the truncated packet declares (iex_tp_test).
  std::uint64_t total = 0;
  for (const auto& [t, n] : by_type) total += n;
  EXPECT_EQ(total, 392043u - 44u);
  // Only DEEP 1.0 types occur.
  for (const auto& [t, n] : by_type)
    EXPECT_NE(iex::layout_length(static_cast<std::uint8_t>(t)), 0u) << t;
  EXPECT_EQ(by_type.count('Q'), 0u); // a TOPS type
}

TEST_F(IexDeepTest, DecodedValuesAreInTheSpecificationsValueSets) {
  Message m;
  std::set<std::uint8_t> system_events;
  std::map<std::uint64_t, std::string> symbols;
  std::set<std::uint64_t> trade_ids;
  std::size_t sessions = 0, duplicated_trade_ids = 0;
  for (const RawMessage& r : messages()) {
    ASSERT_EQ(iex::decode_deep(r.data, r.len, m), DecodeError::None);
    if (r.session_start) {
      ++sessions;
      trade_ids.clear(); // trade ids are unique within a session's day
      // Outside heartbeats, start of messages is the first message of any session (DEEP spec).
      EXPECT_EQ(m.type, iex::kSystemEvent);
      EXPECT_EQ(m.code, 'O');
    }
    // Event times are set by the trading system before the segment is sent, same day.
    EXPECT_LE(m.timestamp_ns, r.send_time_ns);
    EXPECT_GT(m.timestamp_ns, r.send_time_ns - 86'400'000'000'000);
    switch (m.type) {
    case iex::kSystemEvent: system_events.insert(m.code); break;
    case iex::kTradingStatus: EXPECT_TRUE(std::string("HOPT").find(char(m.code)) != std::string::npos); break;
    case iex::kOperationalHalt: EXPECT_TRUE(m.code == 'O' || m.code == 'N'); break;
    case iex::kShortSalePriceTest:
      EXPECT_LE(m.code, 1);
      EXPECT_TRUE(std::string(" ACDN").find(char(m.detail)) != std::string::npos);
      break;
    case iex::kSecurityEvent: EXPECT_TRUE(m.code == 'O' || m.code == 'C'); break;
    case iex::kPriceLevelBuy:
    case iex::kPriceLevelSell:
      EXPECT_LE(m.code, iex::kEventProcessingComplete); // flags: 0 in transition, 1 complete
      EXPECT_GT(m.price, 0);
      break;
    case iex::kTradeReport:
      EXPECT_GT(m.size, 0u);
      EXPECT_GT(m.price, 0);
      if (!trade_ids.insert(m.trade_id).second) ++duplicated_trade_ids;
      break;
    default: break;
    }
    if (m.symbol != 0) symbols.emplace(m.symbol, std::string(iex::symbol_text(m.symbol)));
  }
  EXPECT_EQ(sessions, 12u); // the start plus the 11 restarts (iex_tp_test)
  EXPECT_EQ(duplicated_trade_ids, 0u);
  // System event codes the spec defines: O S R M E C.
  for (const std::uint8_t c : system_events)
    EXPECT_TRUE(std::string("OSRMEC").find(char(c)) != std::string::npos) << c;
  // Symbols are text without padding, as the IEX test symbols and listed names read.
  for (const auto& [word, text] : symbols) {
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find(' '), std::string::npos);
  }
  EXPECT_TRUE(symbols.size() > 7000u) << symbols.size(); // the pre-market spin covers every symbol
  bool has_ziext = false;
  for (const auto& [word, text] : symbols) has_ziext = has_ziext || text == "ZIEXT";
  EXPECT_TRUE(has_ziext); // IEX's test symbol
}

TEST_F(IexDeepTest, TopsDecodesTheSharedTypesIdenticallyAndRefusesDeepOnlyTypes) {
  Message deep, tops;
  std::size_t shared = 0;
  for (const RawMessage& r : messages()) {
    ASSERT_EQ(iex::decode_deep(r.data, r.len, deep), DecodeError::None);
    const DecodeError e = iex::decode_tops(r.data, r.len, tops);
    const std::uint8_t t = r.data[0];
    if (t == iex::kPriceLevelBuy || t == iex::kPriceLevelSell || t == iex::kSecurityEvent) {
      EXPECT_EQ(e, DecodeError::UnknownType);
      continue;
    }
    ASSERT_EQ(e, DecodeError::None);
    EXPECT_TRUE(same(deep, tops)) << "type " << char(t);
    ++shared;
  }
  EXPECT_GT(shared, 300000u);
}

TEST_F(IexDeepTest, MessagesCutShortAreRefused) {
  std::set<std::uint8_t> types_seen;
  Message m;
  for (const RawMessage& r : messages()) {
    if (!types_seen.insert(r.data[0]).second) continue; // first message of each type
    // Mechanically cut the message at every length short of its layout.
    for (std::uint16_t len = 0; len < iex::layout_length(r.data[0]); ++len)
      EXPECT_EQ(iex::decode_deep(r.data, len, m), DecodeError::ShortMessage)
          << char(r.data[0]) << " len " << len;
    // Longer than the layout is fine (IEX may grow messages at their end).
    std::vector<std::uint8_t> longer(r.data, r.data + r.len);
    longer.push_back(0);
    EXPECT_EQ(iex::decode_deep(longer.data(), longer.size(), m), DecodeError::None);
  }
  EXPECT_EQ(types_seen.size(), 9u); // S H O P E 8 5 T B occur in the capture
}

TEST_F(IexDeepTest, BadSymbolBytesAreRefused) {
  Message m;
  std::size_t tested = 0;
  for (std::size_t i = 0; i < messages().size(); i += 1001) {
    const RawMessage& r = messages()[i];
    if (r.data[0] == iex::kSystemEvent) continue;
    std::vector<std::uint8_t> b(r.data, r.data + r.len);
    // Mechanically change the symbol's first byte to a control character.
    b[10] = 0x01;
    EXPECT_EQ(iex::decode_deep(b.data(), b.size(), m), DecodeError::BadSymbol);
    // And blank the whole symbol (8 spaces).
    std::fill(b.begin() + 10, b.begin() + 18, ' ');
    EXPECT_EQ(iex::decode_deep(b.data(), b.size(), m), DecodeError::BadSymbol);
    ++tested;
  }
  EXPECT_GT(tested, 300u);
}

TEST_F(IexDeepTest, UnknownTypeBytesAreReportedNotDecoded) {
  Message m;
  const RawMessage& r = messages()[5000];
  std::vector<std::uint8_t> b(r.data, r.data + r.len);
  // Mechanically change the type byte to one neither protocol defines ('Z').
  b[0] = 'Z';
  EXPECT_EQ(iex::decode_deep(b.data(), b.size(), m), DecodeError::UnknownType);
  EXPECT_EQ(iex::decode_tops(b.data(), b.size(), m), DecodeError::UnknownType);
}

} // namespace
} // namespace fh::test
