// labels: replay
// `fh-replay --pcap` as a user runs it on the real IEX DEEP capture: the last stdout line is the
// usual summary JSON plus packets, messages_by_type and seq_gaps, with PROVENANCE.md's counts;
// unusable input exits 2 with a reason.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

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
  const auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  const auto start = s.rfind('\n', end);
  const std::size_t from = start == std::string::npos ? 0 : start + 1;
  return s.substr(from, end - from + 1);
}

const std::string kIex = std::string(FH_DATA_DIR) + "/pcap/iex_DEEP10_sample.pcap.gz";

class FhReplayPcapCli : public ::testing::Test {};

TEST_F(FhReplayPcapCli, PrintsTheSummaryWithPacketsMessagesByTypeAndSeqGaps) {
  const Outcome r = run_cli("--no-progress --depth 1 --pcap " + kIex);
  ASSERT_EQ(r.status, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string line = last_line(r.out);
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  // The usual summary's fields are all there.
  for (const char* field : {"messages", "events", "instruments", "books_synced", "books_stale",
                            "checksum_ok", "checksum_fail", "seq_gaps", "resyncs", "parse_errors",
                            "unknown_instruments", "book_messages", "trades", "crossed"}) {
    std::uint64_t v = 0;
    EXPECT_EQ(doc[field].get(v), simdjson::SUCCESS) << field;
  }
  // PROVENANCE.md: 121,315 packets, 11 sequence/offset gaps, 7,937 heartbeats, per-type counts.
  EXPECT_EQ(doc["packets"].get_uint64().value(), 121315u);
  EXPECT_EQ(doc["packets_truncated"].get_uint64().value(), 1u); // PROVENANCE.md: 1 odd packet
  EXPECT_EQ(doc["seq_gaps"].get_uint64().value(), 11u);
  EXPECT_EQ(doc["heartbeats"].get_uint64().value(), 7937u);
  simdjson::dom::object by_type;
  ASSERT_EQ(doc["messages_by_type"].get(by_type), simdjson::SUCCESS);
  EXPECT_EQ(by_type["T"].get_uint64().value(), 83343u);
  EXPECT_EQ(by_type["8"].get_uint64().value(), 12941u);
  EXPECT_EQ(by_type["5"].get_uint64().value(), 14627u);
  EXPECT_EQ(by_type["P"].get_uint64().value(), 93636u);
  std::uint64_t sum = 0;
  for (auto [key, value] : by_type) sum += value.get_uint64().value();
  // 392,043 (PROVENANCE.md) counts the 44 messages the truncated last packet declares; the file
  // ends inside that packet, so none of them is decoded.
  EXPECT_EQ(sum, 392043u - 44u);
  EXPECT_EQ(doc["messages"].get_uint64().value(), sum);
  EXPECT_EQ(doc["datagrams"].get_uint64().value(), 121314u);
  EXPECT_EQ(doc["seq_gap_detail"]["restarts"].get_uint64().value(), 11u);
  EXPECT_EQ(doc["seq_gap_detail"]["lost_messages"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["trades"].get_uint64().value(), 83343u);
  EXPECT_EQ(doc["iex"]["protocol"].get_string().value(), "DEEP 1.0");
  EXPECT_EQ(doc["parse_errors"].get_uint64().value(), 0u);
  // Books were printed before the JSON line, under the canonical equity names.
  EXPECT_NE(r.out.find("iex:ZIEXT-USD (ZIEXT)"), std::string::npos);
}

TEST_F(FhReplayPcapCli, StrictUdpChecksumsRefuseTheCapturesOffloadPlaceholders) {
  const Outcome r = run_cli("--no-progress --depth 0 --strict-udp-checksum --pcap " + kIex);
  ASSERT_EQ(r.status, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(last_line(r.out)).get(doc), simdjson::SUCCESS);
  const std::uint64_t refused = doc["udp"]["udp_checksum"].get_uint64().value();
  const std::uint64_t verified = doc["udp"]["checksum_verified"].get_uint64().value();
  EXPECT_EQ(refused + verified, 121314u);
  EXPECT_GT(refused, 121000u); // the capture was taken on the sending host (udp_packet_test)
}

TEST_F(FhReplayPcapCli, UnusableInputExitsTwo) {
  EXPECT_EQ(run_cli("--pcap " + std::string(FH_DATA_DIR) + "/pcap/missing.pcap").status, 2);
  EXPECT_EQ(run_cli("--pcap " + std::string(FH_DATA_DIR) + "/PROVENANCE.md").status, 2);
  EXPECT_EQ(run_cli("--pcap " + kIex + " " + kIex).status, 2); // no other inputs with --pcap
}

} // namespace
