// labels: replay
// fh-replay as a user runs it: the last stdout line is one JSON object with the stable field
// names, values match the venue's oracles, and unusable input exits non-zero with a reason.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run_cli(const std::string& args) {
  const std::string cmd = std::string(FH_BINARY_DIR) + "/tools/fh-replay " + args + " 2>/dev/null";
  Outcome r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int rc = pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

std::string last_line(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  auto start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

const std::string kData = FH_DATA_DIR;

TEST(FhReplayCli, PrintsTheSummaryJsonLastWithStableFieldNames) {
  const Outcome r = run_cli("--venue kraken --input " + kData + "/kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz --input " +
                    kData + "/kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz");
  ASSERT_EQ(r.status, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(last_line(r.out)).get(doc), simdjson::SUCCESS) << last_line(r.out);
  for (const char* field : {"messages", "events", "instruments", "books_synced", "books_stale",
                            "checksum_ok", "checksum_fail", "seq_gaps", "resyncs", "bbo_checks_ok",
                            "bbo_checks_fail", "parse_errors", "unknown_instruments"}) {
    std::uint64_t v = 0;
    EXPECT_EQ(doc[field].get(v), simdjson::SUCCESS) << field;
  }
  double elapsed = -1;
  EXPECT_EQ(doc["elapsed_s"].get(elapsed), simdjson::SUCCESS);
  EXPECT_EQ(doc["checksum_ok"].get_uint64().value(), 4269u);
  EXPECT_EQ(doc["checksum_fail"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["books_synced"].get_uint64().value(), 10u);
  simdjson::dom::array per;
  ASSERT_EQ(doc["per_instrument"].get(per), simdjson::SUCCESS);
  EXPECT_EQ(per.size(), 10u);
  bool found = false;
  for (auto inst : per) {
    std::string_view name, state, bid, ask;
    ASSERT_EQ(inst["instrument"].get(name), simdjson::SUCCESS);
    ASSERT_EQ(inst["state"].get(state), simdjson::SUCCESS);
    ASSERT_EQ(inst["best_bid"].get(bid), simdjson::SUCCESS);
    ASSERT_EQ(inst["best_ask"].get(ask), simdjson::SUCCESS);
    EXPECT_EQ(state, "synced");
    EXPECT_LT(std::stod(std::string(bid)), std::stod(std::string(ask))) << name;
    found = found || name == "kraken:BTC-CHF";
  }
  EXPECT_TRUE(found) << "XBT/CHF should be canonical BTC-CHF";
}

TEST(FhReplayCli, TakesTheVenueFromTheCaptureUrl) {
  const Outcome r = run_cli("--depth 0 " + kData + "/okx/cryptofeed/books-l2-tbt_2021-07-22_conn2_ws.txt.gz " + kData +
                    "/okx/cryptofeed/instruments_2021-07-22_http.txt.gz");
  ASSERT_EQ(r.status, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(last_line(r.out)).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["checksum_ok"].get_uint64().value(), 1446u);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "--depth 0 prints only the summary";
}

TEST(FhReplayCli, UnusableInputExitsNonZero) {
  EXPECT_EQ(run_cli("/nonexistent/capture.gz").status, 2);
  EXPECT_EQ(run_cli("--venue nosuchvenue " + kData + "/kraken/cryptofeed/trade_2021-04-17_ws.txt.gz").status, 2);
  EXPECT_EQ(run_cli("").status, 2);
}

} // namespace
