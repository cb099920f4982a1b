// labels: unit net
// TlsContext + TlsSession over memory BIOs: both ends run in this process and the test moves
// the ciphertext between them (the reactor's job in production); one case uses a real
// loopback TCP connection instead. Certificates are made at run time with the `openssl`
// command-line tool in a temporary directory (fh::test::TestCerts): a test CA, a server
// certificate for localhost + 127.0.0.1 signed by it, one for another host name signed by it,
// a self-signed one, and a directory holding the CA under its `openssl rehash` name.
// The application data is real recorded OKX traffic (data/okx/cryptofeed/
// books-l2-tbt_2022-02-27_ws.txt.gz), read with zlib. Expected failure reasons are OpenSSL's
// own strings for the X509 error codes (X509_verify_cert_error_string), not our output.
#include <gtest/gtest.h>

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_context.hpp"
#include "net/tls_session.hpp"
#include "tests/support/test_certs.hpp"

namespace {

using fh::net::TlsClientConfig;
using fh::net::TlsContext;
using fh::net::TlsRead;
using fh::net::TlsServerConfig;
using fh::net::TlsSession;
using fh::net::TlsStatus;
using fh::net::TlsVersion;

// ---- allocation counters ------------------------------------------------------------------
// OpenSSL's allocator is replaced during static initialization, before OpenSSL allocates
// anything (it refuses custom allocators after its first allocation), so every OpenSSL
// malloc/realloc/free is counted. Global operator new is replaced too, to catch our own.
std::atomic<std::size_t> g_ossl_malloc{0}, g_ossl_realloc{0}, g_ossl_free{0}, g_new{0};
void *counting_malloc(std::size_t n, const char *, int) {
  g_ossl_malloc.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void *counting_realloc(void *p, std::size_t n, const char *, int) {
  (p == nullptr ? g_ossl_malloc : g_ossl_realloc).fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void counting_free(void *p, const char *, int) {
  if (p != nullptr)
    g_ossl_free.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
}
const bool g_allocation_hooks_installed =
    CRYPTO_set_mem_functions(&counting_malloc, &counting_realloc, &counting_free) == 1;

} // namespace

void *operator new(std::size_t n) {
  g_new.fetch_add(1, std::memory_order_relaxed);
  if (void *p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc();
}
void *operator new[](std::size_t n) {
  g_new.fetch_add(1, std::memory_order_relaxed);
  if (void *p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc();
}
void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  g_new.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  g_new.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
// The replaced operator new uses malloc, so free is the matching release (GCC cannot see it).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void *p) noexcept {
  std::free(p);
}
void operator delete[](void *p) noexcept {
  std::free(p);
}
void operator delete(void *p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void *p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void *p, const std::nothrow_t &) noexcept {
  std::free(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept {
  std::free(p);
}

namespace {

// ---- real market data ---------------------------------------------------------------------
constexpr const char *kOkxCapture = "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";

struct RecordedFrames {
  std::string first_book; // first books-l2-tbt snapshot received (one TLS record)
  std::size_t first_book_line = 0;
  std::string longest; // longest received frame (larger than a 16 KiB TLS record)
  std::size_t longest_line = 0;
  std::string error;
};

// cryptofeed lines: "<url> <-> <t>" (open), "<url> <- <t>: <json>" (sent), "<t>: <json>"
// (received). Only received frames are used, byte for byte as recorded.
RecordedFrames load_frames() {
  RecordedFrames out;
  const std::string path = std::string(FH_DATA_DIR) + "/" + kOkxCapture;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    out.error = "cannot open " + path;
    return out;
  }
  std::string line;
  char buf[8192];
  std::size_t line_no = 0;
  bool eof = false;
  while (!eof) {
    line.clear();
    for (;;) {
      if (gzgets(f, buf, static_cast<int>(sizeof buf)) == nullptr) {
        eof = true;
        break;
      }
      line += buf;
      if (!line.empty() && line.back() == '\n')
        break;
    }
    if (line.empty())
      break;
    ++line_no;
    if (line.back() == '\n')
      line.pop_back();
    if (line.rfind("wss://", 0) == 0)
      continue;
    const auto colon = line.find(": ");
    if (colon == std::string::npos)
      continue;
    std::string payload = line.substr(colon + 2);
    if (out.first_book.empty() &&
        payload.find("\"channel\":\"books-l2-tbt\"") != std::string::npos &&
        payload.find("\"action\":\"snapshot\"") != std::string::npos) {
      out.first_book = payload;
      out.first_book_line = line_no;
    }
    if (payload.size() > out.longest.size()) {
      out.longest = std::move(payload);
      out.longest_line = line_no;
    }
  }
  gzclose(f);
  if (out.first_book.empty())
    out.error = "no books-l2-tbt snapshot in " + path;
  return out;
}

std::string read_text(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- moving bytes between two in-process sessions ------------------------------------------
std::vector<unsigned char> take_all(TlsSession &from) {
  std::vector<unsigned char> out(from.pending_ciphertext());
  const std::size_t n = from.take_ciphertext(out.data(), out.size());
  out.resize(n);
  return out;
}

void transfer(TlsSession &from, TlsSession &to) {
  const auto bytes = take_all(from);
  if (!bytes.empty()) {
    ASSERT_EQ(to.feed_ciphertext(bytes.data(), bytes.size()), TlsStatus::Ok) << to.last_error();
  }
}

struct HandshakeOutcome {
  TlsStatus client;
  TlsStatus server;
};

// Steps both ends, moving each flight across, until both finish or nothing moves any more.
// A failing side's alert is still delivered, so the other side sees why.
HandshakeOutcome handshake(TlsSession &client, TlsSession &server) {
  HandshakeOutcome o{TlsStatus::WantMore, TlsStatus::WantMore};
  for (int round = 0; round < 16; ++round) {
    o.client = client.step();
    transfer(client, server);
    o.server = server.step();
    transfer(server, client);
    if (o.client == TlsStatus::Ok && o.server == TlsStatus::Ok)
      break;
    if (o.client == TlsStatus::Error && o.server == TlsStatus::Error)
      break;
  }
  return o;
}

// Reads everything `s` can decrypt now; stops at WantMore/Closed/Error and returns it.
TlsStatus drain(TlsSession &s, std::string &into) {
  char buf[4096];
  for (;;) {
    const TlsRead r = s.read_plaintext(buf, sizeof buf);
    if (r.status != TlsStatus::Ok)
      return r.status;
    into.append(buf, r.bytes);
  }
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- fixture ----------------------------------------------------------------------------
class TlsSessionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    frames_ = new RecordedFrames(load_frames());
    certs_ = new fh::test::TestCerts();
    if (!certs_->error().empty())
      setup_error_ =
          new std::string(certs_->error() + "\n" + read_text(certs_->file("openssl.log")));
  }

  static void TearDownTestSuite() {
    delete certs_; // removes the certificate directory
    delete setup_error_;
    delete frames_;
    certs_ = nullptr;
    setup_error_ = nullptr;
    frames_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    ASSERT_TRUE(frames_->error.empty()) << frames_->error;
  }

  static std::string file(const char *name) { return certs_->file(name); }
  static const std::string &frame() { return frames_->first_book; }
  static const std::string &big_frame() { return frames_->longest; }

  static TlsClientConfig trusting_test_ca() {
    TlsClientConfig c;
    c.ca_file = certs_->ca();
    return c;
  }
  static TlsServerConfig server_config(const char *cert = "server.pem",
                                       const char *key = "server.key") {
    TlsServerConfig c;
    c.cert_chain_file = file(cert);
    c.private_key_file = file(key);
    return c;
  }

  // The value in `r`; otherwise the test fails with the error's message (GoogleTest reports
  // the exception), since a context or session we cannot build makes the rest meaningless.
  template <class T> static T value(fh::net::TlsResult<T> &&r) {
    if (auto *err = std::get_if<fh::net::TlsError>(&r))
      throw std::runtime_error(err->message);
    return std::move(std::get<T>(r));
  }

  static TlsContext client_ctx(const TlsClientConfig &c) { return value(TlsContext::client(c)); }
  static TlsContext server_ctx(const TlsServerConfig &c) { return value(TlsContext::server(c)); }

  // A connected pair (handshake done) over memory BIOs.
  struct Pair {
    TlsSession client;
    TlsSession server;
  };
  static Pair connected(const TlsContext &cctx, const TlsContext &sctx,
                        const char *host = "localhost") {
    Pair p{value(TlsSession::client(cctx, host)), value(TlsSession::server(sctx))};
    const auto o = handshake(p.client, p.server);
    EXPECT_EQ(o.client, TlsStatus::Ok) << p.client.last_error();
    EXPECT_EQ(o.server, TlsStatus::Ok) << p.server.last_error();
    return p;
  }

  // Expects the handshake to fail on the client with `x509_error`'s OpenSSL text in the message.
  static void expect_refused(const TlsContext &cctx, const TlsContext &sctx, const char *host,
                             long x509_error) {
    TlsSession client = value(TlsSession::client(cctx, host));
    TlsSession server = value(TlsSession::server(sctx));
    const auto o = handshake(client, server);
    EXPECT_EQ(o.client, TlsStatus::Error);
    EXPECT_FALSE(client.handshake_done());
    const std::string &msg = client.last_error();
    EXPECT_TRUE(contains(msg, std::string("tls handshake with ") + host + " failed")) << msg;
    EXPECT_TRUE(contains(msg, "certificate verify failed")) << msg;
    EXPECT_TRUE(contains(msg, X509_verify_cert_error_string(x509_error))) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    std::cout << "[ info     ] client: " << msg << "\n[ info     ] server: " << server.last_error()
              << "\n";
    // The client's alert reached the server, which fails too and says it was told so.
    EXPECT_EQ(o.server, TlsStatus::Error);
    EXPECT_TRUE(contains(server.last_error(), "alert")) << server.last_error();
    // The session stays failed and harmless.
    char buf[16];
    EXPECT_EQ(client.read_plaintext(buf, sizeof buf).status, TlsStatus::Error);
    EXPECT_EQ(client.write_plaintext("x", 1), TlsStatus::Error);
    EXPECT_EQ(client.close(), TlsStatus::Error);
  }

  static fh::test::TestCerts *certs_;
  static std::string *setup_error_;
  static RecordedFrames *frames_;
};

fh::test::TestCerts *TlsSessionTest::certs_ = nullptr;
std::string *TlsSessionTest::setup_error_ = nullptr;
RecordedFrames *TlsSessionTest::frames_ = nullptr;

// ---- handshake and data ---------------------------------------------------------------------

TEST_F(TlsSessionTest, CompletesHandshakeAndExchangesRealFrameBothWays) {
  TlsClientConfig cc = trusting_test_ca();
  TlsContext cctx = client_ctx(cc);
  TlsContext sctx = server_ctx(server_config());
  EXPECT_TRUE(cctx.verifies_peer());
  auto [client, server] = connected(cctx, sctx);
  ASSERT_TRUE(client.handshake_done());
  ASSERT_TRUE(server.handshake_done());
  EXPECT_EQ(client.protocol(), "TLSv1.3");
  EXPECT_EQ(server.host(), "localhost"); // SNI arrived
  EXPECT_FALSE(client.cipher().empty());

  ASSERT_EQ(client.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
  transfer(client, server);
  std::string at_server;
  EXPECT_EQ(drain(server, at_server), TlsStatus::WantMore);
  EXPECT_EQ(at_server, frame());

  ASSERT_EQ(server.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
  transfer(server, client);
  std::string at_client;
  EXPECT_EQ(drain(client, at_client), TlsStatus::WantMore);
  EXPECT_EQ(at_client, frame());
}

TEST_F(TlsSessionTest, DeliversRealFrameFedInPiecesOfEverySizeBothWays) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  auto [client, server] = connected(cctx, sctx);
  // Let the client consume the server's post-handshake tickets first.
  std::string none;
  ASSERT_EQ(drain(client, none), TlsStatus::WantMore);
  ASSERT_TRUE(none.empty());

  for (int dir = 0; dir < 2; ++dir) {
    TlsSession &from = dir == 0 ? server : client;
    TlsSession &to = dir == 0 ? client : server;
    ASSERT_EQ(from.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
    const std::size_t n = from.pending_ciphertext();
    // One TLS 1.3 record: 5-byte header + plaintext + 1 content-type byte + 16-byte AEAD tag.
    ASSERT_EQ(n, frame().size() + 5 + 1 + 16) << "frame from line " << frames_->first_book_line;
    std::string first;
    transfer(from, to);
    ASSERT_EQ(drain(to, first), TlsStatus::WantMore) << to.last_error();
    ASSERT_EQ(first, frame());
    for (std::size_t piece = 1; piece <= n; ++piece) {
      ASSERT_EQ(from.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
      const auto ct = take_all(from);
      ASSERT_EQ(ct.size(), n);
      std::string got;
      for (std::size_t off = 0; off < ct.size(); off += piece) {
        const std::size_t len = std::min(piece, ct.size() - off);
        ASSERT_EQ(to.feed_ciphertext(ct.data() + off, len), TlsStatus::Ok);
        ASSERT_EQ(drain(to, got), TlsStatus::WantMore) << to.last_error();
        // A record is authenticated as a whole: nothing may come out before its last byte.
        if (off + len < ct.size()) {
          ASSERT_TRUE(got.empty()) << "piece " << piece;
        }
      }
      ASSERT_EQ(got, frame()) << "direction " << dir << ", piece size " << piece;
      ASSERT_EQ(to.pending_ciphertext(), 0u); // reading data produces nothing to send
    }
  }
}

TEST_F(TlsSessionTest, SplitsFrameLargerThanOneRecordAndReassemblesIt) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  auto [client, server] = connected(cctx, sctx);
  const std::string &big = big_frame();
  ASSERT_GT(big.size(), 16384u) << "line " << frames_->longest_line; // TLS record limit
  for (std::size_t piece : {std::size_t{1}, std::size_t{13}, std::size_t{4096}, std::size_t{16406},
                            std::size_t{1} << 20}) {
    ASSERT_EQ(server.write_plaintext(big.data(), big.size()), TlsStatus::Ok);
    const auto ct = take_all(server);
    // ceil(size / 16384) records, each with 22 bytes of overhead.
    const std::size_t records = (big.size() + 16383) / 16384;
    ASSERT_EQ(ct.size(), big.size() + 22 * records);
    std::string got;
    for (std::size_t off = 0; off < ct.size(); off += piece) {
      const std::size_t len = std::min(piece, ct.size() - off);
      ASSERT_EQ(client.feed_ciphertext(ct.data() + off, len), TlsStatus::Ok);
      ASSERT_EQ(drain(client, got), TlsStatus::WantMore) << client.last_error();
    }
    ASSERT_EQ(got, big) << "piece size " << piece;
  }
}

TEST_F(TlsSessionTest, WriteDuringHandshakeQueuesNothingAndAsksToRetry) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  TlsSession client = value(TlsSession::client(cctx, "localhost"));
  TlsSession server = value(TlsSession::server(sctx));
  // Nothing from the server yet: the client cannot encrypt data.
  EXPECT_EQ(client.write_plaintext(frame().data(), frame().size()), TlsStatus::WantMore);
  EXPECT_FALSE(client.handshake_done());
  const auto o = handshake(client, server);
  ASSERT_EQ(o.client, TlsStatus::Ok) << client.last_error();
  ASSERT_EQ(client.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
  transfer(client, server);
  std::string got;
  EXPECT_EQ(drain(server, got), TlsStatus::WantMore);
  EXPECT_EQ(got, frame()); // exactly once: the refused write queued nothing
}

// ---- verification -----------------------------------------------------------------------

TEST_F(TlsSessionTest, RefusesCertificateFromUnknownCaWithSystemStore) {
  TlsContext cctx = client_ctx(TlsClientConfig{}); // defaults: system store, verification on
  TlsContext sctx = server_ctx(server_config());
  expect_refused(cctx, sctx, "localhost", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(TlsSessionTest, RefusesSelfSignedCertificateEvenWithTestCaConfigured) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config("self.pem", "self.key"));
  expect_refused(cctx, sctx, "localhost", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

TEST_F(TlsSessionTest, RefusesHostNameMismatch) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext other = server_ctx(server_config("other.pem", "other.key"));
  expect_refused(cctx, other, "localhost", X509_V_ERR_HOSTNAME_MISMATCH);
  // Partial wildcards and suffixes do not match either: the name must be exact.
  TlsContext sctx = server_ctx(server_config());
  expect_refused(cctx, sctx, "localhost.fh.test", X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(TlsSessionTest, VerifiesIpAddressAgainstIpSanWithoutSendingSni) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  {
    auto [client, server] = connected(cctx, sctx, "127.0.0.1");
    EXPECT_TRUE(client.handshake_done());
    EXPECT_EQ(server.host(), ""); // RFC 6066: no SNI for an address
  }
  expect_refused(cctx, sctx, "127.0.0.2", X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(TlsSessionTest, InsecureSkipVerifyAcceptsUnknownCaAndWrongHostWhenAskedTo) {
  TlsClientConfig cc; // system store only: the test CA is unknown
  cc.insecure_skip_verify = true;
  TlsContext cctx = client_ctx(cc);
  EXPECT_FALSE(cctx.verifies_peer());
  for (const char *cert : {"self", "other", "server"}) {
    const std::string pem = std::string(cert) + ".pem", key = std::string(cert) + ".key";
    TlsContext sctx = server_ctx(server_config(pem.c_str(), key.c_str()));
    auto [client, server] = connected(cctx, sctx, "localhost");
    ASSERT_TRUE(client.handshake_done()) << cert;
    ASSERT_EQ(client.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
    transfer(client, server);
    std::string got;
    EXPECT_EQ(drain(server, got), TlsStatus::WantMore);
    EXPECT_EQ(got, frame()) << cert;
  }
}

TEST_F(TlsSessionTest, TrustsTestCaFromConfiguredFileOrDirectory) {
  TlsContext sctx = server_ctx(server_config());
  TlsContext from_file = client_ctx(trusting_test_ca());
  auto a = connected(from_file, sctx);
  EXPECT_TRUE(a.client.handshake_done());
  TlsClientConfig cc;
  cc.ca_dir = certs_->ca_dir(); // hashed by `openssl rehash`
  TlsContext from_dir = client_ctx(cc);
  auto b = connected(from_dir, sctx);
  EXPECT_TRUE(b.client.handshake_done());
}

// ---- negotiation ----------------------------------------------------------------------------

TEST_F(TlsSessionTest, NegotiatesAlpnWhenBothSidesShareAProtocol) {
  TlsClientConfig cc = trusting_test_ca();
  cc.alpn = {"http/1.1"};
  TlsServerConfig sc = server_config();
  sc.alpn = {"h2", "http/1.1"};
  TlsContext cctx = client_ctx(cc);
  TlsContext sctx = server_ctx(sc);
  {
    auto [client, server] = connected(cctx, sctx);
    EXPECT_EQ(client.alpn(), "http/1.1");
    EXPECT_EQ(server.alpn(), "http/1.1");
  }
  cc.alpn = {"h3-not-offered"};
  TlsContext unmatched = client_ctx(cc);
  auto [client, server] = connected(unmatched, sctx);
  EXPECT_TRUE(client.handshake_done()); // no shared protocol: no ALPN, not a failure
  EXPECT_EQ(client.alpn(), "");
  // Protocol names longer than 255 bytes cannot be encoded.
  cc.alpn = {std::string(256, 'a')};
  auto bad = TlsContext::client(cc);
  ASSERT_TRUE(std::holds_alternative<fh::net::TlsError>(bad));
  EXPECT_TRUE(contains(std::get<fh::net::TlsError>(bad).message, "ALPN"));
}

TEST_F(TlsSessionTest, SpeaksTls12WhenServerCapsItAndRefusesBelowClientMinimum) {
  TlsServerConfig sc = server_config();
  sc.max_version = TlsVersion::Tls12;
  TlsContext sctx = server_ctx(sc);
  TlsContext cctx = client_ctx(trusting_test_ca());
  {
    auto [client, server] = connected(cctx, sctx);
    EXPECT_EQ(client.protocol(), "TLSv1.2");
    ASSERT_EQ(server.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
    transfer(server, client);
    std::string got;
    EXPECT_EQ(drain(client, got), TlsStatus::WantMore);
    EXPECT_EQ(got, frame());
  }
  TlsClientConfig strict = trusting_test_ca();
  strict.min_version = TlsVersion::Tls13;
  TlsContext sctx13 = client_ctx(strict);
  TlsSession client = value(TlsSession::client(sctx13, "localhost"));
  TlsSession server = value(TlsSession::server(sctx));
  const auto o = handshake(client, server);
  EXPECT_EQ(o.server, TlsStatus::Error);
  EXPECT_EQ(o.client, TlsStatus::Error);
  // OpenSSL's reason for a ClientHello offering no version the server accepts.
  EXPECT_TRUE(contains(server.last_error(), "unsupported protocol")) << server.last_error();
}

TEST_F(TlsSessionTest, ResumesSessionFromCacheOnSecondConnection) {
  TlsClientConfig cc = trusting_test_ca();
  cc.session_cache_size = 4;
  TlsContext cctx = client_ctx(cc);
  TlsContext sctx = server_ctx(server_config());
  {
    auto [client, server] = connected(cctx, sctx);
    EXPECT_FALSE(client.resumed());
    std::string none;
    EXPECT_EQ(drain(client, none), TlsStatus::WantMore); // reads the TLS 1.3 tickets
    // OpenSSL invalidates a session whose connection ends without our close_notify.
    EXPECT_EQ(client.close(), TlsStatus::Ok);
  }
  {
    auto [client, server] = connected(cctx, sctx);
    EXPECT_TRUE(client.resumed());
    EXPECT_TRUE(server.resumed());
  }
  // Another host is not given localhost's session.
  TlsContext ip_server = server_ctx(server_config());
  auto [client, server] = connected(cctx, ip_server, "127.0.0.1");
  EXPECT_FALSE(client.resumed());
  // Without a cache there is no resumption.
  TlsContext plain = client_ctx(trusting_test_ca());
  {
    auto first = connected(plain, sctx);
    std::string none;
    EXPECT_EQ(drain(first.client, none), TlsStatus::WantMore);
    EXPECT_EQ(first.client.close(), TlsStatus::Ok);
  }
  auto second = connected(plain, sctx);
  EXPECT_FALSE(second.client.resumed());
}

// ---- close ------------------------------------------------------------------------------------

TEST_F(TlsSessionTest, ClosesWithCloseNotifyInBothDirections) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  for (int closer = 0; closer < 2; ++closer) {
    auto p = connected(cctx, sctx);
    TlsSession &a = closer == 0 ? p.client : p.server; // closes first
    TlsSession &b = closer == 0 ? p.server : p.client;
    // Data sent before close_notify is delivered before Closed.
    ASSERT_EQ(a.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
    ASSERT_EQ(a.close(), TlsStatus::Ok);
    EXPECT_TRUE(a.close_sent());
    EXPECT_FALSE(a.close_received());
    EXPECT_EQ(a.write_plaintext("x", 1), TlsStatus::Error); // nothing after our close_notify
    EXPECT_FALSE(a.failed()) << a.last_error();             // but the session is intact
    transfer(a, b);
    std::string got;
    EXPECT_EQ(drain(b, got), TlsStatus::Closed) << b.last_error();
    EXPECT_EQ(got, frame());
    EXPECT_TRUE(b.close_received());
    char buf[8];
    EXPECT_EQ(b.read_plaintext(buf, sizeof buf).status, TlsStatus::Closed); // and stays so
    // Half close: b may still send before answering.
    ASSERT_EQ(b.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
    ASSERT_EQ(b.close(), TlsStatus::Ok);
    EXPECT_TRUE(b.close_sent());
    transfer(b, a);
    std::string back;
    EXPECT_EQ(drain(a, back), TlsStatus::Closed) << a.last_error();
    EXPECT_EQ(a.read_plaintext(buf, sizeof buf).status, TlsStatus::Closed);
    EXPECT_EQ(back, frame());
    EXPECT_TRUE(a.close_received());
    EXPECT_EQ(a.close(), TlsStatus::Ok); // both directions closed now
  }
}

TEST_F(TlsSessionTest, ReportsEofWithoutCloseNotifyAsTruncation) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  auto [client, server] = connected(cctx, sctx);
  ASSERT_EQ(server.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
  auto ct = take_all(server);
  ct.resize(ct.size() / 2); // mechanically cut: the socket closed mid-record
  ASSERT_EQ(client.feed_ciphertext(ct.data(), ct.size()), TlsStatus::Ok);
  std::string got;
  EXPECT_EQ(drain(client, got), TlsStatus::WantMore);
  client.feed_eof();
  EXPECT_EQ(drain(client, got), TlsStatus::Error);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(contains(client.last_error(), "unexpected eof")) << client.last_error();
}

TEST_F(TlsSessionTest, CloseBeforeHandshakeIsAnError) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsSession client = value(TlsSession::client(cctx, "localhost"));
  EXPECT_EQ(client.close(), TlsStatus::Error);
  EXPECT_TRUE(contains(client.last_error(), "handshake")) << client.last_error();
}

// ---- malformed input --------------------------------------------------------------------------

TEST_F(TlsSessionTest, FlippedCiphertextByteIsAnErrorNotData) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  auto [client, server] = connected(cctx, sctx);
  std::string none;
  ASSERT_EQ(drain(client, none), TlsStatus::WantMore);
  ASSERT_EQ(server.write_plaintext(frame().data(), frame().size()), TlsStatus::Ok);
  auto ct = take_all(server);
  ct[ct.size() / 2] ^= 0x01; // mechanical corruption: one bit inside the encrypted record
  ASSERT_EQ(client.feed_ciphertext(ct.data(), ct.size()), TlsStatus::Ok);
  std::string got;
  EXPECT_EQ(drain(client, got), TlsStatus::Error);
  EXPECT_TRUE(got.empty()); // not one byte of a forged record is released
  EXPECT_TRUE(contains(client.last_error(), "tls read failed")) << client.last_error();
  EXPECT_TRUE(contains(client.last_error(), "bad record mac")) << client.last_error();
  EXPECT_TRUE(client.failed());
  EXPECT_EQ(client.write_plaintext(frame().data(), frame().size()), TlsStatus::Error);
}

TEST_F(TlsSessionTest, NonTlsBytesFailTheHandshakeOnBothRoles) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  // The recorded market-data frame itself, fed where TLS records are expected (as if a plain
  // ws:// server answered a wss:// client), in one piece and byte by byte.
  for (const std::size_t piece : {frame().size(), std::size_t{1}}) {
    TlsSession client = value(TlsSession::client(cctx, "localhost"));
    ASSERT_EQ(client.step(), TlsStatus::WantMore);
    (void)take_all(client);
    TlsSession server = value(TlsSession::server(sctx));
    TlsStatus cs = TlsStatus::WantMore, ss = TlsStatus::WantMore;
    for (std::size_t off = 0; off < frame().size(); off += piece) {
      const std::size_t len = std::min(piece, frame().size() - off);
      if (cs == TlsStatus::WantMore) {
        ASSERT_EQ(client.feed_ciphertext(frame().data() + off, len), TlsStatus::Ok);
        cs = client.step();
      }
      if (ss == TlsStatus::WantMore) {
        ASSERT_EQ(server.feed_ciphertext(frame().data() + off, len), TlsStatus::Ok);
        ss = server.step();
      }
    }
    EXPECT_EQ(cs, TlsStatus::Error);
    EXPECT_EQ(ss, TlsStatus::Error);
    EXPECT_TRUE(contains(client.last_error(), "tls handshake with localhost failed: "))
        << client.last_error();
    EXPECT_TRUE(contains(server.last_error(), "tls handshake (server side) failed: "))
        << server.last_error();
    char buf[8];
    EXPECT_EQ(client.read_plaintext(buf, sizeof buf).status, TlsStatus::Error);
    EXPECT_EQ(server.step(), TlsStatus::Error);
  }
}

// ---- configuration errors ---------------------------------------------------------------------

TEST_F(TlsSessionTest, ReportsConfigurationErrorsInOneLineNamingTheFile) {
  auto expect_error = [](const auto &result, const std::string &must_contain) {
    ASSERT_TRUE(std::holds_alternative<fh::net::TlsError>(result)) << must_contain;
    const std::string &msg = std::get<fh::net::TlsError>(result).message;
    EXPECT_TRUE(contains(msg, must_contain)) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  };
  TlsClientConfig cc;
  cc.ca_file = file("missing-ca.pem");
  expect_error(TlsContext::client(cc), "missing-ca.pem");
  cc = TlsClientConfig{};
  cc.ca_dir = file("missing-dir");
  expect_error(TlsContext::client(cc), "missing-dir");
  expect_error(TlsContext::server(server_config("missing.pem", "server.key")), "missing.pem");
  expect_error(TlsContext::server(server_config("server.pem", "other.key")), "key values mismatch");
  cc = TlsClientConfig{};
  cc.min_version = TlsVersion::Tls13;
  cc.max_version = TlsVersion::Tls12;
  expect_error(TlsContext::client(cc), "min_version");
  // Roles cannot be mixed up.
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  expect_error(TlsSession::server(cctx), "client context");
  expect_error(TlsSession::client(sctx, "localhost"), "server context");
  expect_error(TlsSession::client(cctx, ""), "host name");
}

// ---- allocation -------------------------------------------------------------------------------

struct AllocCounts {
  std::size_t malloc = 0, realloc = 0, free = 0, ours = 0;
  static AllocCounts now() {
    return {g_ossl_malloc.load(), g_ossl_realloc.load(), g_ossl_free.load(), g_new.load()};
  }
  void add_since(const AllocCounts &start) {
    const AllocCounts end = now();
    malloc += end.malloc - start.malloc;
    realloc += end.realloc - start.realloc;
    free += end.free - start.free;
    ours += end.ours - start.ours;
  }
};

TEST_F(TlsSessionTest, SteadyStateGrowsNoBufferAndKeepsOnlyOpenSslPerRecordScratch) {
  ASSERT_TRUE(g_allocation_hooks_installed) << "OpenSSL allocated before static init";
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  auto [client, server] = connected(cctx, sctx);
  std::vector<unsigned char> ct(1 << 16);
  std::vector<char> pt(1 << 16);
  AllocCounts writing, reading;
  std::size_t records = 0;
  const auto round_trip = [&](TlsSession &from, TlsSession &to, const std::string &msg) {
    AllocCounts start = AllocCounts::now();
    if (from.write_plaintext(msg.data(), msg.size()) != TlsStatus::Ok)
      return false;
    const std::size_t n = from.take_ciphertext(ct.data(), ct.size());
    if (from.pending_ciphertext() != 0)
      return false;
    writing.add_since(start);
    start = AllocCounts::now();
    // Delivered in two uneven pieces, the way TCP segments arrive.
    if (to.feed_ciphertext(ct.data(), n / 3) != TlsStatus::Ok)
      return false;
    if (to.feed_ciphertext(ct.data() + n / 3, n - n / 3) != TlsStatus::Ok)
      return false;
    std::size_t got = 0;
    for (;;) {
      const TlsRead r = to.read_plaintext(pt.data() + got, pt.size() - got);
      if (r.status != TlsStatus::Ok) {
        reading.add_since(start);
        records += (msg.size() + 16383) / 16384;
        return r.status == TlsStatus::WantMore && got == msg.size();
      }
      got += r.bytes;
    }
  };
  // Warm-up: record buffers and BIO buffers reach their working size (largest frame first).
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(round_trip(server, client, big_frame())) << client.last_error();
    ASSERT_TRUE(round_trip(client, server, big_frame())) << server.last_error();
  }
  EXPECT_GT(writing.malloc, 0u); // the counters do see OpenSSL
  writing = reading = AllocCounts{};
  records = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string &msg = (i % 10 == 0) ? big_frame() : frame();
    ASSERT_TRUE(round_trip(server, client, msg)) << client.last_error();
    ASSERT_TRUE(round_trip(client, server, msg)) << server.last_error();
  }
  ASSERT_EQ(records, 2 * (900 + 100 * ((big_frame().size() + 16383) / 16384)));
  std::cout << "[ info     ] per record: write "
            << static_cast<double>(writing.malloc) / static_cast<double>(records)
            << " malloc, read "
            << static_cast<double>(reading.malloc) / static_cast<double>(records) << " malloc\n";
  EXPECT_EQ(writing.ours, 0u); // TlsSession itself never allocates on the data path
  EXPECT_EQ(reading.ours, 0u);
  EXPECT_EQ(writing.realloc, 0u); // no buffer grows once warm
  EXPECT_EQ(reading.realloc, 0u);
  EXPECT_EQ(writing.malloc, writing.free); // every scratch allocation is freed at once
  EXPECT_EQ(reading.malloc, reading.free);
  // OpenSSL 3.0's WPACKET sub-packet headers: at most 3 per record written, 1 per record read.
  EXPECT_LE(writing.malloc, 3 * records);
  EXPECT_LE(reading.malloc, 1 * records);
}

// ---- over a kernel socket ---------------------------------------------------------------------

// Blocking send of everything the session has for the peer.
bool flush(int fd, TlsSession &s) {
  unsigned char buf[4096];
  while (std::size_t n = s.take_ciphertext(buf, sizeof buf)) {
    std::size_t off = 0;
    while (off < n) {
      const ssize_t w = ::send(fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w <= 0)
        return false;
      off += static_cast<std::size_t>(w);
    }
  }
  return true;
}

// One blocking recv into the session; false on EOF/error (EOF is told to the session).
bool receive(int fd, TlsSession &s) {
  unsigned char buf[4096];
  const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
  if (r <= 0) {
    s.feed_eof();
    return false;
  }
  return s.feed_ciphertext(buf, static_cast<std::size_t>(r)) == TlsStatus::Ok;
}

bool socket_handshake(int fd, TlsSession &s) {
  for (;;) {
    const TlsStatus st = s.step();
    if (!flush(fd, s) || st == TlsStatus::Error)
      return false;
    if (st == TlsStatus::Ok)
      return true;
    if (!receive(fd, s))
      return false;
  }
}

// Reads plaintext until `want` bytes arrived or the peer closed.
TlsStatus socket_read(int fd, TlsSession &s, std::string &into, std::size_t want) {
  char buf[4096];
  for (;;) {
    const TlsRead r = s.read_plaintext(buf, sizeof buf);
    if (r.status == TlsStatus::Ok) {
      into.append(buf, r.bytes);
      if (into.size() >= want)
        return TlsStatus::Ok;
      continue;
    }
    if (!flush(fd, s))
      return TlsStatus::Error;
    if (r.status != TlsStatus::WantMore)
      return r.status;
    if (!receive(fd, s))
      return s.read_plaintext(buf, sizeof buf).status;
  }
}

void set_timeout(int fd) {
  timeval tv{10, 0}; // a broken test must fail, not hang
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

TEST_F(TlsSessionTest, WorksOverLoopbackTcpSocket) {
  TlsContext cctx = client_ctx(trusting_test_ca());
  TlsContext sctx = server_ctx(server_config());
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr *>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr *>(&addr), &len), 0);

  // Server: echo one frame back, then close with close_notify and wait for the client's.
  std::string server_error, server_got, server_sni;
  TlsStatus server_end = TlsStatus::Error;
  std::thread server_thread([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) {
      server_error = "accept failed";
      return;
    }
    set_timeout(fd);
    auto made = TlsSession::server(sctx);
    TlsSession s = std::move(std::get<TlsSession>(made));
    if (!socket_handshake(fd, s)) {
      server_error = "handshake: " + s.last_error();
    } else {
      server_sni = std::string(s.host());
      if (socket_read(fd, s, server_got, big_frame().size()) != TlsStatus::Ok) {
        server_error = "read: " + s.last_error();
      } else if (s.write_plaintext(server_got.data(), server_got.size()) != TlsStatus::Ok ||
                 s.close() != TlsStatus::Ok || !flush(fd, s)) {
        server_error = "echo: " + s.last_error();
      } else {
        std::string rest;
        server_end = socket_read(fd, s, rest, SIZE_MAX);
      }
    }
    ::close(fd);
  });

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  set_timeout(fd);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  TlsSession client = value(TlsSession::client(cctx, "localhost"));
  const bool shook = socket_handshake(fd, client);
  EXPECT_TRUE(shook) << client.last_error();
  std::string echoed;
  TlsStatus end = TlsStatus::Error;
  if (shook) {
    EXPECT_EQ(client.write_plaintext(big_frame().data(), big_frame().size()), TlsStatus::Ok);
    EXPECT_TRUE(flush(fd, client));
    EXPECT_EQ(socket_read(fd, client, echoed, big_frame().size()), TlsStatus::Ok)
        << client.last_error();
    std::string rest;
    end = socket_read(fd, client, rest, SIZE_MAX);
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(client.close(), TlsStatus::Ok);
    EXPECT_TRUE(flush(fd, client));
  }
  server_thread.join();
  ::close(fd);
  ::close(listener);
  EXPECT_TRUE(server_error.empty()) << server_error;
  EXPECT_EQ(server_sni, "localhost");
  EXPECT_EQ(server_got, big_frame());
  EXPECT_EQ(echoed, big_frame());
  EXPECT_EQ(end, TlsStatus::Closed) << client.last_error(); // the server's close_notify
  EXPECT_EQ(server_end, TlsStatus::Closed) << server_error; // and the client's answer
}

} // namespace
