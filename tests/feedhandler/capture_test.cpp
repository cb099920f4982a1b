// labels: unit replay
// Capture readers over every real capture in data/. Expected values come from PROVENANCE.md
// (message counts) or from an independent reading of the same files done here: a plain line
// classifier over zlib gzgets, timestamp conversion by string arithmetic, simdjson DOM for
// JSON validity, zlib inflate for Huobi's gzip frames.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::capture {
namespace {

namespace fs = std::filesystem;

const fs::path kData{FH_DATA_DIR};

// ---- independent reading ----------------------------------------------------------------

// All lines of a (gzipped) text file via gzgets, '\n' removed. A final piece without '\n' is
// returned too, flagged in `last_unterminated`.
std::vector<std::string> gzgets_lines(const fs::path &p, bool *last_unterminated = nullptr) {
  std::vector<std::string> lines;
  gzFile gz = gzopen(p.c_str(), "rb");
  if (gz == nullptr)
    return lines;
  std::vector<char> buf(1 << 16);
  std::string cur;
  bool unterminated = false;
  while (gzgets(gz, buf.data(), static_cast<int>(buf.size())) != nullptr) {
    cur += buf.data();
    if (!cur.empty() && cur.back() == '\n') {
      cur.pop_back();
      lines.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    lines.push_back(std::move(cur));
    unterminated = true;
  }
  gzclose(gz);
  if (last_unterminated != nullptr)
    *last_unterminated = unterminated;
  return lines;
}

std::string gz_read_all(const fs::path &p) {
  std::string out;
  gzFile gz = gzopen(p.c_str(), "rb");
  if (gz == nullptr)
    return out;
  std::array<char, 1 << 16> buf{};
  int n = 0;
  while ((n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  gzclose(gz);
  return out;
}

// The line kinds of PROVENANCE.md section 1, told apart by plain string tests.
enum class Kind { Open, Sent, Text, Binary, Http, Config, Hft, Empty, Other };

Kind classify(const std::string &l) {
  if (l.empty())
    return Kind::Empty;
  if (l.rfind("configuration: ", 0) == 0)
    return Kind::Config;
  if (l[0] >= '0' && l[0] <= '9') {
    const auto sp = l.find(' ');
    if (sp != std::string::npos && sp + 1 < l.size() && l[sp + 1] == '{' &&
        l.find_first_not_of("0123456789") == sp) {
      return Kind::Hft;
    }
    const auto colon = l.find(": ");
    if (colon == std::string::npos)
      return Kind::Other;
    const std::string body = l.substr(colon + 2);
    if (body.rfind("b'", 0) == 0 || body.rfind("b\"", 0) == 0)
      return Kind::Binary;
    return Kind::Text;
  }
  const auto sp = l.find(' ');
  if (sp == std::string::npos)
    return Kind::Other;
  const std::string marker = l.substr(sp + 1, l.find(' ', sp + 1) - sp - 1);
  if (marker == "<->")
    return Kind::Open;
  if (marker == "<-")
    return Kind::Sent;
  if (marker == "->")
    return Kind::Http;
  return Kind::Other;
}

// The timestamp text of a line (cryptofeed: between the marker and ": " or the end).
std::string stamp_text(const std::string &l, Kind k) {
  if (k == Kind::Hft)
    return l.substr(0, l.find(' '));
  if (k == Kind::Text || k == Kind::Binary)
    return l.substr(0, l.find(": "));
  const auto second_space = l.find(' ', l.find(' ') + 1);
  const std::string rest = l.substr(second_space + 1);
  return k == Kind::Open ? rest : rest.substr(0, rest.find(": "));
}

// "1633998512.0633569" -> 1633998512063356900 by string arithmetic.
std::int64_t seconds_text_to_ns(const std::string &s) {
  const auto dot = s.find('.');
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  frac.resize(9, '0');
  return std::stoll(s.substr(0, dot)) * 1'000'000'000LL + std::stoll(frac);
}

RecordKind to_record_kind(Kind k) {
  switch (k) {
  case Kind::Open:
    return RecordKind::WsOpen;
  case Kind::Sent:
    return RecordKind::WsSent;
  case Kind::Binary:
    return RecordKind::WsBinary;
  case Kind::Http:
    return RecordKind::Http;
  case Kind::Config:
    return RecordKind::Config;
  default:
    return RecordKind::WsText;
  }
}

std::string rel(const fs::path &p) {
  return fs::relative(p, kData).string();
}

// Every line capture in data/: cryptofeed *.txt.gz and hftbacktest *.gz.
std::vector<fs::path> line_captures() {
  std::vector<fs::path> out;
  for (const auto &e : fs::recursive_directory_iterator(kData)) {
    if (!e.is_regular_file())
      continue;
    const std::string parent = e.path().parent_path().filename().string();
    const std::string name = e.path().filename().string();
    const bool txt_gz = name.size() > 7 && name.compare(name.size() - 7, 7, ".txt.gz") == 0;
    if ((parent == "cryptofeed" && txt_gz) ||
        (parent == "hftbacktest" && e.path().extension() == ".gz")) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Walks a whole on-demand value so that every byte of it is parsed.
simdjson::error_code walk(simdjson::ondemand::value v) {
  simdjson::ondemand::json_type t{};
  if (auto e = v.type().get(t))
    return e;
  switch (t) {
  case simdjson::ondemand::json_type::array: {
    simdjson::ondemand::array a;
    if (auto e = v.get_array().get(a))
      return e;
    for (auto child : a) {
      simdjson::ondemand::value cv;
      if (auto e = std::move(child).get(cv))
        return e;
      if (auto e = walk(cv))
        return e;
    }
    return simdjson::SUCCESS;
  }
  case simdjson::ondemand::json_type::object: {
    simdjson::ondemand::object o;
    if (auto e = v.get_object().get(o))
      return e;
    for (auto field : o) {
      simdjson::ondemand::field f;
      if (auto e = std::move(field).get(f))
        return e;
      if (auto e = walk(f.value()))
        return e;
    }
    return simdjson::SUCCESS;
  }
  case simdjson::ondemand::json_type::string: {
    std::string_view s;
    return v.get_string().get(s);
  }
  case simdjson::ondemand::json_type::boolean: {
    bool b = false;
    return v.get_bool().get(b);
  }
  case simdjson::ondemand::json_type::null:
    return simdjson::SUCCESS;
  case simdjson::ondemand::json_type::number: {
    // Kraken's connectionID exceeds int64: take the raw token, as the venue parsers do.
    std::string_view tok = v.raw_json_token();
    return tok.empty() ? simdjson::NUMBER_ERROR : simdjson::SUCCESS;
  }
  }
  return simdjson::INCORRECT_TYPE;
}

// Parses a payload in place (no copy) with the padding contract, walks all of it, and reads
// the padding bytes from instrumented code so ASan sees any overrun.
simdjson::error_code iterate_in_place(simdjson::ondemand::parser &parser, std::string_view p) {
  volatile unsigned char sink = 0;
  for (std::size_t i = 0; i < simdjson::SIMDJSON_PADDING; ++i) {
    sink = static_cast<unsigned char>(sink ^ static_cast<unsigned char>(p.data()[p.size() + i]));
  }
  simdjson::ondemand::document doc;
  if (auto e = parser
                   .iterate(simdjson::padded_string_view(p.data(), p.size(),
                                                         p.size() + simdjson::SIMDJSON_PADDING))
                   .get(doc)) {
    return e;
  }
  simdjson::ondemand::value v;
  if (auto e = doc.get_value().get(v))
    return e;
  if (auto e = walk(v))
    return e;
  // At the end of the document current_location() reports OUT_OF_BOUNDS; anything else
  // means bytes were left after the value.
  const char *loc = nullptr;
  return doc.current_location().get(loc) == simdjson::OUT_OF_BOUNDS ? simdjson::SUCCESS
                                                                    : simdjson::TRAILING_CONTENT;
}

std::string inflate_gzip(std::string_view in, bool &ok) {
  std::string out;
  z_stream zs{};
  ok = false;
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return out;
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::array<char, 1 << 15> buf{};
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef *>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
  }
  ok = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  return out;
}

bool valid_json_dom(std::string_view s) {
  simdjson::dom::parser parser;
  simdjson::dom::element el;
  return parser.parse(s.data(), s.size(), true).get(el) == simdjson::SUCCESS;
}

// Huobi trade ids (e.g. 100182534526255757567432481) exceed 64 bits, which the DOM parser
// refuses (BIGINT_ERROR); the on-demand walk takes numbers as raw tokens, so it validates
// such text. The text is copied into a padded_string first.
bool valid_json_ondemand(std::string_view s) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string copy(s);
  return iterate_in_place(parser, std::string_view(copy.data(), copy.size())) == simdjson::SUCCESS;
}

struct TempFile {
  fs::path path;
  explicit TempFile(const std::string &name)
      : path(fs::temp_directory_path() /
             ("fh_capture_test_" + std::to_string(::getpid()) + "_" + name)) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  void write(std::string_view bytes) const {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

class CaptureFileTest : public ::testing::Test {
protected:
  // Opens a capture that must load; fails the test otherwise.
  static CaptureFile load(const fs::path &p, std::uint32_t index = 0) {
    auto r = CaptureFile::open(p.string(), index);
    // Test code only: an exception makes GoogleTest report the message and fail the test.
    if (auto *err = std::get_if<Error>(&r))
      throw std::runtime_error(err->message);
    return std::move(std::get<CaptureFile>(r));
  }

  static std::size_t count(const CaptureFile &f, RecordKind k) {
    return static_cast<std::size_t>(std::count_if(f.records().begin(), f.records().end(),
                                                  [k](const Record &r) { return r.kind == k; }));
  }
};

// ---- tests --------------------------------------------------------------------------------

TEST_F(CaptureFileTest, LoadsEveryLineCaptureAndAgreesWithAnIndependentLineClassifier) {
  const auto files = line_captures();
  ASSERT_GE(files.size(), 50u) << "data/ should hold the whole corpus";
  for (const auto &p : files) {
    SCOPED_TRACE(rel(p));
    const CaptureFile f = load(p);
    const bool hft = p.parent_path().filename() == "hftbacktest";
    EXPECT_EQ(f.format(), hft ? Format::Hftbacktest : Format::Cryptofeed);
    EXPECT_EQ(f.skipped_lines(), 0u);
    EXPECT_EQ(f.path(), p.string());

    const auto lines = gzgets_lines(p);
    std::map<RecordKind, std::size_t> expected;
    std::size_t non_empty = 0;
    for (const auto &l : lines) {
      const Kind k = classify(l);
      ASSERT_NE(k, Kind::Other) << l.substr(0, 80);
      if (k == Kind::Empty)
        continue;
      ++non_empty;
      ++expected[to_record_kind(k)];
    }
    ASSERT_EQ(f.records().size(), non_empty);
    for (const auto &[kind, n] : expected) {
      EXPECT_EQ(count(f, kind), n) << "kind " << static_cast<int>(kind);
    }

    // Every record against its own source line: kind, url, payload text, exact timestamp.
    std::int64_t previous_ts = 0;
    for (const Record &r : f.records()) {
      ASSERT_GE(r.line, 1u);
      ASSERT_LE(r.line, lines.size());
      const std::string &l = lines[r.line - 1];
      const Kind k = classify(l);
      ASSERT_EQ(r.kind, to_record_kind(k)) << "line " << r.line;
      EXPECT_EQ(r.file_index, 0u);
      if (k == Kind::Open || k == Kind::Sent || k == Kind::Http) {
        EXPECT_EQ(r.url, l.substr(0, l.find(' '))) << "line " << r.line;
      } else {
        EXPECT_TRUE(r.url.empty());
      }
      if (k == Kind::Config) {
        EXPECT_EQ(r.payload, l.substr(15));
        EXPECT_EQ(r.recv_ts_ns, previous_ts) << "config takes the time of the record before it";
        continue;
      }
      const std::string st = stamp_text(l, k);
      const std::int64_t want = k == Kind::Hft ? std::stoll(st) : seconds_text_to_ns(st);
      EXPECT_EQ(r.recv_ts_ns, want) << "line " << r.line << " stamp " << st;
      previous_ts = r.recv_ts_ns;
      if (k == Kind::Hft) {
        EXPECT_EQ(r.payload, l.substr(l.find(' ') + 1));
      } else if (k == Kind::Text || k == Kind::Sent || k == Kind::Http) {
        EXPECT_EQ(r.payload, l.substr(l.find(": ") + 2)) << "line " << r.line;
      } else if (k == Kind::Open) {
        EXPECT_TRUE(r.payload.empty());
      }
    }
    if (!hft && p.filename().string().find("_ws.") != std::string::npos) {
      EXPECT_EQ(f.ws_url(), lines.front().substr(0, lines.front().find(' ')));
    }
  }
}

TEST_F(CaptureFileTest, ReceivedMessageCountsMatchProvenance) {
  // "messages" column of PROVENANCE.md section 2 (received messages, every channel).
  const std::vector<std::pair<std::string, std::size_t>> table = {
      {"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz", 3777},
      {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz", 1616},
      {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn2_ws.txt.gz", 1559},
      {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn3_ws.txt.gz", 1534},
      {"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz", 4321},
      {"kraken/cryptofeed/trade_2021-04-17_ws.txt.gz", 49},
      {"kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz", 60},
      {"binance/cryptofeed/spot_2021-10-12_ws.txt.gz", 265},
      {"binance/cryptofeed/spot_2021-08-14_ws.txt.gz", 1003},
      {"binance/cryptofeed/usdm_2021-07-22_ws.txt.gz", 1535},
      {"binance/cryptofeed/coinm_2021-07-22_ws.txt.gz", 4371},
      {"binance_us/cryptofeed/spot_2021-10-12_ws.txt.gz", 480},
      {"coinbase/cryptofeed/level2_ticker_matches_2021-04-17_ws.txt.gz", 9946},
      {"bybit/cryptofeed/legacy_linear_orderBookL2_25_trade_2021-04-17_ws.txt.gz", 3342},
      {"deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz", 136},
      {"deribit/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz", 149},
      {"bitfinex/cryptofeed/book_ticker_trades_2021-04-17_ws.txt.gz", 1693},
      {"upbit/cryptofeed/trade_orderbook_2021-04-17_ws.txt.gz", 449},
      {"bithumb/cryptofeed/transaction_orderbookdepth_2021-06-01_ws.txt.gz", 98},
      {"gateio/cryptofeed/spot_2021-04-22_ws.txt.gz", 239},
      {"kucoin/cryptofeed/spot_2021-04-25_ws.txt.gz", 4721},
      {"huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz", 362},
      {"binance/hftbacktest/usdm_btcusdt_20240808.gz", 93954},
      {"binance/hftbacktest/spot_btcusdt_20240808.gz", 41249},
      {"binance/hftbacktest/spot_btcusdt_20240809.gz", 58325},
      {"binance/hftbacktest/coinm_btcusd_perp_20240808.gz", 48270},
      {"binance/hftbacktest/coinm_btcusd_perp_20240809.gz", 50116},
      {"binance/hftbacktest/usdm_btcusdt_20240718.gz", 11414},
      {"binance/hftbacktest/usdm_btcusdt_20240719.gz", 60570},
      {"hyperliquid/hftbacktest/btcusd_20250126.gz", 55},
  };
  for (const auto &[name, messages] : table) {
    SCOPED_TRACE(name);
    const CaptureFile f = load(kData / name);
    EXPECT_EQ(count(f, RecordKind::WsText) + count(f, RecordKind::WsBinary), messages);
  }
  // REST snapshot counts from the same tables ("+ 4 REST snapshots", "+ 10 snapshots", ...).
  const std::vector<std::pair<std::string, std::size_t>> snapshots = {
      {"binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz", 4},
      {"binance/cryptofeed/coinm_2021-07-22_depth_snapshots_http.txt.gz", 10},
      {"gateio/cryptofeed/spot_2021-04-22_order_book_snapshots_http.txt.gz", 10},
      {"kucoin/cryptofeed/spot_2021-04-25_level2_snapshots_http.txt.gz", 9},
  };
  for (const auto &[name, n] : snapshots) {
    SCOPED_TRACE(name);
    EXPECT_EQ(count(load(kData / name), RecordKind::Http), n);
  }
  // okx 2022: the recorder opened once and re-sent its subscribe list (PROVENANCE: "snapshotted
  // twice"); the independent classifier counts the sent lines.
  const CaptureFile okx = load(kData / "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  EXPECT_EQ(count(okx, RecordKind::WsOpen), 1u);
  std::size_t sent = 0;
  for (const auto &l : gzgets_lines(kData / "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz")) {
    sent += classify(l) == Kind::Sent ? 1u : 0u;
  }
  EXPECT_EQ(count(okx, RecordKind::WsSent), sent);
  EXPECT_EQ(okx.ws_url(), "wss://ws.okx.com:8443/ws/v5/public");
}

TEST_F(CaptureFileTest, ConvertsDecimalSecondsToExactNanoseconds) {
  // Line 2 of binance spot 2021-10-12 is stamped "1633998512.0633569"; as a double this is
  // 1633998512.0633568764, so a float conversion would be off by tens of ns.
  const CaptureFile f = load(kData / "binance/cryptofeed/spot_2021-10-12_ws.txt.gz");
  const auto lines = gzgets_lines(kData / "binance/cryptofeed/spot_2021-10-12_ws.txt.gz");
  ASSERT_EQ(lines[1].substr(0, 18), "1633998512.0633569");
  ASSERT_GE(f.records().size(), 2u);
  EXPECT_EQ(f.records()[1].line, 2u);
  EXPECT_EQ(f.records()[1].recv_ts_ns, 1633998512063356900LL);
  EXPECT_EQ(f.records()[1].recv_ts_ns, seconds_text_to_ns("1633998512.0633569"));
  // Line 1 is the open line "wss://... <-> <t>"; its stamp has the same exactness.
  EXPECT_EQ(f.records()[0].kind, RecordKind::WsOpen);
  EXPECT_EQ(f.records()[0].recv_ts_ns, seconds_text_to_ns(stamp_text(lines[0], Kind::Open)));
}

TEST_F(CaptureFileTest, TellsNanosecondFromMicrosecondHftbacktestStamps) {
  // The corpus only has the 19-digit (ns) files; the 16-digit (us) 2023 files are not in it.
  // So the us case is a mechanical change of a real file: the first 500 lines of
  // binance/hftbacktest/usdm_btcusdt_20240808.gz with the last 3 digits of each stamp removed.
  const fs::path src = kData / "binance/hftbacktest/usdm_btcusdt_20240808.gz";
  const auto lines = gzgets_lines(src);
  ASSERT_GE(lines.size(), 500u);
  std::string us_text;
  std::vector<std::int64_t> want;
  for (std::size_t i = 0; i < 500; ++i) {
    const auto sp = lines[i].find(' ');
    ASSERT_EQ(sp, 19u);
    us_text += lines[i].substr(0, 16) + lines[i].substr(sp) + "\n";
    want.push_back(std::stoll(lines[i].substr(0, 16)) * 1000);
  }
  TempFile tmp("us_stamps.txt");
  tmp.write(us_text);
  const CaptureFile us = load(tmp.path);
  EXPECT_EQ(us.format(), Format::Hftbacktest);
  EXPECT_EQ(us.skipped_lines(), 0u);
  ASSERT_EQ(us.records().size(), 500u);
  const CaptureFile ns = load(src);
  for (std::size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(us.records()[i].recv_ts_ns, want[i]);
    EXPECT_EQ(ns.records()[i].recv_ts_ns, std::stoll(lines[i].substr(0, 19)));
    EXPECT_EQ(us.records()[i].payload, ns.records()[i].payload);
  }
}

TEST_F(CaptureFileTest, ReadsConcatenatedGzipMembers) {
  // The two days of one hftbacktest connection joined byte for byte (cat a.gz b.gz): a valid
  // two-member gzip whose trailer gives only the second member's size, so the reader's size
  // hint is short and its buffer must grow. Counts: PROVENANCE 41,249 + 58,325.
  const fs::path a = kData / "binance/hftbacktest/spot_btcusdt_20240808.gz";
  const fs::path b = kData / "binance/hftbacktest/spot_btcusdt_20240809.gz";
  std::string joined;
  for (const auto &p : {a, b}) {
    std::ifstream in(p, std::ios::binary);
    joined.append(std::istreambuf_iterator<char>(in), {});
  }
  TempFile tmp("two_members.gz");
  tmp.write(joined);
  const CaptureFile f = load(tmp.path);
  EXPECT_EQ(f.format(), Format::Hftbacktest);
  EXPECT_EQ(f.skipped_lines(), 0u);
  ASSERT_EQ(f.records().size(), 41249u + 58325u);
  const CaptureFile second = load(b);
  EXPECT_EQ(f.records()[41249].payload, second.records()[0].payload);
  EXPECT_EQ(f.records().back().payload, second.records().back().payload);
  const std::string day1 = gz_read_all(a);
  EXPECT_EQ(f.records()[41249].line,
            static_cast<std::size_t>(std::count(day1.begin(), day1.end(), '\n')) + 1);
}

TEST_F(CaptureFileTest, DecodesUpbitBinaryFramesToJson) {
  const CaptureFile f = load(kData / "upbit/cryptofeed/trade_orderbook_2021-04-17_ws.txt.gz");
  ASSERT_EQ(count(f, RecordKind::WsBinary), 449u); // PROVENANCE: 449 messages, all binary
  for (const Record &r : f.records()) {
    if (r.kind != RecordKind::WsBinary)
      continue;
    EXPECT_TRUE(valid_json_dom(r.payload)) << "line " << r.line;
  }
}

TEST_F(CaptureFileTest, DecodesHuobiBinaryFramesToGzipThatInflatesToJson) {
  const CaptureFile f = load(kData / "huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz");
  ASSERT_EQ(count(f, RecordKind::WsBinary), 362u); // PROVENANCE: 362 messages
  for (const Record &r : f.records()) {
    if (r.kind != RecordKind::WsBinary)
      continue;
    ASSERT_GE(r.payload.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(r.payload[0]), 0x1f) << "line " << r.line;
    EXPECT_EQ(static_cast<unsigned char>(r.payload[1]), 0x8b) << "line " << r.line;
    bool ok = false;
    const std::string json = inflate_gzip(r.payload, ok);
    EXPECT_TRUE(ok) << "line " << r.line;
    EXPECT_TRUE(valid_json_ondemand(json)) << "line " << r.line;
  }
}

TEST_F(CaptureFileTest, RejectsMalformedBytesLiterals) {
  // A real Huobi literal (first binary line of the capture), then mechanical damage to it.
  const auto lines =
      gzgets_lines(kData / "huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz");
  std::string body;
  for (const auto &l : lines) {
    if (classify(l) != Kind::Binary)
      continue;
    const std::string lit = l.substr(l.find(": ") + 2);
    body = lit.substr(2, lit.size() - 3);
    break;
  }
  ASSERT_FALSE(body.empty());
  std::string out;
  ASSERT_TRUE(decode_python_bytes(body, out));
  EXPECT_EQ(out.substr(0, 2), "\x1f\x8b");

  const auto x = body.find("\\x");
  ASSERT_NE(x, std::string::npos);
  std::string bad_hex = body;
  bad_hex[x + 2] = 'g'; // flip one hex digit to a non-hex letter
  EXPECT_FALSE(decode_python_bytes(bad_hex, out));
  EXPECT_FALSE(decode_python_bytes(body.substr(0, x + 1), out)); // cut after a backslash
  EXPECT_FALSE(decode_python_bytes(body.substr(0, x + 3), out)); // cut inside \xNN
  std::string raw_control = body;
  raw_control[x] = '\n'; // a raw control byte replaces the backslash
  EXPECT_FALSE(decode_python_bytes(raw_control, out));
}

TEST_F(CaptureFileTest, LoadsBitfinexJsonArrayElementByElement) {
  const fs::path p = kData / "bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz";
  const CaptureFile f = load(p, 7);
  EXPECT_EQ(f.format(), Format::JsonArray);
  EXPECT_EQ(f.skipped_lines(), 0u);
  ASSERT_EQ(f.records().size(), 100001u); // PROVENANCE: 100,001 messages

  // Independent: DOM-parse the whole array and compare every element, minified.
  const std::string text = gz_read_all(p);
  simdjson::dom::parser dom;
  simdjson::dom::array arr;
  ASSERT_EQ(dom.parse(text).get_array().get(arr), simdjson::SUCCESS);
  ASSERT_EQ(arr.size(), 100001u);
  // Both sides go through the same DOM minifier, so number spelling cannot differ.
  std::size_t i = 0;
  simdjson::dom::parser element_parser;
  for (simdjson::dom::element el : arr) {
    const Record &r = f.records()[i++];
    EXPECT_EQ(r.kind, RecordKind::WsText);
    EXPECT_EQ(r.recv_ts_ns, 0);
    EXPECT_EQ(r.file_index, 7u);
    EXPECT_EQ(r.line, i);
    simdjson::dom::element mine;
    ASSERT_EQ(element_parser.parse(r.payload.data(), r.payload.size(), true).get(mine),
              simdjson::SUCCESS)
        << "element " << i;
    ASSERT_EQ(simdjson::minify(mine), simdjson::minify(el)) << "element " << i;
  }
}

TEST_F(CaptureFileTest, EveryPayloadIsParseableInPlaceWithPadding) {
  std::vector<fs::path> files = line_captures();
  files.push_back(kData / "bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz");
  simdjson::ondemand::parser parser;
  std::size_t parsed = 0;
  for (const auto &p : files) {
    SCOPED_TRACE(rel(p));
    const CaptureFile f = load(p);
    const bool huobi = p.string().find("huobi/") != std::string::npos;
    for (const Record &r : f.records()) {
      ASSERT_NE(r.payload.data(), nullptr) << "line " << r.line;
      if (r.kind == RecordKind::WsOpen) {
        // Empty, but still points at readable padded storage.
        volatile char c = r.payload.data()[simdjson::SIMDJSON_PADDING - 1];
        static_cast<void>(c);
        continue;
      }
      if (r.kind == RecordKind::WsBinary && huobi) {
        // gzip bytes, not JSON: check the padding is readable, then parse what they inflate to.
        volatile char c = r.payload.data()[r.payload.size() + simdjson::SIMDJSON_PADDING - 1];
        static_cast<void>(c);
        continue;
      }
      ASSERT_EQ(iterate_in_place(parser, r.payload), simdjson::SUCCESS) << "line " << r.line;
      ++parsed;
    }
  }
  EXPECT_GT(parsed, 500000u);
}

TEST_F(CaptureFileTest, ViewsSurviveMovingTheCaptureFile) {
  auto r = CaptureFile::open(
      (kData / "huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz").string());
  ASSERT_TRUE(std::holds_alternative<CaptureFile>(r));
  std::vector<CaptureFile> files;
  files.push_back(std::move(std::get<CaptureFile>(r)));
  files.push_back(load(kData / "upbit/cryptofeed/trade_orderbook_2021-04-17_ws.txt.gz"));
  files.reserve(16); // forces the vector to move both elements again
  std::size_t checked = 0;
  for (const CaptureFile &f : files) {
    for (const Record &rec : f.records()) {
      if (rec.kind != RecordKind::WsBinary)
        continue;
      ++checked;
      if (&f == &files[0]) { // Huobi: gzip bytes
        bool ok = false;
        const std::string json = inflate_gzip(rec.payload, ok);
        EXPECT_TRUE(ok && valid_json_ondemand(json)) << "line " << rec.line;
      } else { // Upbit: JSON bytes
        EXPECT_TRUE(valid_json_dom(rec.payload)) << "line " << rec.line;
      }
    }
  }
  EXPECT_EQ(checked, 362u + 449u); // PROVENANCE message counts of the two captures
  EXPECT_EQ(files[0].ws_url(), "wss://api.huobi.pro/ws");
}

TEST_F(CaptureFileTest, MergesRestSnapshotsBetweenWebSocketMessagesByTime) {
  const fs::path dir = kData / "binance/cryptofeed";
  std::vector<CaptureFile> files;
  files.push_back(load(dir / "spot_2021-10-12_ws.txt.gz", 0));
  files.push_back(load(dir / "spot_2021-10-12_depth_snapshots_http.txt.gz", 1));
  files.push_back(load(dir / "spot_2021-10-12_exchangeInfo_http.txt.gz", 2));
  const auto merged = merge_by_time(files);
  ASSERT_EQ(merged.size(),
            files[0].records().size() + files[1].records().size() + files[2].records().size());

  for (std::size_t i = 1; i < merged.size(); ++i) {
    const Record &a = *merged[i - 1];
    const Record &b = *merged[i];
    ASSERT_LE(a.recv_ts_ns, b.recv_ts_ns);
    if (a.recv_ts_ns == b.recv_ts_ns) {
      ASSERT_TRUE(a.file_index < b.file_index || (a.file_index == b.file_index && a.line < b.line));
    }
  }
  // Each snapshot comes right after exactly the ws records that are not later than it
  // (independently: count them from the ws file alone).
  std::size_t snapshots = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    const Record &r = *merged[i];
    if (r.file_index != 1)
      continue;
    ++snapshots;
    const auto ws_before = std::count_if(merged.begin(), merged.begin() + static_cast<long>(i),
                                         [](const Record *x) { return x->file_index == 0; });
    const auto ws_not_later =
        std::count_if(files[0].records().begin(), files[0].records().end(),
                      [&r](const Record &x) { return x.recv_ts_ns <= r.recv_ts_ns; });
    EXPECT_EQ(ws_before, ws_not_later) << url_param(r.url, "symbol");
    EXPECT_GT(ws_before, 1) << "the snapshot is requested after the symbol's first ws message";
  }
  EXPECT_EQ(snapshots, 4u);
  // The exchangeInfo response (fetched before the ws connection opened) comes first, the
  // configuration line (written with it) right after it.
  EXPECT_EQ(merged[0]->file_index, 2u);
  EXPECT_EQ(merged[0]->kind, RecordKind::Http);
  EXPECT_EQ(merged[1]->file_index, 2u);
  EXPECT_EQ(merged[1]->kind, RecordKind::Config);
}

TEST_F(CaptureFileTest, MergeKeepsUntimedJsonArrayRecordsInOrder) {
  std::vector<CaptureFile> files;
  files.push_back(load(kData / "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz", 0));
  files.push_back(load(kData / "bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz", 1));
  const auto merged = merge_by_time(files);
  ASSERT_EQ(merged.size(), files[0].records().size() + 100001u);
  for (std::size_t i = 0; i < 100001u; ++i) {
    ASSERT_EQ(merged[i], &files[1].records()[i]);
  }
  EXPECT_EQ(merged[100001u], &files[0].records()[0]);
}

TEST_F(CaptureFileTest, ExtractsQueryParametersFromRecordedRestUrls) {
  const CaptureFile f =
      load(kData / "binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz");
  std::set<std::string> symbols;
  for (const Record &r : f.records()) {
    if (r.kind != RecordKind::Http)
      continue;
    symbols.emplace(url_param(r.url, "symbol"));
    EXPECT_EQ(url_param(r.url, "limit"), "1000");
    EXPECT_TRUE(url_param(r.url, "sym").empty()); // a key prefix is not the key
    EXPECT_TRUE(url_param(r.url, "depth").empty());
  }
  // PROVENANCE: spot NKNUSDT, BLZETH, LRCBTC, RUNEEUR.
  EXPECT_EQ(symbols, (std::set<std::string>{"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"}));
  const CaptureFile info =
      load(kData / "binance/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz");
  EXPECT_TRUE(url_param(info.records()[0].url, "symbol").empty()); // no query at all
}

// .zip captures (one member, Bybit's historical file) are read: bybit_capture_test.cpp.

TEST_F(CaptureFileTest, MissingFileErrorNamesThePath) {
  const std::string p = (kData / "okx/cryptofeed/no_such_capture_ws.txt.gz").string();
  const auto r = CaptureFile::open(p);
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_NE(std::get<Error>(r).message.find(p), std::string::npos) << std::get<Error>(r).message;
  EXPECT_EQ(std::get<Error>(r).message.find('\n'), std::string::npos);
}

TEST_F(CaptureFileTest, RefusesNonCaptureFiles) {
  // The IEX pcap is real data but no capture text format.
  const auto r = CaptureFile::open((kData / "pcap/iex_DEEP10_sample.pcap.gz").string());
  ASSERT_TRUE(std::holds_alternative<Error>(r));
}

TEST_F(CaptureFileTest, TruncatedCaptureLoadsCompleteLinesAndSkipsTheCutLine) {
  // Mechanical truncation of a real capture: the decompressed okx 2022 text cut 40 bytes into
  // line 1000, written as a plain file. Policy (capture.hpp): a last line without '\n' was cut
  // by an interrupted write, so it is not loaded and counts as the one skipped line.
  const fs::path src = kData / "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
  const std::string text = gz_read_all(src);
  std::size_t start_of_1000 = 0;
  for (int n = 1; n < 1000; ++n)
    start_of_1000 = text.find('\n', start_of_1000) + 1;
  const std::size_t cut = start_of_1000 + 40;
  ASSERT_LT(cut, text.find('\n', start_of_1000));
  TempFile tmp("truncated_ws.txt");
  tmp.write(std::string_view(text).substr(0, cut));

  const CaptureFile f = load(tmp.path);
  EXPECT_EQ(f.format(), Format::Cryptofeed);
  EXPECT_EQ(f.skipped_lines(), 1u);
  EXPECT_EQ(f.first_skipped_line(), 1000u);
  bool unterminated = false;
  const auto lines = gzgets_lines(tmp.path, &unterminated); // gzgets reads plain files too
  ASSERT_TRUE(unterminated);
  ASSERT_EQ(lines.size(), 1000u);
  std::size_t complete = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    complete += lines[i].empty() ? 0u : 1u;
  ASSERT_EQ(f.records().size(), complete);
  EXPECT_EQ(f.records().back().line, 999u);

  // The same cut on the compressed bytes: the gzip stream itself is damaged, which is an error.
  std::string gz_bytes;
  {
    std::ifstream in(src, std::ios::binary);
    gz_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  TempFile tmp_gz("truncated_ws.txt.gz");
  tmp_gz.write(std::string_view(gz_bytes).substr(0, gz_bytes.size() / 2));
  const auto r = CaptureFile::open(tmp_gz.path.string());
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_NE(std::get<Error>(r).message.find("truncated"), std::string::npos)
      << std::get<Error>(r).message;
}

} // namespace
} // namespace fh::capture
