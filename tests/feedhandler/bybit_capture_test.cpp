// labels: unit
// Reading Bybit's historical .zip (PROVENANCE.md C: one member of JSON lines, no receive
// times) with CaptureFile. The expected bytes come from the archive itself, decoded here
// without libzip: the member is stored uncompressed, so its bytes follow the local file header
// (PKWARE APPNOTE 4.3.7), and the header's CRC-32 is checked with zlib.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <unistd.h>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::capture {
namespace {

const std::string kZip =
    std::string(FH_DATA_DIR) + "/bybit/nautilus/2024-12-01_XRPUSDT_ob500.data.zip";

std::string read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::uint32_t le(std::string_view b, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8U | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

class BybitZipCaptureTest : public ::testing::Test {
protected:
  void SetUp() override {
    zip_ = read_bytes(kZip);
    ASSERT_GT(zip_.size(), 30u);
    ASSERT_EQ(zip_.substr(0, 4), std::string("PK\x03\x04", 4));
    ASSERT_EQ(le(zip_, 8, 2), 0u); // method 0: stored
    const std::uint32_t crc = le(zip_, 14, 4);
    const std::uint32_t size = le(zip_, 22, 4);
    ASSERT_EQ(le(zip_, 18, 4), size); // compressed == uncompressed when stored
    data_at_ = 30 + le(zip_, 26, 2) + le(zip_, 28, 2);
    member_ = zip_.substr(data_at_, size);
    ASSERT_EQ(member_.size(), size);
    ASSERT_EQ(crc32(0L, reinterpret_cast<const Bytef *>(member_.data()),
                    static_cast<uInt>(member_.size())),
              crc);
  }

  std::string temp_file(const std::string &name, const std::string &bytes) {
    const std::string path = ::testing::TempDir() + "fh-bybit-" + std::to_string(::getpid()) + name;
    std::ofstream(path, std::ios::binary) << bytes;
    temps_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto &p : temps_)
      std::remove(p.c_str());
  }

  std::string zip_, member_;
  std::size_t data_at_ = 0;
  std::vector<std::string> temps_;
};

TEST_F(BybitZipCaptureTest, ReadsTheSingleMemberAsJsonLinesWithoutReceiveTimes) {
  auto opened = CaptureFile::open(kZip, 3);
  ASSERT_TRUE(std::holds_alternative<CaptureFile>(opened)) << std::get<Error>(opened).message;
  const CaptureFile &f = std::get<CaptureFile>(opened);
  EXPECT_EQ(f.format(), Format::JsonArray); // bare messages, ts 0, file order
  EXPECT_EQ(f.skipped_lines(), 0u);
  EXPECT_TRUE(f.ws_url().empty());
  // The member's lines, split here on its CRLF endings.
  std::vector<std::string_view> lines;
  const std::string_view text(member_);
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find("\r\n", pos);
    ASSERT_NE(end, std::string_view::npos) << "every line of the file ends with CRLF";
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  ASSERT_EQ(lines.size(), 50u); // u 20254869..20254918 (PROVENANCE.md)
  ASSERT_EQ(f.records().size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Record &r = f.records()[i];
    EXPECT_EQ(r.kind, RecordKind::WsText);
    EXPECT_EQ(r.recv_ts_ns, 0);
    EXPECT_EQ(r.file_index, 3u);
    EXPECT_EQ(r.line, i + 1);
    EXPECT_EQ(r.payload, lines[i]);
  }
  // The payloads point into the decompressed member: the last one is followed by its CRLF (and
  // then the padding simdjson needs).
  const Record &last = f.records().back();
  EXPECT_EQ(std::string_view(last.payload.data() + last.payload.size(), 2), "\r\n");
}

TEST_F(BybitZipCaptureTest, RefusesATruncatedArchive) {
  // The real archive cut in half: no central directory.
  const std::string path = temp_file("half.zip", zip_.substr(0, zip_.size() / 2));
  auto opened = CaptureFile::open(path);
  ASSERT_TRUE(std::holds_alternative<Error>(opened));
  const std::string &msg = std::get<Error>(opened).message;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST_F(BybitZipCaptureTest, RefusesAMemberWhoseBytesNoLongerMatchItsCrc) {
  // One byte of the stored member changed ('{' of its second line -> '['): the archive's
  // structure is intact, only the CRC-32 tells.
  std::string damaged = zip_;
  const std::size_t second_line = data_at_ + member_.find("\r\n") + 2;
  ASSERT_EQ(damaged[second_line], '{');
  damaged[second_line] = '[';
  const std::string path = temp_file("crc.zip", damaged);
  auto opened = CaptureFile::open(path);
  ASSERT_TRUE(std::holds_alternative<Error>(opened));
  EXPECT_NE(std::get<Error>(opened).message.find("damaged"), std::string::npos)
      << std::get<Error>(opened).message;
}

TEST_F(BybitZipCaptureTest, ReadsTheSameJsonLinesFromAPlainFile) {
  // The member written out as it is: JSON lines are detected by content, not by the archive.
  const std::string path = temp_file("plain.data", member_);
  auto opened = CaptureFile::open(path);
  ASSERT_TRUE(std::holds_alternative<CaptureFile>(opened)) << std::get<Error>(opened).message;
  auto zipped = CaptureFile::open(kZip);
  ASSERT_TRUE(std::holds_alternative<CaptureFile>(zipped));
  const auto &a = std::get<CaptureFile>(opened).records();
  const auto &b = std::get<CaptureFile>(zipped).records();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].payload, b[i].payload);
}

} // namespace
} // namespace fh::capture
