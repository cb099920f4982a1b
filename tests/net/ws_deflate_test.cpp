// labels: unit net
// permessage-deflate and payload inflation (net/ws_deflate.hpp). Protocol vectors are RFC 7692
// section 7.2.3's compressed "Hello" examples. Market data is real: OKX and Binance messages
// from data/ compressed here with zlib the way a server does it (raw deflate, sync flush,
// tail 00 00 ff ff removed; RFC 7692 7.2.1), and Huobi's recorded gzip binary frames
// (data/huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz, 362 frames per PROVENANCE.md).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "net/ws_client.hpp"
#include "net/ws_deflate.hpp"
#include "net/ws_frame.hpp"

namespace {

using namespace fh::net;
using Bytes = std::vector<std::uint8_t>;

std::string str(std::span<const std::uint8_t> s) { return std::string(s.begin(), s.end()); }

std::vector<fh::capture::Record> records(const char *rel, fh::capture::CaptureFile *&keep) {
  static std::vector<std::unique_ptr<fh::capture::CaptureFile>> files; // views live here
  auto opened = fh::capture::CaptureFile::open(std::string(FH_DATA_DIR) + "/" + rel);
  if (auto *err = std::get_if<fh::capture::Error>(&opened)) {
    ADD_FAILURE() << err->message;
    return {};
  }
  files.push_back(
      std::make_unique<fh::capture::CaptureFile>(std::move(std::get<fh::capture::CaptureFile>(opened))));
  keep = files.back().get();
  return keep->records();
}

std::vector<std::string> texts(const char *rel) {
  fh::capture::CaptureFile *f = nullptr;
  std::vector<std::string> out;
  for (const auto &r : records(rel, f))
    if (r.kind == fh::capture::RecordKind::WsText) out.emplace_back(r.payload);
  return out;
}

const std::vector<std::string> &okx() {
  static const auto m = texts("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  return m;
}

// What a permessage-deflate server does per message (RFC 7692 7.2.1): raw deflate, sync
// flush, drop the trailing 00 00 ff ff. With context takeover the deflater lives on.
class ServerDeflater {
public:
  explicit ServerDeflater(bool no_context_takeover) : nct_(no_context_takeover) {
    EXPECT_EQ(deflateInit2(&s_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  }
  ~ServerDeflater() { deflateEnd(&s_); }
  Bytes compress(std::string_view msg) {
    if (nct_) deflateReset(&s_);
    Bytes out(deflateBound(&s_, msg.size()) + 16);
    s_.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(msg.data()));
    s_.avail_in = static_cast<uInt>(msg.size());
    s_.next_out = out.data();
    s_.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&s_, Z_SYNC_FLUSH), Z_OK);
    EXPECT_EQ(s_.avail_in, 0u);
    out.resize(out.size() - s_.avail_out);
    EXPECT_GE(out.size(), 4u);
    EXPECT_EQ(Bytes(out.end() - 4, out.end()), (Bytes{0x00, 0x00, 0xff, 0xff}));
    out.resize(out.size() - 4);
    return out;
  }

private:
  z_stream s_{};
  bool nct_;
};

Bytes server_frame(std::uint8_t first_byte, std::span<const std::uint8_t> payload) {
  Bytes f{first_byte};
  const std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 65536) {
    f.push_back(126);
    f.push_back(static_cast<std::uint8_t>(n >> 8));
    f.push_back(static_cast<std::uint8_t>(n & 0xff));
  } else {
    f.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<std::uint8_t>((std::uint64_t{n} >> shift) & 0xff));
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

class WsDeflateTest : public ::testing::Test {};

// --- RFC 7692 7.2.3 --------------------------------------------------------------------------

TEST_F(WsDeflateTest, InflatesRfcCompressedHelloInOneAndTwoFrames) {
  // 7.2.3.1: a message "Hello" in one frame and the same message in two fragments.
  const Bytes one = {0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  const Bytes two = {0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00};
  for (const Bytes *f : {&one, &two}) {
    WsFrameParser p(WsFrameConfig{1024, true, false});
    const WsFrameEvent ev = p.next(*f);
    ASSERT_EQ(ev.type, WsEventType::Text);
    ASSERT_TRUE(ev.compressed);
    WsInflater inf(1024, false);
    std::span<const std::uint8_t> out;
    ASSERT_EQ(inf.inflate(ev.payload, out), WsInflateStatus::Ok);
    EXPECT_EQ(str(out), "Hello");
  }
}

TEST_F(WsDeflateTest, InflatesRfcSecondHelloUsingTheSharedWindow) {
  // 7.2.3.2: with context takeover the second "Hello" is a back-reference: f2 00 11 00 00.
  WsInflater inf(1024, false);
  std::span<const std::uint8_t> out;
  const Bytes first = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  const Bytes second = {0xf2, 0x00, 0x11, 0x00, 0x00};
  ASSERT_EQ(inf.inflate(first, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), "Hello");
  ASSERT_EQ(inf.inflate(second, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), "Hello");
  // Without context takeover the same bytes refer to a window that was dropped.
  WsInflater fresh(1024, true);
  ASSERT_EQ(fresh.inflate(first, out), WsInflateStatus::Ok);
  EXPECT_NE(fresh.inflate(second, out), WsInflateStatus::Ok);
}

TEST_F(WsDeflateTest, InflatesRfcStoredBlockAndBfinalForms) {
  // 7.2.3.3: "Hello" in a non-compressed block; 7.2.3.4: the same as a final block (BFINAL).
  const Bytes stored = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00};
  const Bytes bfinal = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00};
  WsInflater inf(1024, false);
  std::span<const std::uint8_t> out;
  ASSERT_EQ(inf.inflate(stored, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), "Hello");
  ASSERT_EQ(inf.inflate(bfinal, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), "Hello");
  // The stream starts afresh after a final block.
  const Bytes first = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
  ASSERT_EQ(inf.inflate(first, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), "Hello");
}

// --- real messages ---------------------------------------------------------------------------

TEST_F(WsDeflateTest, RoundTripsRealMessagesWithContextTakeover) {
  ServerDeflater server(false);
  WsInflater inf(1 << 20, false);
  std::size_t wire = 0, plain = 0;
  for (const auto &m : okx()) {
    const Bytes z = server.compress(m);
    std::span<const std::uint8_t> out;
    ASSERT_EQ(inf.inflate(z, out), WsInflateStatus::Ok);
    ASSERT_EQ(str(out), m);
    wire += z.size();
    plain += m.size();
  }
  EXPECT_LT(wire * 3, plain); // the shared window is really in use
}

TEST_F(WsDeflateTest, RoundTripsRealMessagesWithoutContextTakeover) {
  ServerDeflater server(true);
  WsInflater inf(1 << 20, true);
  for (const auto &m : okx()) {
    std::span<const std::uint8_t> out;
    ASSERT_EQ(inf.inflate(server.compress(m), out), WsInflateStatus::Ok);
    ASSERT_EQ(str(out), m);
  }
}

TEST_F(WsDeflateTest, ResetsTheWindowWhenServerSaidNoContextTakeover) {
  // Messages compressed with a kept window reference earlier ones; an inflater told "no
  // context takeover" must fail on them, which shows it really drops the window.
  ServerDeflater server(false);
  WsInflater inf(1 << 20, true);
  std::size_t failures = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    std::span<const std::uint8_t> out;
    const WsInflateStatus st = inf.inflate(server.compress(okx()[i]), out);
    if (st != WsInflateStatus::Ok || str(out) != okx()[i]) ++failures;
  }
  EXPECT_GT(failures, 0u);
}

TEST_F(WsDeflateTest, EnforcesTheInflatedSizeLimitExactly) {
  std::string m;
  for (const auto &x : okx())
    if (x.size() > m.size()) m = x;
  ServerDeflater server(true);
  const Bytes z = server.compress(m);
  std::span<const std::uint8_t> out;
  WsInflater exact(m.size(), true);
  ASSERT_EQ(exact.inflate(z, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), m);
  WsInflater tight(m.size() - 1, true);
  EXPECT_EQ(tight.inflate(z, out), WsInflateStatus::TooLarge);
  EXPECT_TRUE(out.empty());
  // The inflater is usable again for the next (fresh-context) message.
  const Bytes small = server.compress(okx()[0]);
  ASSERT_EQ(tight.inflate(small, out), WsInflateStatus::Ok);
  EXPECT_EQ(str(out), okx()[0]);
}

TEST_F(WsDeflateTest, ReportsCorruptCompressedData) {
  ServerDeflater server(true);
  Bytes z = server.compress(okx()[5]);
  z[0] = 0xff; // mechanical corruption: first block header becomes BTYPE=11 (reserved)
  WsInflater inf(1 << 20, true);
  std::span<const std::uint8_t> out;
  EXPECT_EQ(inf.inflate(z, out), WsInflateStatus::Corrupt);
}

TEST_F(WsDeflateTest, ClientInflatesCompressedRealFramesFragmentedAndWhole) {
  WsClientConfig cfg;
  cfg.mask_seed = 7;
  WsClient c(cfg);
  WsNonce nonce{};
  ASSERT_TRUE(ws_random_nonce(nonce));
  WsRequest req;
  req.host = "ws.okx.com:8443";
  req.path = "/ws/v5/public";
  req.offer_deflate = true;
  ASSERT_EQ(c.start(req, nonce), WsHandshakeError::None);
  std::array<char, 28> accept{};
  ASSERT_TRUE(ws_accept_for_key(c.handshake().key(), accept));
  std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
                     "Sec-WebSocket-Accept: " +
                     std::string(accept.data(), 28) + "\r\n\r\n";
  Bytes stream(resp.begin(), resp.end());
  ServerDeflater server(false);
  std::vector<std::string> sent;
  for (std::size_t i = 0; i < okx().size(); i += 7) {
    const Bytes z = server.compress(okx()[i]);
    if (i % 2 == 0) {
      const Bytes f = server_frame(0xc1, z); // FIN + RSV1 + text
      stream.insert(stream.end(), f.begin(), f.end());
    } else { // RSV1 on the first fragment only
      const std::size_t half = z.size() / 2;
      const Bytes a = server_frame(0x41, std::span<const std::uint8_t>(z).subspan(0, half));
      const Bytes b = server_frame(0x80, std::span<const std::uint8_t>(z).subspan(half));
      stream.insert(stream.end(), a.begin(), a.end());
      stream.insert(stream.end(), b.begin(), b.end());
    }
    sent.push_back(okx()[i]);
  }
  std::span<const std::uint8_t> rest(stream);
  WsClientEvent ev = c.next(rest);
  ASSERT_EQ(ev.type, WsClientEventType::Opened) << c.handshake().error_text();
  EXPECT_TRUE(c.handshake().deflate().enabled);
  rest = rest.subspan(ev.consumed);
  for (const auto &m : sent) {
    ev = c.next(rest);
    ASSERT_EQ(ev.type, WsClientEventType::Text);
    ASSERT_EQ(ev.text(), m);
    rest = rest.subspan(ev.consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST_F(WsDeflateTest, ClientClosesWith1009WhenInflatedMessageExceedsLimit) {
  std::string m;
  for (const auto &x : okx())
    if (x.size() > m.size()) m = x;
  WsClientConfig cfg;
  cfg.max_inflated_size = m.size() - 1;
  cfg.mask_seed = 8;
  WsClient c(cfg);
  WsNonce nonce{};
  ASSERT_TRUE(ws_random_nonce(nonce));
  WsRequest req;
  req.host = "ws.okx.com:8443";
  req.offer_deflate = true;
  ASSERT_EQ(c.start(req, nonce), WsHandshakeError::None);
  std::array<char, 28> accept{};
  ASSERT_TRUE(ws_accept_for_key(c.handshake().key(), accept));
  const std::string resp =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
      "Sec-WebSocket-Accept: " +
      std::string(accept.data(), 28) + "\r\n\r\n";
  ASSERT_EQ(c.next(std::span(reinterpret_cast<const std::uint8_t *>(resp.data()), resp.size()))
                .type,
            WsClientEventType::Opened);
  c.consume_output(c.output().size());
  ServerDeflater server(true);
  const Bytes f = server_frame(0xc1, server.compress(m));
  const WsClientEvent ev = c.next(f);
  ASSERT_EQ(ev.type, WsClientEventType::Error);
  EXPECT_EQ(ev.error, WsClientError::Inflate);
  EXPECT_EQ(ev.inflate_status, WsInflateStatus::TooLarge);
  EXPECT_EQ(ev.close_code, 1009);
  ASSERT_GE(c.output().size(), 8u); // close frame: 2 header + 4 key + 2 code
  EXPECT_EQ(c.output()[0], 0x88);
}

// --- gzip / raw deflate payloads -------------------------------------------------------------

TEST_F(WsDeflateTest, InflatesEveryRecordedHuobiGzipFrameToJson) {
  fh::capture::CaptureFile *file = nullptr;
  const auto recs = records("huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz", file);
  // The channels the recorder subscribed to (its sent requests): every data push must be on
  // one of them.
  // The recorder also answered each server ping with a pong, so pongs sent = pings received.
  std::set<std::string> subscribed;
  std::size_t pongs_sent = 0;
  for (const auto &r : recs)
    if (r.kind == fh::capture::RecordKind::WsSent) {
      const std::string_view p = r.payload;
      const std::size_t a = p.find("\"sub\":\"");
      if (a != std::string_view::npos)
        subscribed.emplace(p.substr(a + 7, p.find('"', a + 7) - (a + 7)));
      if (p.rfind("{\"pong\":", 0) == 0) ++pongs_sent;
    }
  ASSERT_GT(subscribed.size(), 0u);
  PayloadInflater inf(4 << 20);
  std::size_t frames = 0, pushes = 0, pings = 0, acks = 0;
  for (const auto &r : recs) {
    if (r.kind != fh::capture::RecordKind::WsBinary) continue;
    ++frames;
    const std::span<const std::uint8_t> gz(reinterpret_cast<const std::uint8_t *>(r.payload.data()),
                                           r.payload.size());
    // Through the frame layer first: a binary frame as the server sent it.
    const Bytes f = server_frame(0x82, gz);
    WsFrameParser p(WsFrameConfig{1 << 20, false, false});
    const WsFrameEvent ev = p.next(f);
    ASSERT_EQ(ev.type, WsEventType::Binary);
    std::span<const std::uint8_t> out;
    ASSERT_EQ(inf.inflate(PayloadCodec::Gzip, ev.payload, out), WsInflateStatus::Ok) << r.line;
    const std::string json = str(out);
    ASSERT_FALSE(json.empty());
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.back(), '}');
    if (json.rfind("{\"ch\":\"", 0) == 0) {
      const std::string ch = json.substr(7, json.find('"', 7) - 7);
      EXPECT_TRUE(subscribed.count(ch)) << ch;
      ++pushes;
    } else if (json.rfind("{\"ping\":", 0) == 0) {
      ++pings;
    } else if (json.find("\"subbed\":\"") != std::string::npos) {
      ++acks;
    } else {
      ADD_FAILURE() << json.substr(0, 80);
    }
    // The gzip trailer's ISIZE (RFC 1952) is the uncompressed length mod 2^32.
    const std::size_t n = gz.size();
    const std::uint32_t isize = std::uint32_t{gz[n - 4]} | (std::uint32_t{gz[n - 3]} << 8) |
                                (std::uint32_t{gz[n - 2]} << 16) | (std::uint32_t{gz[n - 1]} << 24);
    EXPECT_EQ(isize, json.size());
  }
  EXPECT_EQ(frames, 362u); // PROVENANCE.md: 362 messages, every frame gzip binary
  EXPECT_EQ(acks, subscribed.size()); // one answer per subscription request
  EXPECT_EQ(pings, pongs_sent);
  EXPECT_GT(pushes, 0u);
  EXPECT_EQ(frames, pushes + pings + acks);
}

TEST_F(WsDeflateTest, RejectsCorruptTruncatedOrOversizedGzip) {
  fh::capture::CaptureFile *file = nullptr;
  const auto recs = records("huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz", file);
  std::string gz;
  for (const auto &r : recs)
    if (r.kind == fh::capture::RecordKind::WsBinary && r.payload.size() > gz.size()) gz = r.payload;
  ASSERT_GT(gz.size(), 100u);
  auto span = [](const std::string &s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t *>(s.data()),
                                         s.size());
  };
  PayloadInflater inf(1 << 20);
  std::span<const std::uint8_t> out;
  ASSERT_EQ(inf.inflate(PayloadCodec::Gzip, span(gz), out), WsInflateStatus::Ok);
  const std::size_t plain = out.size();
  std::string crc = gz;
  crc[crc.size() - 6] = static_cast<char>(crc[crc.size() - 6] ^ 0x01); // flip a CRC32 bit
  EXPECT_EQ(inf.inflate(PayloadCodec::Gzip, span(crc), out), WsInflateStatus::Corrupt);
  EXPECT_EQ(inf.inflate(PayloadCodec::Gzip, span(gz.substr(0, gz.size() - 3)), out),
            WsInflateStatus::Truncated); // cut inside the trailer
  EXPECT_EQ(inf.inflate(PayloadCodec::Gzip, span(gz.substr(0, gz.size() / 2)), out),
            WsInflateStatus::Truncated);
  EXPECT_EQ(inf.inflate(PayloadCodec::Gzip, span(gz + "x"), out), WsInflateStatus::Corrupt);
  PayloadInflater small(plain - 1);
  EXPECT_EQ(small.inflate(PayloadCodec::Gzip, span(gz), out), WsInflateStatus::TooLarge);
  PayloadInflater exact(plain);
  EXPECT_EQ(exact.inflate(PayloadCodec::Gzip, span(gz), out), WsInflateStatus::Ok);
}

TEST_F(WsDeflateTest, InflatesRawDeflatePayloadsFinishedOrSyncFlushed) {
  // OKX v3 style raw deflate; the corpus has no recording of it (our OKX data is v5 text), so
  // real OKX v5 messages are compressed here, once finished (BFINAL) and once sync-flushed.
  PayloadInflater inf(1 << 20);
  for (std::size_t i = 0; i < okx().size(); i += 37) {
    const std::string &m = okx()[i];
    Bytes finished(compressBound(static_cast<uLong>(m.size())) + 32);
    z_stream s{};
    ASSERT_EQ(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(m.data()));
    s.avail_in = static_cast<uInt>(m.size());
    s.next_out = finished.data();
    s.avail_out = static_cast<uInt>(finished.size());
    ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    finished.resize(finished.size() - s.avail_out);
    deflateEnd(&s);
    std::span<const std::uint8_t> out;
    ASSERT_EQ(inf.inflate(PayloadCodec::RawDeflate, finished, out), WsInflateStatus::Ok);
    ASSERT_EQ(str(out), m);
    ServerDeflater flushed(true);
    Bytes z = flushed.compress(m);
    z.insert(z.end(), {0x00, 0x00, 0xff, 0xff}); // keep the sync-flush tail this time
    ASSERT_EQ(inf.inflate(PayloadCodec::RawDeflate, z, out), WsInflateStatus::Ok);
    ASSERT_EQ(str(out), m);
  }
}

} // namespace
