// labels: unit replay
// PcapReader over the two real captures in data/pcap: every record comes out with the bytes and
// times an independent walk of the file format finds (classic pcap: 24-byte file header, 16-byte
// record headers; pcapng: blocks, enhanced packet blocks counted), with the counts PROVENANCE.md
// states, and damaged or foreign files are refused with a reason.
#include <gtest/gtest.h>

#include <cstring>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "net/pcap_reader.hpp"
#include "tests/support/pcap_frames.hpp"

namespace fh::test {
namespace {

std::int64_t utc_seconds(int y, int mo, int d, int h, int mi, int s) {
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&t));
}

class PcapReaderTest : public ::testing::Test {};

TEST_F(PcapReaderTest, ReadsEveryRecordOfTheGzippedIexCaptureAsTheFileFormatHasThem) {
  const std::vector<std::uint8_t> file = inflate_file(kIexCapture);
  const ClassicWalk walk = walk_classic(file);
  const std::vector<RawRecord>& raw = walk.whole;
  // PROVENANCE.md: 121,315 packets, 1 truncated/odd: the last record's header promises more
  // bytes than the file has (the file was cut inside it).
  ASSERT_TRUE(walk.cut_tail);
  EXPECT_EQ(raw.size() + 1, 121315u);
  EXPECT_LT(walk.tail.size(), walk.tail_caplen);

  auto opened = net::PcapReader::open(kIexCapture);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  EXPECT_TRUE(reader.compressed());
  EXPECT_EQ(reader.link_type(), net::kLinkEthernet); // PROVENANCE.md: Ethernet
  EXPECT_EQ(reader.file_bytes(), file.size());
  net::PcapPacket p;
  std::size_t i = 0;
  net::PcapNext last;
  while ((last = reader.next(p)) == net::PcapNext::Packet) {
    ASSERT_LT(i, raw.size());
    ASSERT_EQ(p.caplen, raw[i].caplen) << "record " << i;
    ASSERT_EQ(p.wire_len, raw[i].wire_len) << "record " << i;
    ASSERT_EQ(p.ts_ns, raw[i].ts_ns) << "record " << i;
    ASSERT_EQ(std::memcmp(p.data, &file[raw[i].offset], p.caplen), 0) << "record " << i;
    ++i;
  }
  EXPECT_EQ(i, raw.size());
  EXPECT_EQ(reader.records(), raw.size());
  // The cut record is reported as such, not delivered.
  EXPECT_EQ(last, net::PcapNext::Error);
  EXPECT_TRUE(reader.truncated_record()) << reader.error();
  EXPECT_NE(reader.error().find("iex_DEEP10_sample"), std::string::npos);
  // PROVENANCE.md: 2017-04-25 15:03:18 -> 19:51 capture time.
  EXPECT_EQ(raw.front().ts_ns / 1'000'000'000, utc_seconds(2017, 4, 25, 15, 3, 18));
  EXPECT_EQ(raw.back().ts_ns / 1'000'000'000 / 60, utc_seconds(2017, 4, 25, 19, 51, 0) / 60);
}

TEST_F(PcapReaderTest, ReadsThePcapngCaptureWithEveryEnhancedPacketBlock) {
  // Independent count: walk the pcapng blocks (type, total length) and count type 6 (EPB).
  const std::vector<std::uint8_t> file = inflate_file(kDeribitCapture); // plain file: copied
  std::size_t at = 0, epbs = 0;
  std::set<std::uint32_t> block_types;
  while (at + 12 <= file.size()) {
    const std::uint32_t type = file_le32(&file[at]);
    const std::uint32_t len = file_le32(&file[at + 4]);
    ASSERT_GE(len, 12u);
    block_types.insert(type);
    if (type == 6) ++epbs;
    at += len;
  }
  EXPECT_EQ(at, file.size());
  EXPECT_EQ(epbs, 5066u); // PROVENANCE.md: 5,066 UDP packets

  auto opened = net::PcapReader::open(kDeribitCapture);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  EXPECT_FALSE(reader.compressed());
  EXPECT_EQ(reader.link_type(), net::kLinkEthernet);
  net::PcapPacket p;
  std::size_t n = 0;
  while (reader.next(p) == net::PcapNext::Packet) ++n;
  EXPECT_EQ(n, epbs);
  // PROVENANCE.md: 2023-06-15 19:42:29, 80.7 s.
  auto first = load_frames(kDeribitCapture);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.front().ts_ns / 1'000'000'000, utc_seconds(2023, 6, 15, 19, 42, 29));
  EXPECT_NEAR(static_cast<double>(first.back().ts_ns - first.front().ts_ns) / 1e9, 80.7, 0.05);
}

TEST_F(PcapReaderTest, ReadsTheSameRecordsFromBytesAlreadyInMemory) {
  std::vector<std::uint8_t> file = inflate_file(kIexCapture);
  const std::vector<RawRecord> raw = walk_classic(file).whole;
  auto opened = net::PcapReader::open_bytes(file, "iex in memory");
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  net::PcapPacket p;
  std::size_t n = 0;
  while (reader.next(p) == net::PcapNext::Packet) ++n;
  EXPECT_EQ(n, raw.size());
}

TEST_F(PcapReaderTest, ReportsDamageWhenTheFileIsCutInsideARecord) {
  std::vector<std::uint8_t> file = inflate_file(kIexCapture);
  const std::vector<RawRecord> raw = walk_classic(file).whole;
  ASSERT_GT(raw.size(), 1000u);
  // Mechanically cut the file 10 bytes into record 1000's data.
  file.resize(raw[1000].offset + 10);
  auto opened = net::PcapReader::open_bytes(file, "cut.pcap");
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  net::PcapPacket p;
  std::size_t n = 0;
  net::PcapNext last;
  while ((last = reader.next(p)) == net::PcapNext::Packet) ++n;
  EXPECT_EQ(n, 1000u); // every whole record before the cut
  EXPECT_EQ(last, net::PcapNext::Error);
  EXPECT_TRUE(reader.truncated_record());
  EXPECT_NE(reader.error().find("cut.pcap"), std::string::npos) << reader.error();
}

TEST_F(PcapReaderTest, ReportsAPcapngFileCutInsideABlock) {
  std::vector<std::uint8_t> file = inflate_file(kDeribitCapture);
  // Mechanically cut the file in the middle (inside some block).
  file.resize(file.size() / 2);
  auto opened = net::PcapReader::open_bytes(file, "cut.pcapng");
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  net::PcapPacket p;
  std::size_t n = 0;
  net::PcapNext last;
  while ((last = reader.next(p)) == net::PcapNext::Packet) ++n;
  EXPECT_GT(n, 1000u);
  EXPECT_LT(n, 5066u);
  EXPECT_EQ(last, net::PcapNext::Error);
  EXPECT_TRUE(reader.truncated_record()) << reader.error();
}

TEST_F(PcapReaderTest, RefusesFilesThatAreNotCaptures) {
  auto missing = net::PcapReader::open(std::string(FH_DATA_DIR) + "/pcap/no_such_file.pcap");
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("no_such_file"), std::string::npos);

  // A real text file of the corpus, not a capture.
  const std::string text = std::string(FH_DATA_DIR) + "/PROVENANCE.md";
  auto wrong = net::PcapReader::open(text);
  ASSERT_TRUE(std::holds_alternative<std::string>(wrong));
  EXPECT_NE(std::get<std::string>(wrong).find("PROVENANCE.md"), std::string::npos);

  auto empty = net::PcapReader::open_bytes({}, "empty.pcap");
  ASSERT_TRUE(std::holds_alternative<std::string>(empty));

  // A capture cut inside its file header (mechanically: its first 20 bytes only).
  std::vector<std::uint8_t> head = inflate_file(kIexCapture);
  head.resize(20);
  auto cut = net::PcapReader::open_bytes(head, "header.pcap");
  EXPECT_TRUE(std::holds_alternative<std::string>(cut));
}

} // namespace
} // namespace fh::test
