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

// Fractional digits up to the last non-zero one ("0.50000000" -> 1): the coarsest scale that
// still holds the value exactly.
int significant_dp(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos)
    return 0;
  std::size_t end = s.size();
  while (end > dot + 1 && s[end - 1] == '0')
    --end;
  return static_cast<int>(end - dot - 1);
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

// `extra` decimals on top of the texts' scale; `significant`: scale from significant_dp, so
// texts carry more (zero) decimals than the book.
Replay replay_kraken(const std::vector<std::string> &msgs, std::size_t depth, int extra = 0,
                     bool significant = false) {
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
            s.price = std::max(s.price, significant ? significant_dp(px) : text_dp(px));
            s.qty = std::max(s.qty, significant ? significant_dp(vol) : text_dp(vol));
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
               .emplace(std::string(pair), L2Book(static_cast<std::uint8_t>(s.price + extra),
                                                  static_cast<std::uint8_t>(s.qty + extra), depth))
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

TEST_F(ChecksumTest, VerifiesOkxChecksumsAtAScaleFiveDecimalsFinerThanTheText) {
  // Book scales of 5 to 16 decimals (the most that keeps every real size within int64):
  // mantissas of 9 to 17 digits, fractions longer than the digits (0.000...); the text is
  // still rebuilt from text_dp.
  const auto msgs = received_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  const Replay r = replay_okx(msgs, 5);
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

TEST_F(ChecksumTest, VerifiesKrakenChecksumsWhenTextsHaveMoreDecimalsThanTheBook) {
  // Kraken pads prices with zeros ("55500.10000"): at the coarsest exact scale the texts
  // carry up to several more decimals than the book, which the checksum text must restore.
  const auto msgs = received_messages("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz");
  const Replay r = replay_kraken(msgs, 1000, 0, true);
  EXPECT_EQ(r.bad_numbers, 0U);
  EXPECT_EQ(r.verified, 4269U);
  EXPECT_EQ(r.failed, 0U);
}

TEST_F(ChecksumTest, VerifiesKrakenChecksumsAtAScaleFinerThanTheText) {
  // Two more decimals than any text (the most that keeps every real volume within int64):
  // digits below the text's last one are dropped.
  const auto msgs = received_messages("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz");
  const Replay r = replay_kraken(msgs, 1000, 2);
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

// ---- the text builders against format_decimal -------------------------------------------
// The checksum text is built with a fast digit routine (book/checksum.cpp); the venue
// captures only reach the number shapes real books have. Here real levels are stretched
// mechanically to the rest of the domain (mantissas scaled by powers of ten up to 19 digits,
// negated, every book scale 0..18, texts with fewer or more decimals than the book) and each
// checksum is compared with the CRC of a text built independently in the test from
// format_decimal, following the VENUE_RULES.md rules.

std::uint32_t zlib_crc(const std::string &text) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef *>(text.data()), static_cast<uInt>(text.size())));
}

std::string decimal_text(std::int64_t mantissa, std::uint8_t decimals, std::uint8_t text_dp) {
  char buf[kDecimalBufferSize];
  return std::string(buf, format_decimal(mantissa, decimals, text_dp, buf));
}

std::uint32_t okx_reference(const L2Book &book) {
  std::string text;
  auto put = [&](const Level &l) {
    if (!text.empty())
      text += ':';
    text += decimal_text(l.price, book.price_decimals(), l.price_text_dp);
    text += ':';
    text += decimal_text(l.qty, book.qty_decimals(), l.qty_text_dp);
  };
  const std::size_t bids = std::min<std::size_t>(book.depth(Side::Bid), 25);
  const std::size_t asks = std::min<std::size_t>(book.depth(Side::Ask), 25);
  for (std::size_t i = 0; i < std::max(bids, asks); ++i) {
    if (i < bids)
      put(book.at(Side::Bid, i));
    if (i < asks)
      put(book.at(Side::Ask, i));
  }
  return zlib_crc(text);
}

std::uint32_t kraken_reference(const L2Book &book) {
  std::string text;
  auto put = [&](std::int64_t mantissa, std::uint8_t decimals, std::uint8_t text_dp) {
    bool leading = true;
    for (const char c : decimal_text(mantissa, decimals, text_dp)) {
      if (c == '.' || (leading && c == '0'))
        continue;
      leading = false;
      text += c;
    }
  };
  for (const Side side : {Side::Ask, Side::Bid}) {
    for (std::size_t i = 0; i < std::min<std::size_t>(book.depth(side), 10); ++i) {
      const Level &l = book.at(side, i);
      put(l.price, book.price_decimals(), l.price_text_dp);
      put(l.qty, book.qty_decimals(), l.qty_text_dp);
    }
  }
  return zlib_crc(text);
}

TEST_F(ChecksumTest, TextsEqualFormatDecimalsForEveryScaleAndMantissaShape) {
  // The best 25 bids and asks of the first OKX snapshot that has them (real prices and
  // sizes, as mantissas at their own text scale).
  const auto msgs = received_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  simdjson::dom::parser parser;
  struct Raw {
    Side side;
    std::int64_t price;
    std::uint8_t price_dp;
    std::int64_t qty;
    std::uint8_t qty_dp;
  };
  std::vector<Raw> raw;
  for (const auto &text : msgs) {
    OkxBookMsg m;
    if (!parse_okx(parser, text, m) || !m.snapshot || m.bids.size() < 25 || m.asks.size() < 25)
      continue;
    for (const auto &[side, levels] :
         {std::pair{Side::Bid, m.bids}, std::pair{Side::Ask, m.asks}}) {
      std::size_t n = 0;
      for (simdjson::dom::element lv : levels) {
        std::string_view px;
        std::string_view sz;
        ASSERT_FALSE(lv.at(0).get_string().get(px));
        ASSERT_FALSE(lv.at(1).get_string().get(sz));
        ParsedDecimal p{};
        ParsedDecimal q{};
        ASSERT_EQ(parse_decimal(px, static_cast<std::uint8_t>(text_dp(px)), p), DecimalError::Ok);
        ASSERT_EQ(parse_decimal(sz, static_cast<std::uint8_t>(text_dp(sz)), q), DecimalError::Ok);
        raw.push_back({side, p.mantissa, p.text_decimals, q.mantissa, q.text_decimals});
        if (++n == 25)
          break;
      }
    }
    break;
  }
  ASSERT_EQ(raw.size(), 50U);

  // Mechanical stretch of one number: `mantissa` (at `dp` decimals) times 10^shift, put at
  // book scale `decimals` with text_dp = dp + shift + text_extra (clamped), negated if asked.
  // Returns false when it does not fit an int64 or breaks format_decimal's precondition.
  auto stretch = [](std::int64_t mantissa, std::uint8_t dp, int shift, int text_extra,
                    std::uint8_t decimals, bool negate, std::int64_t &out, std::uint8_t &tdp) {
    const int text = std::clamp(static_cast<int>(dp) + text_extra, 0, kMaxTextDecimals);
    std::int64_t v = mantissa;
    for (int i = 0; i < shift; ++i)
      if (__builtin_mul_overflow(v, std::int64_t{10}, &v))
        return false;
    // Digits the text drops (decimals above text_dp) must be zeros.
    if (text < decimals && v % kPow10[decimals - text] != 0)
      return false;
    out = negate ? -v : v;
    tdp = static_cast<std::uint8_t>(text);
    return true;
  };

  std::size_t books = 0;
  for (int decimals = 0; decimals <= kMaxDecimals; ++decimals) {
    for (const int shift : {0, 1, 3, 6, 9, 11, 14}) {
      for (const int text_extra : {-20, -2, 0, 3, 26}) {
        for (const bool negate : {false, true}) {
          L2Book book(static_cast<std::uint8_t>(decimals), static_cast<std::uint8_t>(decimals));
          for (const Raw &r : raw) {
            Level l{0, 0, 0, 0, 0};
            if (stretch(r.price, r.price_dp, shift, text_extra, static_cast<std::uint8_t>(decimals),
                        negate, l.price, l.price_text_dp) &&
                stretch(r.qty, r.qty_dp, shift, text_extra, static_cast<std::uint8_t>(decimals),
                        negate, l.qty, l.qty_text_dp) &&
                l.qty != 0) {
              ASSERT_TRUE(book.apply(r.side, l));
            }
          }
          if (book.depth(Side::Bid) + book.depth(Side::Ask) == 0)
            continue;
          ++books;
          ASSERT_EQ(okx_checksum(book), okx_reference(book))
              << "decimals " << decimals << " shift " << shift << " text_extra " << text_extra
              << " negate " << negate;
          ASSERT_EQ(kraken_checksum(book), kraken_reference(book))
              << "decimals " << decimals << " shift " << shift << " text_extra " << text_extra
              << " negate " << negate;
        }
      }
    }
  }
  EXPECT_GT(books, 700U); // most combinations fit an int64
}

} // namespace
} // namespace fh::book
