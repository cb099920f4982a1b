// labels: unit replay
// Checksums against the venues' own CRC32s: OKX books-l2-tbt and Kraken book-1000 captures
// are replayed into L2Books and every checksum the venue sent must match (PROVENANCE.md
// counts). Messages are read with simdjson DOM here, independently of the venue parsers.
// Corruption tests change one digit of one real size mechanically.
#include "book/checksum.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.hpp"
#include "book/l2_book.hpp"

namespace fh::book {
namespace {

std::vector<std::string> read_gz_lines(const std::string &rel) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<std::string> lines;
  if (f == nullptr)
    return lines;
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    lines.emplace_back(all, start, end - start);
    start = end + 1;
  }
  return lines;
}

// Received messages of a cryptofeed capture: "<t>: <text>" lines (sent and connection lines
// carry " <- " / " <-> " and are skipped).
std::vector<std::string> received_messages(const std::string &rel) {
  std::vector<std::string> out;
  for (const auto &line : read_gz_lines(rel)) {
    if (line.find(" <-") != std::string::npos)
      continue;
    const auto colon = line.find(": ");
    if (colon != std::string::npos)
      out.push_back(line.substr(colon + 2));
  }
  return out;
}

int text_dp(std::string_view s) {
  const auto dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

struct Replay {
  std::size_t verified = 0;
  std::size_t failed = 0;
  std::size_t bad_numbers = 0;
  std::vector<std::size_t> failed_at; // message indices
};

// ---- OKX ---------------------------------------------------------------------------------

struct OkxBookMsg {
  std::string_view inst;
  bool snapshot = false;
  simdjson::dom::array bids;
  simdjson::dom::array asks;
  bool has_checksum = false;
  std::int64_t checksum = 0;
};

bool parse_okx(simdjson::dom::parser &parser, const std::string &text, OkxBookMsg &m) {
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc))
    return false;
  std::string_view channel;
  std::string_view action;
  simdjson::dom::element data0;
  if (doc["arg"]["channel"].get_string().get(channel) || channel.rfind("books", 0) != 0 ||
      doc["action"].get_string().get(action) || doc["arg"]["instId"].get_string().get(m.inst) ||
      doc["data"].at(0).get(data0) || data0["bids"].get_array().get(m.bids) ||
      data0["asks"].get_array().get(m.asks))
    return false;
  m.snapshot = action == "snapshot";
  m.has_checksum = !data0["checksum"].get_int64().get(m.checksum);
  return true;
}

struct Scales {
  int price = 0;
  int qty = 0;
};

// Per instrument: the most fractional digits its price/size texts use (plus `extra`).
std::map<std::string, Scales, std::less<>> okx_scales(const std::vector<std::string> &msgs,
                                                      int extra) {
  std::map<std::string, Scales, std::less<>> scales;
  simdjson::dom::parser parser;
  for (const auto &text : msgs) {
    OkxBookMsg m;
    if (!parse_okx(parser, text, m))
      continue;
    Scales &s = scales[std::string(m.inst)];
    for (const auto &side : {m.bids, m.asks}) {
      for (simdjson::dom::element lv : side) {
        std::string_view px;
        std::string_view sz;
        if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(sz))
          continue;
        s.price = std::max(s.price, text_dp(px));
        s.qty = std::max(s.qty, text_dp(sz));
      }
    }
  }
  for (auto &[inst, s] : scales) {
    s.price += extra;
    s.qty += extra;
  }
  return scales;
}

Replay replay_okx(const std::vector<std::string> &msgs, int extra_decimals = 0) {
  const auto scales = okx_scales(msgs, extra_decimals);
  std::map<std::string, L2Book, std::less<>> books;
  simdjson::dom::parser parser;
  Replay r;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    OkxBookMsg m;
    if (!parse_okx(parser, msgs[i], m))
      continue;
    auto it = books.find(m.inst);
    if (it == books.end()) {
      const Scales &s = scales.find(m.inst)->second;
      it = books
               .emplace(std::string(m.inst), L2Book(static_cast<std::uint8_t>(s.price),
                                                    static_cast<std::uint8_t>(s.qty), 512))
               .first;
    }
    L2Book &book = it->second;
    if (m.snapshot)
      book.clear(); // a second snapshot replaces the book
    for (const auto &[side, levels] :
         {std::pair{Side::Bid, m.bids}, std::pair{Side::Ask, m.asks}}) {
      for (simdjson::dom::element lv : levels) {
        std::string_view px;
        std::string_view sz;
        std::string_view orders;
        ParsedDecimal p{};
        ParsedDecimal q{};
        if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(sz) ||
            lv.at(3).get_string().get(orders) ||
            parse_decimal(px, book.price_decimals(), p) != DecimalError::Ok ||
            parse_decimal(sz, book.qty_decimals(), q) != DecimalError::Ok) {
          ++r.bad_numbers;
          continue;
        }
        std::uint32_t n = 0;
        std::from_chars(orders.data(), orders.data() + orders.size(), n);
        EXPECT_TRUE(
            book.apply(side, Level{p.mantissa, q.mantissa, n, p.text_decimals, q.text_decimals}));
      }
    }
    if (!m.has_checksum)
      continue;
    if (static_cast<std::int32_t>(okx_checksum(book)) == m.checksum) {
      ++r.verified;
    } else {
      ++r.failed;
      r.failed_at.push_back(i);
    }
  }
  return r;
}

// ---- Kraken ------------------------------------------------------------------------------

// [channelID, {dict}, ({dict},)? "book-1000", "PAIR"]; returns the dicts and the pair.
bool parse_kraken(simdjson::dom::parser &parser, const std::string &text,
                  std::vector<simdjson::dom::object> &dicts, std::string_view &pair) {
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (parser.parse(text).get(doc) || doc.get_array().get(arr))
    return false;
  const std::size_t n = arr.size();
  std::string_view channel;
  if (n < 4 || arr.at(n - 2).get_string().get(channel) || channel.rfind("book-", 0) != 0 ||
      arr.at(n - 1).get_string().get(pair))
    return false;
  dicts.clear();
  for (std::size_t k = 1; k + 2 < n; ++k) {
    simdjson::dom::object o;
    if (arr.at(k).get_object().get(o))
      return false;
    dicts.push_back(o);
  }
  return true;
}

Replay replay_kraken(const std::vector<std::string> &msgs, std::size_t depth) {
  simdjson::dom::parser parser;
  std::vector<simdjson::dom::object> dicts;
  std::string_view pair;
  // Pre-scan: decimals per pair = most fractional digits in its texts.
  std::map<std::string, Scales, std::less<>> scales;
  for (const auto &text : msgs) {
    if (!parse_kraken(parser, text, dicts, pair))
      continue;
    Scales &s = scales[std::string(pair)];
    for (const auto &d : dicts) {
      for (const auto &field : d) {
        simdjson::dom::array levels;
        if (field.value.get_array().get(levels))
          continue;
        for (simdjson::dom::element lv : levels) {
          std::string_view px;
          std::string_view vol;
          if (!lv.at(0).get_string().get(px) && !lv.at(1).get_string().get(vol)) {
            s.price = std::max(s.price, text_dp(px));
            s.qty = std::max(s.qty, text_dp(vol));
          }
        }
      }
    }
  }

  std::map<std::string, L2Book, std::less<>> books;
  Replay r;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (!parse_kraken(parser, msgs[i], dicts, pair))
      continue;
    auto it = books.find(pair);
    if (it == books.end()) {
      const Scales &s = scales.find(pair)->second;
      it = books
               .emplace(std::string(pair), L2Book(static_cast<std::uint8_t>(s.price),
                                                  static_cast<std::uint8_t>(s.qty), depth))
               .first;
    }
    L2Book &book = it->second;
    std::string_view checksum_text;
    bool has_checksum = false;
    for (const auto &d : dicts) {
      for (const auto &field : d) {
        if (field.key == "c") {
          has_checksum = !field.value.get_string().get(checksum_text);
          continue;
        }
        Side side{};
        if (field.key == "as" || field.key == "a")
          side = Side::Ask;
        else if (field.key == "bs" || field.key == "b")
          side = Side::Bid;
        else
          continue;
        if (field.key.size() == 2 && side == Side::Ask)
          book.clear(); // "as" comes first in a snapshot
        simdjson::dom::array levels;
        if (field.value.get_array().get(levels))
          continue;
        // Applied in the order they appear; a 4th element "r" (republish) changes nothing.
        for (simdjson::dom::element lv : levels) {
          std::string_view px;
          std::string_view vol;
          ParsedDecimal p{};
          ParsedDecimal q{};
          if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(vol) ||
              parse_decimal(px, book.price_decimals(), p) != DecimalError::Ok ||
              parse_decimal(vol, book.qty_decimals(), q) != DecimalError::Ok) {
            ++r.bad_numbers;
            continue;
          }
          EXPECT_TRUE(
              book.apply(side, Level{p.mantissa, q.mantissa, 0, p.text_decimals, q.text_decimals}));
        }
      }
    }
    // Levels pushed below the subscribed depth are not deleted by the feed.
    book.truncate(Side::Bid, depth);
    book.truncate(Side::Ask, depth);
    if (!has_checksum)
      continue;
    std::uint32_t want = 0;
    std::from_chars(checksum_text.data(), checksum_text.data() + checksum_text.size(), want);
    if (kraken_checksum(book) == want) {
      ++r.verified;
    } else {
      ++r.failed;
      r.failed_at.push_back(i);
    }
  }
  return r;
}

// Changes the last digit of the first size after `marker` (e.g. `"bids":[[`) in message
// `text`: '9' becomes '8', any other digit is incremented. Returns false if not found.
bool bump_first_size_digit(std::string &text, std::string_view marker) {
  const auto at = text.find(marker);
  if (at == std::string::npos)
    return false;
  // Skip the price string, then find the size string.
  const auto px_open = text.find('"', at + marker.size() - 1);
  const auto px_close = text.find('"', px_open + 1);
  const auto sz_open = text.find('"', px_close + 1);
  const auto sz_close = text.find('"', sz_open + 1);
  if (sz_close == std::string::npos)
    return false;
  char &c = text[sz_close - 1];
  if (c < '0' || c > '9')
    return false;
  c = c == '9' ? '8' : static_cast<char>(c + 1);
  return true;
}

class ChecksumTest : public ::testing::Test {};

TEST_F(ChecksumTest, VerifiesEveryOkxChecksumOf2022Capture) {
  const auto msgs = received_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  const Replay r = replay_okx(msgs);
  EXPECT_EQ(r.bad_numbers, 0U);
  EXPECT_EQ(r.verified, 3679U);
  EXPECT_EQ(r.failed, 0U);
}

TEST_F(ChecksumTest, VerifiesOkxChecksumsAtAScaleFinerThanTheText) {
  // Two more decimals than any text uses: the text is still rebuilt from text_dp.
  const auto msgs = received_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  const Replay r = replay_okx(msgs, 2);
  EXPECT_EQ(r.bad_numbers, 0U);
  EXPECT_EQ(r.verified, 3679U);
  EXPECT_EQ(r.failed, 0U);
}

TEST_F(ChecksumTest, VerifiesEveryOkxChecksumOfThe2021ParallelConnections) {
  const char *const files[] = {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
                               "okx/cryptofeed/books-l2-tbt_2021-07-22_conn2_ws.txt.gz",
                               "okx/cryptofeed/books-l2-tbt_2021-07-22_conn3_ws.txt.gz"};
  const std::size_t want[] = {1504, 1446, 1422};
  for (int k = 0; k < 3; ++k) {
    const Replay r = replay_okx(received_messages(files[k]));
    EXPECT_EQ(r.bad_numbers, 0U) << files[k];
    EXPECT_EQ(r.verified, want[k]) << files[k];
    EXPECT_EQ(r.failed, 0U) << files[k];
  }
}

TEST_F(ChecksumTest, OkxChecksumFailsExactlyWhereASizeDigitWasChanged) {
  auto msgs = received_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  // Mechanical corruption: the first snapshot's best bid size gets one digit changed.
  std::size_t target = msgs.size();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].find("\"action\":\"snapshot\"") != std::string::npos &&
        bump_first_size_digit(msgs[i], "\"bids\":[[")) {
      target = i;
      break;
    }
  }
  ASSERT_LT(target, msgs.size());
  const Replay r = replay_okx(msgs);
  ASSERT_FALSE(r.failed_at.empty());
  EXPECT_EQ(r.failed_at.front(), target);
  EXPECT_EQ(r.verified + r.failed, 3679U);
}

TEST_F(ChecksumTest, VerifiesEveryKrakenChecksumAtDepth1000) {
  const auto msgs = received_messages("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz");
  const Replay r = replay_kraken(msgs, 1000);
  EXPECT_EQ(r.bad_numbers, 0U);
  EXPECT_EQ(r.verified, 4269U);
  EXPECT_EQ(r.failed, 0U);
}

TEST_F(ChecksumTest, KrakenChecksumFailsExactlyWhereASizeDigitWasChanged) {
  auto msgs = received_messages("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz");
  // Mechanical corruption: the best ask volume of the first snapshot ("as") gets one digit
  // changed. The best ask is always in the checksummed top 10.
  std::size_t target = msgs.size();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].find("{\"as\":[[") != std::string::npos &&
        bump_first_size_digit(msgs[i], "{\"as\":[[")) {
      target = i;
      break;
    }
  }
  ASSERT_LT(target, msgs.size());
  const Replay r = replay_kraken(msgs, 1000);
  ASSERT_FALSE(r.failed_at.empty());
  // The snapshot itself has no "c"; the first checksummed message of that pair after it
  // must fail. Find it: the first message after the target naming the same channel.
  const std::string channel = msgs[target].substr(0, msgs[target].find(','));
  std::size_t first_checked = msgs.size();
  for (std::size_t i = target + 1; i < msgs.size(); ++i) {
    if (msgs[i].rfind(channel + ",", 0) == 0 && msgs[i].find("\"c\":\"") != std::string::npos) {
      first_checked = i;
      break;
    }
  }
  ASSERT_LT(first_checked, msgs.size());
  EXPECT_EQ(r.failed_at.front(), first_checked);
}

TEST_F(ChecksumTest, EmptyBookHasTheCrcOfTheEmptyString) {
  // CRC32 of zero bytes is 0 (zlib's initial value): the text is empty for an empty book.
  const L2Book book(2, 8);
  EXPECT_EQ(okx_checksum(book), 0U);
  EXPECT_EQ(kraken_checksum(book), 0U);
}

} // namespace
} // namespace fh::book
