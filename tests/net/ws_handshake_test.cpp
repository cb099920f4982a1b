// labels: unit net
// WebSocket opening handshake (net/ws_handshake.hpp). The key/accept vector is RFC 6455 4.1/
// 1.3's ("the sample nonce" -> dGhlIHNhbXBsZSBub25jZQ== -> s3pPLMBiTxaQ9kYGzzhZRbK+xOo=).
// Other accepts are computed here with OpenSSL's SHA-1 and EVP_EncodeBlock, independent of the
// code under test. The HTTP responses are protocol text, not venue data.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "net/ws_client.hpp"
#include "net/ws_handshake.hpp"

namespace {

using namespace fh::net;

constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

WsNonce rfc_nonce() {
  WsNonce n{};
  std::memcpy(n.data(), "the sample nonce", 16);
  return n;
}

std::string independent_accept(std::string_view key) {
  const std::string joined = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &len, EVP_sha1(), nullptr);
  unsigned char b64[64];
  const int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char *>(b64), static_cast<std::size_t>(n));
}

class WsHandshakeTest : public ::testing::Test {
protected:
  std::string start(WsHandshake &hs, bool deflate = false, std::string_view protocols = {},
                    bool snct = false) {
    WsRequest req;
    req.host = "server.example.com";
    req.path = "/chat";
    req.offer_deflate = deflate;
    req.protocols = protocols;
    req.request_server_no_context_takeover = snct;
    std::array<char, 1024> out{};
    std::size_t n = 0;
    EXPECT_EQ(hs.build_request(req, rfc_nonce(), out, n), WsHandshakeError::None);
    return std::string(out.data(), n);
  }
  static std::string response(std::string_view extra = {},
                              std::string_view accept = kRfcAccept) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           std::string(accept) + "\r\n" + std::string(extra) + "\r\n";
  }
};

TEST_F(WsHandshakeTest, DerivesRfcKeyAndAccept) {
  std::array<char, 24> key{};
  ws_key_from_nonce(rfc_nonce(), key);
  EXPECT_EQ(std::string_view(key.data(), 24), kRfcKey);
  std::array<char, 28> accept{};
  ASSERT_TRUE(ws_accept_for_key(kRfcKey, accept));
  EXPECT_EQ(std::string_view(accept.data(), 28), kRfcAccept);
  EXPECT_EQ(independent_accept(kRfcKey), kRfcAccept); // the test's own helper agrees
}

TEST_F(WsHandshakeTest, RandomNoncesGiveFreshKeysAcceptedByIndependentSha1) {
  WsNonce a{}, b{};
  ASSERT_TRUE(ws_random_nonce(a));
  ASSERT_TRUE(ws_random_nonce(b));
  EXPECT_NE(a, b);
  std::array<char, 24> key{};
  ws_key_from_nonce(a, key);
  unsigned char b64[32];
  ASSERT_EQ(EVP_EncodeBlock(b64, a.data(), 16), 24);
  EXPECT_EQ(std::string_view(key.data(), 24), std::string_view(reinterpret_cast<char *>(b64), 24));
  std::array<char, 28> accept{};
  ASSERT_TRUE(ws_accept_for_key({key.data(), 24}, accept));
  EXPECT_EQ(std::string_view(accept.data(), 28), independent_accept({key.data(), 24}));
}

TEST_F(WsHandshakeTest, BuildsTheUpgradeRequest) {
  WsHandshake hs;
  WsRequest req;
  req.host = "ws.okx.com:8443";
  req.path = "/ws/v5/public?x=1";
  req.offer_deflate = true;
  const WsHeader extra[] = {{"Origin", "https://www.okx.com"}, {"User-Agent", "fh/0.1"}};
  req.extra_headers = extra;
  std::array<char, 1024> out{};
  std::size_t n = 0;
  ASSERT_EQ(hs.build_request(req, rfc_nonce(), out, n), WsHandshakeError::None);
  const std::string r(out.data(), n);
  EXPECT_EQ(r, "GET /ws/v5/public?x=1 HTTP/1.1\r\n"
               "Host: ws.okx.com:8443\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
               "Origin: https://www.okx.com\r\n"
               "User-Agent: fh/0.1\r\n"
               "\r\n");
  EXPECT_EQ(hs.key(), kRfcKey);
  // One byte short: refused, nothing claimed written.
  ASSERT_EQ(hs.build_request(req, rfc_nonce(), std::span<char>(out).subspan(0, r.size() - 1), n),
            WsHandshakeError::BufferTooSmall);
  EXPECT_EQ(n, 0u);
}

TEST_F(WsHandshakeTest, RefusesRequestFieldsThatWouldBreakFraming) {
  WsHandshake hs;
  std::array<char, 1024> out{};
  std::size_t n = 0;
  WsRequest req;
  req.host = "a.example\r\nX-Evil: 1";
  EXPECT_EQ(hs.build_request(req, rfc_nonce(), out, n), WsHandshakeError::BadRequestField);
  req.host = "a.example";
  req.path = "no-slash";
  EXPECT_EQ(hs.build_request(req, rfc_nonce(), out, n), WsHandshakeError::BadRequestField);
  req.path = "/";
  const WsHeader bad[] = {{"Bad Name", "v"}};
  req.extra_headers = bad;
  EXPECT_EQ(hs.build_request(req, rfc_nonce(), out, n), WsHandshakeError::BadRequestField);
}

TEST_F(WsHandshakeTest, AcceptsRfcResponseAndReportsBytesConsumed) {
  WsHandshake hs;
  start(hs);
  const std::string resp = response();
  // Two frame bytes of the server follow in the same read.
  const std::string buf = resp + std::string("\x81\x05Hello", 7);
  const WsHandshakeResult r = hs.parse_response(buf);
  ASSERT_EQ(r.status, WsHandshakeStatus::Done) << hs.error_text();
  EXPECT_EQ(r.consumed, resp.size());
  EXPECT_FALSE(hs.deflate().enabled);
}

TEST_F(WsHandshakeTest, NeedsMoreForEveryPrefix) {
  WsHandshake hs;
  start(hs);
  const std::string resp = response();
  for (std::size_t n = 0; n < resp.size(); ++n)
    ASSERT_EQ(hs.parse_response(std::string_view(resp).substr(0, n)).status,
              WsHandshakeStatus::NeedMore)
        << n;
  EXPECT_EQ(hs.parse_response(resp).status, WsHandshakeStatus::Done);
}

TEST_F(WsHandshakeTest, HeaderNamesAndTokensAreCaseInsensitive) {
  WsHandshake hs;
  start(hs);
  const std::string resp = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                           "CONNECTION: keep-alive, Upgrade\r\n"
                           "sec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n";
  EXPECT_EQ(hs.parse_response(resp).status, WsHandshakeStatus::Done) << hs.error_text();
}

TEST_F(WsHandshakeTest, ReportsNon101WithItsStatusLine) {
  WsHandshake hs;
  start(hs);
  const WsHandshakeResult r = hs.parse_response(
      "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nRetry-After: 5\r\n\r\n");
  EXPECT_EQ(r.status, WsHandshakeStatus::Error);
  EXPECT_EQ(r.error, WsHandshakeError::NotSwitching);
  EXPECT_NE(hs.error_text().find("HTTP/1.1 429 Too Many Requests"), std::string_view::npos)
      << hs.error_text();
}

TEST_F(WsHandshakeTest, ReportsEachMissingOrWrongHeader) {
  struct Case {
    std::string resp;
    WsHandshakeError want;
  };
  std::string wrong_accept(kRfcAccept);
  wrong_accept[3] = 'Q'; // mechanical corruption of the RFC accept
  const Case cases[] = {
      {"HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
           std::string(kRfcAccept) + "\r\n\r\n",
       WsHandshakeError::MissingUpgrade},
      {"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " +
           std::string(kRfcAccept) + "\r\n\r\n",
       WsHandshakeError::MissingConnection},
      {"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       WsHandshakeError::MissingAccept},
      {response({}, wrong_accept), WsHandshakeError::AcceptMismatch},
      {"HTTP/1.0 101 Switching\r\n\r\n", WsHandshakeError::MalformedStatusLine},
      {"HTTP/1.1 1x1 Switching\r\n\r\n", WsHandshakeError::MalformedStatusLine},
      {response("NoColonHere\r\n"), WsHandshakeError::MalformedHeader},
      {response(" folded: line\r\n"), WsHandshakeError::MalformedHeader},
      {response("Name : space\r\n"), WsHandshakeError::MalformedHeader},
      {response("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
       WsHandshakeError::UnsupportedExtension}, // not offered
      {response("Sec-WebSocket-Protocol: chat\r\n"), WsHandshakeError::UnexpectedProtocol},
  };
  for (const Case &c : cases) {
    WsHandshake hs;
    start(hs);
    const WsHandshakeResult r = hs.parse_response(c.resp);
    EXPECT_EQ(r.status, WsHandshakeStatus::Error) << c.resp;
    EXPECT_EQ(r.error, c.want) << hs.error_text();
    EXPECT_FALSE(hs.error_text().empty());
  }
}

TEST_F(WsHandshakeTest, ParsesNegotiatedDeflateParameters) {
  WsHandshake hs;
  start(hs, true);
  const WsHandshakeResult r = hs.parse_response(
      response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "client_no_context_takeover; server_max_window_bits=10; "
               "client_max_window_bits=\"12\"\r\n"));
  ASSERT_EQ(r.status, WsHandshakeStatus::Done) << hs.error_text();
  const WsDeflateParams &d = hs.deflate();
  EXPECT_TRUE(d.enabled);
  EXPECT_TRUE(d.server_no_context_takeover);
  EXPECT_TRUE(d.client_no_context_takeover);
  EXPECT_EQ(d.server_max_window_bits, 10);
  EXPECT_EQ(d.client_max_window_bits, 12);
}

TEST_F(WsHandshakeTest, RejectsBadDeflateAnswers) {
  struct Case {
    const char *ext;
    WsHandshakeError want;
  };
  const Case cases[] = {
      {"x-webkit-deflate-frame", WsHandshakeError::UnsupportedExtension},
      {"permessage-deflate, permessage-deflate", WsHandshakeError::UnsupportedExtension},
      {"permessage-deflate; server_max_window_bits=7", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; server_max_window_bits=16", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; server_max_window_bits=08", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; server_max_window_bits", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; client_max_window_bits", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
       WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; server_no_context_takeover=1", WsHandshakeError::BadExtensionParam},
      {"permessage-deflate; mystery", WsHandshakeError::BadExtensionParam},
  };
  for (const Case &c : cases) {
    WsHandshake hs;
    start(hs, true);
    const WsHandshakeResult r =
        hs.parse_response(response("Sec-WebSocket-Extensions: " + std::string(c.ext) + "\r\n"));
    EXPECT_EQ(r.status, WsHandshakeStatus::Error) << c.ext;
    EXPECT_EQ(r.error, c.want) << c.ext << ": " << hs.error_text();
  }
}

TEST_F(WsHandshakeTest, RequiresEchoOfRequestedServerNoContextTakeover) {
  WsHandshake hs;
  start(hs, true, {}, true);
  EXPECT_EQ(hs.parse_response(response("Sec-WebSocket-Extensions: permessage-deflate\r\n")).error,
            WsHandshakeError::BadExtensionParam);
  WsHandshake ok;
  const std::string req = start(ok, true, {}, true);
  EXPECT_NE(req.find("permessage-deflate; client_max_window_bits; server_no_context_takeover"),
            std::string::npos);
  EXPECT_EQ(ok.parse_response(response("Sec-WebSocket-Extensions: permessage-deflate; "
                                       "server_no_context_takeover\r\n"))
                .status,
            WsHandshakeStatus::Done);
}

TEST_F(WsHandshakeTest, AcceptsOnlyAnOfferedSubprotocol) {
  WsHandshake hs;
  const std::string req = start(hs, false, "json, binary");
  EXPECT_NE(req.find("Sec-WebSocket-Protocol: json, binary\r\n"), std::string::npos);
  ASSERT_EQ(hs.parse_response(response("Sec-WebSocket-Protocol: binary\r\n")).status,
            WsHandshakeStatus::Done);
  WsHandshake other;
  start(other, false, "json, binary");
  EXPECT_EQ(other.parse_response(response("Sec-WebSocket-Protocol: xml\r\n")).error,
            WsHandshakeError::UnexpectedProtocol);
}

TEST_F(WsHandshakeTest, FailsWhenHeaderExceedsLimit) {
  const std::string resp = response();
  WsHandshake exact(resp.size());
  start(exact);
  EXPECT_EQ(exact.parse_response(resp).status, WsHandshakeStatus::Done);
  WsHandshake tight(resp.size() - 1);
  start(tight);
  const WsHandshakeResult r = tight.parse_response(resp);
  EXPECT_EQ(r.error, WsHandshakeError::HeaderTooLarge);
  // A response that never ends its headers fails once the limit is reached, not later.
  WsHandshake endless(64);
  start(endless);
  const std::string junk = "HTTP/1.1 101 Switching Protocols\r\nX: " + std::string(40, 'a');
  EXPECT_EQ(endless.parse_response(junk.substr(0, 63)).status, WsHandshakeStatus::NeedMore);
  EXPECT_EQ(endless.parse_response(junk.substr(0, 64)).error, WsHandshakeError::HeaderTooLarge);
}

TEST_F(WsHandshakeTest, ParseBeforeBuildIsAnError) {
  WsHandshake hs;
  EXPECT_EQ(hs.parse_response(response()).error, WsHandshakeError::NotStarted);
}

TEST_F(WsHandshakeTest, ClientOpensAndDeliversFramesFromTheSameRead) {
  WsClientConfig cfg;
  cfg.mask_seed = 1;
  WsClient c(cfg);
  WsRequest req;
  req.host = "server.example.com";
  req.path = "/chat";
  ASSERT_EQ(c.start(req, rfc_nonce()), WsHandshakeError::None);
  EXPECT_EQ(c.state(), WsState::Handshaking);
  const std::string sent(reinterpret_cast<const char *>(c.output().data()), c.output().size());
  EXPECT_EQ(sent.rfind("GET /chat HTTP/1.1\r\n", 0), 0u);
  c.consume_output(10);
  EXPECT_EQ(c.output().size(), sent.size() - 10);
  c.consume_output(c.output().size());
  // RFC 6455 5.7 "Hello" frame right behind the 101.
  const std::string buf = response() + std::string("\x81\x05Hello", 7);
  std::span<const std::uint8_t> in(reinterpret_cast<const std::uint8_t *>(buf.data()),
                                   buf.size());
  WsClientEvent ev = c.next(in.subspan(0, 20));
  EXPECT_EQ(ev.type, WsClientEventType::NeedMore);
  ev = c.next(in);
  ASSERT_EQ(ev.type, WsClientEventType::Opened);
  EXPECT_EQ(c.state(), WsState::Open);
  in = in.subspan(ev.consumed);
  ev = c.next(in);
  ASSERT_EQ(ev.type, WsClientEventType::Text);
  EXPECT_EQ(ev.text(), "Hello");
}

TEST_F(WsHandshakeTest, ClientRefusesNon101AndEndsClosedWithoutSendingClose) {
  WsClientConfig cfg;
  cfg.mask_seed = 2;
  WsClient c(cfg);
  WsRequest req;
  req.host = "server.example.com";
  ASSERT_EQ(c.start(req, rfc_nonce()), WsHandshakeError::None);
  c.consume_output(c.output().size());
  const std::string resp = "HTTP/1.1 403 Forbidden\r\n\r\n";
  const WsClientEvent ev = c.next(
      std::span(reinterpret_cast<const std::uint8_t *>(resp.data()), resp.size()));
  EXPECT_EQ(ev.type, WsClientEventType::Error);
  EXPECT_EQ(ev.error, WsClientError::Handshake);
  EXPECT_EQ(c.state(), WsState::Closed);
  EXPECT_TRUE(c.output().empty());
  EXPECT_NE(c.handshake().error_text().find("403 Forbidden"), std::string_view::npos);
}

} // namespace
