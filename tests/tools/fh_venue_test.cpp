// labels: unit replay
// fh-venue end to end: the real binary is started (posix_spawn) on real captures from data/
// and talked to over loopback TLS (net::TlsSession client mode, verified against a CA made at
// run time with the openssl CLI) with a minimal WebSocket client written here. Expected frames
// are the capture's own received-frame records (read with fh::capture::CaptureFile), and the
// counts are cross-checked against PROVENANCE.md. No venue message is written by hand: the
// client sends the subscribe messages recorded in the capture (its WsSent records).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/venues/live_profile.hpp"
#include "net/tls_context.hpp"
#include "net/tls_session.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/venue_process.hpp"


namespace {

using fh::net::TlsStatus;
using Clock = std::chrono::steady_clock;

const std::string kData = FH_DATA_DIR;
const std::string kOkxWs = kData + "/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
const std::string kOkxHttp = kData + "/okx/cryptofeed/instruments_2022-02-27_http.txt.gz";
const std::string kKrakenWs = kData + "/kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz";
using fh::test::VenueProcess;

// What a capture recorded for one connection.
struct Recorded {
  std::vector<std::string> sent;     // WsSent payloads (subscribe requests)
  std::vector<std::string> received; // WsText payloads, recorded order
  std::vector<std::pair<std::string, std::string>> http; // Http: url, body
};

Recorded load_recorded(const std::string &path) {
  Recorded r;
  auto opened = fh::capture::CaptureFile::open(path);
  if (std::holds_alternative<fh::capture::Error>(opened)) return r;
  for (const auto &rec : std::get<fh::capture::CaptureFile>(opened).records()) {
    if (rec.kind == fh::capture::RecordKind::WsSent) r.sent.emplace_back(rec.payload);
    if (rec.kind == fh::capture::RecordKind::WsText) r.received.emplace_back(rec.payload);
    if (rec.kind == fh::capture::RecordKind::Http) r.http.emplace_back(rec.url, rec.payload);
  }
  return r;
}

// ---- TLS client over a blocking socket -----------------------------------------------------
class TlsClient {
public:
  ~TlsClient() {
    if (fd_ >= 0) close(fd_);
  }
  // Empty on success.
  std::string connect(std::uint16_t port, const fh::net::TlsContext &ctx) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) return "connect failed";
    auto s = fh::net::TlsSession::client(ctx, "127.0.0.1");
    if (auto *e = std::get_if<fh::net::TlsError>(&s)) return e->message;
    session_.emplace(std::move(std::get<fh::net::TlsSession>(s)));
    for (int i = 0; i < 100; ++i) {
      const TlsStatus st = session_->step();
      if (!flush()) return "send failed";
      if (st == TlsStatus::Ok) return "";
      if (st != TlsStatus::WantMore) return "handshake: " + session_->last_error();
      if (pump(5000) <= 0) return "handshake: connection closed";
    }
    return "handshake did not finish";
  }
  bool write(std::string_view plain) {
    return session_->write_plaintext(plain.data(), plain.size()) == TlsStatus::Ok && flush();
  }
  // Appends plaintext to `into`: > 0 bytes, 0 timeout, -1 EOF / closed / error.
  long read(std::string &into, int timeout_ms) {
    char buf[16384];
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const auto r = session_->read_plaintext(buf, sizeof buf);
      if (r.status == TlsStatus::Ok) {
        into.append(buf, r.bytes);
        return static_cast<long>(r.bytes);
      }
      if (r.status != TlsStatus::WantMore) return -1;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return 0;
      // Records without plaintext (TLS 1.3 session tickets) just loop until the deadline.
      if (pump(static_cast<int>(left)) < 0) {
        const auto last = session_->read_plaintext(buf, sizeof buf);
        if (last.status != TlsStatus::Ok) return -1;
        into.append(buf, last.bytes);
        return static_cast<long>(last.bytes);
      }
    }
  }

private:
  bool flush() {
    char buf[16384];
    while (session_->pending_ciphertext() > 0) {
      const std::size_t n = session_->take_ciphertext(buf, sizeof buf);
      if (send(fd_, buf, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) return false;
    }
    return true;
  }
  int pump(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return 0;
    char buf[16384];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      session_->feed_eof();
      return -1;
    }
    return session_->feed_ciphertext(buf, static_cast<std::size_t>(n)) == TlsStatus::Ok ? 1 : -1;
  }
  int fd_ = -1;
  std::optional<fh::net::TlsSession> session_;
};

// ---- minimal WebSocket client --------------------------------------------------------------
struct Received {
  std::vector<std::string> texts;
  bool close_frame = false;  // the server sent a close frame
  unsigned close_code = 0;
  bool eof = false;          // the connection ended (with or without close frame)
};

class WsClient {
public:
  explicit WsClient(TlsClient &tls) : tls_(tls) {}
  // RFC 6455 1.3's sample key; its accept value is quoted from the RFC.
  std::string upgrade(const std::string &target) {
    const std::string req = "GET " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";
    if (!tls_.write(req)) return "write failed";
    while (in_.find("\r\n\r\n") == std::string::npos)
      if (tls_.read(in_, 5000) <= 0) return "no handshake answer";
    const auto end = in_.find("\r\n\r\n") + 4;
    head_ = in_.substr(0, end);
    in_.erase(0, end);
    return "";
  }
  const std::string &head() const { return head_; }

  bool send_text(std::string_view payload) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    const std::size_t n = payload.size();
    if (n < 126) {
      f.push_back(static_cast<char>(0x80U | n));
    } else if (n <= 0xffff) {
      f.push_back(static_cast<char>(0x80U | 126U));
      f.push_back(static_cast<char>(n >> 8));
      f.push_back(static_cast<char>(n & 0xffU));
    } else {
      f.push_back(static_cast<char>(0x80U | 127U));
      for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((n >> s) & 0xffU));
    }
    const unsigned char mask[4] = {0x3a, 0xc5, 0x19, 0x7e};
    for (unsigned char m : mask) f.push_back(static_cast<char>(m));
    for (std::size_t i = 0; i < n; ++i)
      f.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i & 3U]));
    return tls_.write(f);
  }

  // Reads frames until a close frame, EOF, `max_texts` text frames or `timeout_ms` of silence.
  Received collect(std::size_t max_texts, int timeout_ms) {
    Received r;
    for (;;) {
      while (parse_one(r)) {
        if (r.close_frame || r.texts.size() >= max_texts) return r;
      }
      const long n = tls_.read(in_, timeout_ms);
      if (n < 0) {
        while (parse_one(r)) {
        }
        r.eof = true;
        return r;
      }
      if (n == 0) return r;
    }
  }

private:
  // One unmasked server frame from in_, if complete.
  bool parse_one(Received &r) {
    if (in_.size() < 2) return false;
    const auto b0 = static_cast<unsigned char>(in_[0]);
    const auto b1 = static_cast<unsigned char>(in_[1]);
    if ((b1 & 0x80U) != 0) {
      ADD_FAILURE() << "server frame is masked";
      in_.clear();
      return false;
    }
    std::size_t pos = 2;
    std::uint64_t len = b1 & 0x7fU;
    if (len == 126) {
      if (in_.size() < 4) return false;
      len = (static_cast<unsigned>(static_cast<unsigned char>(in_[2])) << 8U) |
            static_cast<unsigned char>(in_[3]);
      pos = 4;
    } else if (len == 127) {
      if (in_.size() < 10) return false;
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8U) | static_cast<unsigned char>(in_[i]);
      pos = 10;
    }
    if (in_.size() < pos + len) return false;
    const std::string payload = in_.substr(pos, static_cast<std::size_t>(len));
    in_.erase(0, pos + static_cast<std::size_t>(len));
    const unsigned op = b0 & 0x0fU;
    EXPECT_NE(b0 & 0x80U, 0U) << "fh-venue sends unfragmented frames";
    if (op == 1) r.texts.push_back(payload);
    if (op == 8) {
      r.close_frame = true;
      if (payload.size() >= 2)
        r.close_code = (static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8U) |
                       static_cast<unsigned char>(payload[1]);
    }
    return true;
  }
  TlsClient &tls_;
  std::string in_;
  std::string head_;
};

// ---- fixture --------------------------------------------------------------------------------
class FhVenueTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    okx_ = new Recorded(load_recorded(kOkxWs));
    okx_http_ = new Recorded(load_recorded(kOkxHttp));
    kraken_ = new Recorded(load_recorded(kKrakenWs));
    certs_ = new fh::test::TestCerts();
    if (!certs_->error().empty()) {
      setup_error_ = new std::string(certs_->error());
      return;
    }
    fh::net::TlsClientConfig cc;
    cc.ca_file = certs_->ca();
    auto ctx = fh::net::TlsContext::client(cc);
    if (auto *e = std::get_if<fh::net::TlsError>(&ctx)) {
      setup_error_ = new std::string(e->message);
      return;
    }
    client_ctx_ = new fh::net::TlsContext(std::move(std::get<fh::net::TlsContext>(ctx)));
  }
  static void TearDownTestSuite() {
    delete certs_; // removes the certificate directory (and venue.log in it)
    delete setup_error_;
    delete client_ctx_;
    delete okx_;
    delete okx_http_;
    delete kraken_;
    certs_ = nullptr;
    setup_error_ = nullptr;
    client_ctx_ = nullptr;
    okx_ = okx_http_ = kraken_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    // PROVENANCE.md: 3,777 received messages in the OKX file, 4,321 in the Kraken one.
    ASSERT_EQ(okx_->received.size(), 3777U);
    ASSERT_EQ(kraken_->received.size(), 4321U);
    ASSERT_EQ(okx_->sent.size(), 3U);
    ASSERT_FALSE(okx_http_->http.empty());
  }

  // Starts fh-venue on the OKX capture (+ instruments) with extra arguments.
  void start_okx(VenueProcess &v, std::vector<std::string> extra) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_->localhost_cert(),
                                  "--key", certs_->localhost_key(), "--pace", "flat"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(kOkxWs);
    args.push_back(kOkxHttp);
    ASSERT_EQ(v.start(args, certs_->file("venue.log")), "");
  }

  // Connects, upgrades on the recorded OKX path and sends the recorded subscribes.
  static std::string open_ws(TlsClient &tls, WsClient &ws, std::uint16_t port,
                             const std::vector<std::string> &subscribes, const std::string &path) {
    if (auto e = tls.connect(port, *client_ctx_); !e.empty()) return e;
    if (auto e = ws.upgrade(path); !e.empty()) return e;
    for (const auto &s : subscribes)
      if (!ws.send_text(s)) return "subscribe send failed";
    return "";
  }

  // HTTPS GET; returns status line + body.
  static std::pair<std::string, std::string> https_get(std::uint16_t port, const std::string &target) {
    TlsClient tls;
    if (auto e = tls.connect(port, *client_ctx_); !e.empty()) return {e, ""};
    if (!tls.write("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return {"write", ""};
    std::string in;
    while (tls.read(in, 5000) > 0) {
    }
    const auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) return {"no answer", ""};
    return {in.substr(0, in.find("\r\n")), in.substr(end + 4)};
  }

  static inline fh::test::TestCerts *certs_ = nullptr;
  static inline std::string *setup_error_ = nullptr;
  static inline fh::net::TlsContext *client_ctx_ = nullptr;
  static inline Recorded *okx_ = nullptr;
  static inline Recorded *okx_http_ = nullptr;
  static inline Recorded *kraken_ = nullptr;
};

const std::string kOkxPath = "/ws/v5/public"; // path of the recorded wss://ws.okx.com:8443 URL

TEST_F(FhVenueTest, ReadyLineNamesPortAndRecordedPath) {
  VenueProcess v;
  start_okx(v, {});
  EXPECT_NE(v.port(), 0U);
  EXPECT_NE(v.ready_line().find("\"wss_url\":\"wss://127.0.0.1:" + std::to_string(v.port()) + kOkxPath + "\""),
            std::string::npos)
      << v.ready_line();
  EXPECT_NE(v.ready_line().find("\"https_base\":\"https://127.0.0.1:" + std::to_string(v.port()) + "\""),
            std::string::npos);
  EXPECT_EQ(v.stop(), 0);
}

TEST_F(FhVenueTest, HandshakeAnswersWithRfcAcceptValue) {
  VenueProcess v;
  start_okx(v, {});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), {}, kOkxPath), "");
  EXPECT_EQ(ws.head().rfind("HTTP/1.1 101", 0), 0U) << ws.head();
  // RFC 6455 section 1.3: key dGhlIHNhbXBsZSBub25jZQ== -> s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
  EXPECT_NE(ws.head().find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
}

TEST_F(FhVenueTest, ServesEveryRecordedFrameInOrderAfterTheRecordedSubscribes) {
  VenueProcess v;
  start_okx(v, {"--exit-when-done"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_EQ(r.texts.size(), okx_->received.size());
  for (std::size_t i = 0; i < r.texts.size(); ++i)
    ASSERT_EQ(r.texts[i], okx_->received[i]) << "frame " << i + 1;
  // The recording's first received frame is OKX's subscribe ack, so the ack comes first.
  EXPECT_EQ(r.texts.front().rfind("{\"event\":\"subscribe\"", 0), 0U);
  EXPECT_TRUE(r.close_frame);
  EXPECT_EQ(r.close_code, 1001U); // going away: --exit-when-done
  EXPECT_EQ(v.wait_exit(), 0);
}

// The recorder sent its 3 subscribes before it received anything, so frames are released only
// once the client has sent all three (gate = recorded subscribes preceding the frame).
TEST_F(FhVenueTest, SendsNothingBeforeTheRecordedSubscribesAreAllSent) {
  VenueProcess v;
  start_okx(v, {});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), {okx_->sent[0], okx_->sent[1]}, kOkxPath), "");
  EXPECT_TRUE(ws.collect(1, 300).texts.empty());
  ASSERT_TRUE(ws.send_text(okx_->sent[2]));
  const Received r = ws.collect(1, 5000);
  ASSERT_EQ(r.texts.size(), 1U);
  EXPECT_EQ(r.texts[0], okx_->received[0]);
}

TEST_F(FhVenueTest, CloseAfterGivesExactlyNFramesThenDropsTheConnection) {
  VenueProcess v;
  start_okx(v, {"--fault", "close-after=100"});
  // A REST request first, as a live session does: faults count WebSocket connections only.
  EXPECT_EQ(https_get(v.port(), "/api/v5/public/instruments?instType=SPOT").first, "HTTP/1.1 200 OK");
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(100000, 5000);
  EXPECT_TRUE(r.eof);
  EXPECT_FALSE(r.close_frame); // abrupt: no WS close frame
  ASSERT_EQ(r.texts.size(), 100U);
  for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(r.texts[i], okx_->received[i]);
}

// After the forced close, a new subscriber gets the acks, then each book from a recorded
// snapshot on, with the updates recorded after it: every frame is a recorded one, in recorded
// order, and every instrument's first book frame is a snapshot.
TEST_F(FhVenueTest, ReconnectAfterCloseStartsEachBookWithARecordedSnapshot) {
  VenueProcess v;
  start_okx(v, {"--fault", "close-after=500", "--exit-when-done"});
  {
    TlsClient tls;
    WsClient ws(tls);
    ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
    ASSERT_EQ(ws.collect(100000, 5000).texts.size(), 500U);
  }
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_FALSE(r.texts.empty());
  EXPECT_EQ(r.texts.front().rfind("{\"event\":\"subscribe\"", 0), 0U);
  // Subsequence of the recording (acks first, then the rest in recorded order).
  std::size_t acks = 0;
  while (acks < r.texts.size() && r.texts[acks].rfind("{\"event\":", 0) == 0) ++acks;
  EXPECT_EQ(acks, 60U); // the recording's 60 subscribe acks (3 subscribes x 20 channels)
  std::size_t at = 0;
  for (std::size_t i = acks; i < r.texts.size(); ++i) {
    while (at < okx_->received.size() && okx_->received[at] != r.texts[i]) ++at;
    ASSERT_LT(at, okx_->received.size()) << "frame " << i + 1 << " is not a recorded frame in order";
    ++at;
  }
  // Recorded frames after the 500th that are not book frames all arrive.
  std::size_t later_non_book = 0, got_non_book = 0;
  for (std::size_t i = 500; i < okx_->received.size(); ++i)
    if (okx_->received[i].find("\"channel\":\"books") == std::string::npos &&
        okx_->received[i].rfind("{\"event\":", 0) != 0)
      ++later_non_book;
  std::vector<std::string> seen_books;
  for (std::size_t i = acks; i < r.texts.size(); ++i) {
    const std::string &t = r.texts[i];
    const auto c = t.find("\"channel\":\"books");
    if (c == std::string::npos) {
      ++got_non_book;
      continue;
    }
    const std::string arg = t.substr(0, t.find('}'));
    if (std::find(seen_books.begin(), seen_books.end(), arg) == seen_books.end()) {
      seen_books.push_back(arg);
      EXPECT_NE(t.find("\"action\":\"snapshot\""), std::string::npos) << arg;
    }
  }
  EXPECT_EQ(got_non_book, later_non_book);
  EXPECT_EQ(seen_books.size(), 10U); // PROVENANCE.md: 10 instruments
  EXPECT_EQ(v.wait_exit(), 0);
}

// A mid-stream unsubscribe + subscribe of one book (the requests a VenueSession sends for a
// per-instrument resync, built by venues::book_resubscribe_messages): fh-venue answers with
// that book's recorded subscribe ack, its last recorded snapshot before the stream position
// and the book's recorded updates since, then goes on with the stream. The stall holds the
// position at frame 1000 while the requests arrive. Every other frame arrives once, in order.
TEST_F(FhVenueTest, ResubscribingOneBookRewindsItToItsLastRecordedSnapshot) {
  VenueProcess v;
  start_okx(v, {"--fault", "stall=1500:after=1000", "--exit-when-done"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received first = ws.collect(1000, 5000);
  ASSERT_EQ(first.texts.size(), 1000U);
  // The book: the one updated last before the position (read from the recording).
  const auto &rec = okx_->received;
  std::string inst;
  for (std::size_t i = 1000; i-- > 0 && inst.empty();)
    if (rec[i].find("\"channel\":\"books-l2-tbt\"") != std::string::npos &&
        rec[i].find("\"action\":\"update\"") != std::string::npos) {
      const auto at = rec[i].find("\"instId\":\"") + 10;
      inst = rec[i].substr(at, rec[i].find('"', at) - at);
    }
  ASSERT_FALSE(inst.empty());
  const std::string key = "\"channel\":\"books-l2-tbt\",\"instId\":\"" + inst + "\"";
  const auto of_book = [&](const std::string &t) { return t.find(key) != std::string::npos; };
  fh::venues::SubscriptionSet spec;
  spec.okx_book_channel = "books-l2-tbt";
  const auto requests = fh::venues::book_resubscribe_messages(fh::Venue::Okx, spec, {inst});
  ASSERT_EQ(requests.size(), 2U);
  for (const auto &m : requests) ASSERT_TRUE(ws.send_text(m));
  const Received rest = ws.collect(100000, 10000);

  // Expected from the recording: the book's first ack, then its frames from its last snapshot
  // (all snapshots precede frame 1000 here) to the end; every other frame from 1000 on.
  std::vector<std::string> want_book, want_other;
  std::size_t last_snapshot = 0;
  for (std::size_t i = 0; i < 1000; ++i)
    if (of_book(rec[i]) && rec[i].find("\"action\":\"snapshot\"") != std::string::npos) last_snapshot = i;
  for (const auto &t : rec)
    if (of_book(t) && t.rfind("{\"event\":\"subscribe\"", 0) == 0) {
      want_book.push_back(t);
      break;
    }
  ASSERT_EQ(want_book.size(), 1U);
  for (std::size_t i = last_snapshot; i < rec.size(); ++i)
    if (of_book(rec[i])) want_book.push_back(rec[i]);
  for (std::size_t i = 1000; i < rec.size(); ++i)
    if (!of_book(rec[i])) want_other.push_back(rec[i]);
  std::vector<std::string> got_book, got_other;
  for (const auto &t : rest.texts) (of_book(t) ? got_book : got_other).push_back(t);
  EXPECT_TRUE(got_other == want_other);
  ASSERT_EQ(got_book.size(), want_book.size());
  for (std::size_t i = 0; i < got_book.size(); ++i) EXPECT_EQ(got_book[i], want_book[i]) << i;
  // A rewind: frames of that book served before the requests are served again.
  std::size_t book_after_position = 0;
  for (std::size_t i = 1000; i < rec.size(); ++i) book_after_position += of_book(rec[i]);
  EXPECT_GT(got_book.size(), 1 + book_after_position);
  EXPECT_EQ(v.wait_exit(), 0);
}

TEST_F(FhVenueTest, DropAtSkipsExactlyThatFrame) {
  VenueProcess v;
  start_okx(v, {"--fault", "drop-at=90", "--exit-when-done"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(100000, 10000);
  std::vector<std::string> expected = okx_->received;
  expected.erase(expected.begin() + 89);
  ASSERT_EQ(r.texts.size(), expected.size());
  EXPECT_TRUE(r.texts == expected);
}

TEST_F(FhVenueTest, CorruptAtTruncatesThatFrameToItsFirstHalf) {
  VenueProcess v;
  start_okx(v, {"--fault", "corrupt-at=85", "--exit-when-done"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_EQ(r.texts.size(), okx_->received.size());
  const std::string &orig = okx_->received[84];
  EXPECT_EQ(r.texts[84], orig.substr(0, orig.size() / 2));
  for (std::size_t i = 0; i < r.texts.size(); ++i)
    if (i != 84) {
      ASSERT_EQ(r.texts[i], okx_->received[i]) << "frame " << i + 1;
    }
}

TEST_F(FhVenueTest, StallPausesTheStreamAfterTheGivenFrame) {
  VenueProcess v;
  start_okx(v, {"--fault", "stall=1000:after=50"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received first = ws.collect(50, 5000);
  ASSERT_EQ(first.texts.size(), 50U);
  const auto t0 = Clock::now();
  EXPECT_TRUE(ws.collect(1, 500).texts.empty()); // inside the stall
  const Received next = ws.collect(1, 5000);
  ASSERT_EQ(next.texts.size(), 1U);
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_EQ(next.texts[0], okx_->received[50]); // nothing lost: the stream resumes in order
}

TEST_F(FhVenueTest, RefuseClosesConnectionsUntilTheWindowEnds) {
  VenueProcess v;
  start_okx(v, {"--fault", "refuse=1500"});
  {
    TlsClient tls;
    EXPECT_NE(tls.connect(v.port(), *client_ctx_), ""); // closed before the TLS handshake
  }
  std::this_thread::sleep_until(v.ready_at() + std::chrono::milliseconds(1700));
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), okx_->sent, kOkxPath), "");
  const Received r = ws.collect(1, 5000);
  ASSERT_EQ(r.texts.size(), 1U);
  EXPECT_EQ(r.texts[0], okx_->received[0]);
}

// The corpus holds no recorded subscribe error for OKX, so the rejection is WS close 1008.
TEST_F(FhVenueTest, RejectSubscribeClosesWithPolicyViolation) {
  VenueProcess v;
  start_okx(v, {"--fault", "reject-subscribe"});
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), {okx_->sent[0]}, kOkxPath), "");
  const Received r = ws.collect(100000, 5000);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_TRUE(r.close_frame);
  EXPECT_EQ(r.close_code, 1008U);
}

TEST_F(FhVenueTest, HttpsServesRecordedBodiesByteIdenticalAnd404Otherwise) {
  VenueProcess v;
  start_okx(v, {});
  for (const auto &[url, body] : okx_http_->http) {
    const std::string target = url.substr(url.find('/', url.find("://") + 3));
    const auto [status, got] = https_get(v.port(), target);
    EXPECT_EQ(status, "HTTP/1.1 200 OK") << target;
    EXPECT_TRUE(got == body) << target;
  }
  EXPECT_EQ(https_get(v.port(), "/api/v5/public/no-such-endpoint").first, "HTTP/1.1 404 Not Found");
}

TEST_F(FhVenueTest, KrakenBookCaptureStreamsEveryRecordedFrame) {
  VenueProcess v;
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_->localhost_cert(), "--key",
                                certs_->localhost_key(), "--exit-when-done", kKrakenWs};
  ASSERT_EQ(v.start(args, certs_->file("venue.log")), "");
  EXPECT_NE(v.ready_line().find("\"wss_url\":\"wss://127.0.0.1:" + std::to_string(v.port()) + "/\""),
            std::string::npos)
      << v.ready_line();
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), kraken_->sent, "/"), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_EQ(r.texts.size(), kraken_->received.size());
  EXPECT_TRUE(r.texts == kraken_->received);
  EXPECT_EQ(v.wait_exit(), 0);
}

} // namespace

namespace {

// Kraken after a forced close: the 11 recorded acks (systemStatus + 10 subscriptionStatus,
// lines 3-13 of the capture), then every pair's book restarts from its recorded snapshot
// ({"as":...,"bs":...}) with the recorded updates after it, all in recorded order.
TEST_F(FhVenueTest, KrakenReconnectStartsEachBookWithItsRecordedSnapshot) {
  VenueProcess v;
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_->localhost_cert(), "--key",
                                certs_->localhost_key(), "--fault", "close-after=300",
                                "--exit-when-done", kKrakenWs};
  ASSERT_EQ(v.start(args, certs_->file("venue.log")), "");
  {
    TlsClient tls;
    WsClient ws(tls);
    ASSERT_EQ(open_ws(tls, ws, v.port(), kraken_->sent, "/"), "");
    ASSERT_EQ(ws.collect(100000, 5000).texts.size(), 300U);
  }
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), kraken_->sent, "/"), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_GT(r.texts.size(), 11U);
  for (std::size_t i = 0; i < 11; ++i) EXPECT_EQ(r.texts[i], kraken_->received[i]);
  std::size_t at = 0;
  std::vector<std::string> pairs;
  for (std::size_t i = 11; i < r.texts.size(); ++i) {
    const std::string &t = r.texts[i];
    while (at < kraken_->received.size() && kraken_->received[at] != t) ++at;
    ASSERT_LT(at, kraken_->received.size()) << "frame " << i + 1 << " is not a recorded frame in order";
    ++at;
    const auto b = t.find("\"book-1000\",\"");
    if (b == std::string::npos) continue;
    const std::string pair = t.substr(b);
    if (std::find(pairs.begin(), pairs.end(), pair) == pairs.end()) {
      pairs.push_back(pair);
      EXPECT_NE(t.find("{\"as\":"), std::string::npos) << pair;
    }
  }
  EXPECT_EQ(pairs.size(), 10U); // PROVENANCE.md: 10 pairs
  EXPECT_EQ(v.wait_exit(), 0);
}

} // namespace

namespace {

const std::string kDeribitWs = kData + "/deribit/cryptofeed/book_ticker_trades_2021-07-22_ws.txt.gz";

// Deribit (JSON-RPC): after the recorded public/subscribe every recorded frame arrives in
// order; PROVENANCE.md: 136 messages, 10 book snapshots.
TEST_F(FhVenueTest, DeribitCaptureStreamsEveryRecordedFrame) {
  const Recorded deribit = load_recorded(kDeribitWs);
  ASSERT_EQ(deribit.sent.size(), 1U);
  VenueProcess v;
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_->localhost_cert(), "--key",
                                certs_->localhost_key(), "--exit-when-done", kDeribitWs};
  ASSERT_EQ(v.start(args, certs_->file("venue.log")), "");
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), deribit.sent, "/ws/api/v2"), "");
  const Received r = ws.collect(100000, 10000);
  ASSERT_EQ(r.texts.size(), deribit.received.size());
  EXPECT_TRUE(r.texts == deribit.received);
  std::size_t snapshots = 0;
  for (const auto &t : r.texts) snapshots += t.find("\"type\":\"snapshot\"") != std::string::npos;
  EXPECT_EQ(snapshots, 10U);
  EXPECT_EQ(v.wait_exit(), 0);
}

// A per-book resync as a session sends it (public/unsubscribe + public/subscribe of one book
// channel): that book restarts from its recorded snapshot with its recorded changes since, and
// the other frames go on once each, in order.
TEST_F(FhVenueTest, DeribitBookResubscribeRewindsThatBookToItsRecordedSnapshot) {
  const Recorded deribit = load_recorded(kDeribitWs);
  const auto &rec = deribit.received;
  constexpr std::size_t kPosition = 100;
  ASSERT_GT(rec.size(), kPosition);
  VenueProcess v;
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--cert", certs_->localhost_cert(), "--key",
                                certs_->localhost_key(), "--fault", "stall=1500:after=100",
                                "--exit-when-done", kDeribitWs};
  ASSERT_EQ(v.start(args, certs_->file("venue.log")), "");
  TlsClient tls;
  WsClient ws(tls);
  ASSERT_EQ(open_ws(tls, ws, v.port(), deribit.sent, "/ws/api/v2"), "");
  ASSERT_EQ(ws.collect(kPosition, 5000).texts.size(), kPosition);
  // The book changed last before the position, read from the recording.
  std::string inst;
  for (std::size_t i = kPosition; i-- > 0 && inst.empty();)
    if (rec[i].find("\"type\":\"change\"") != std::string::npos) {
      const auto at = rec[i].find("\"channel\":\"book.") + 16;
      inst = rec[i].substr(at, rec[i].find(".raw\"", at) - at);
    }
  ASSERT_FALSE(inst.empty());
  const std::string key = "\"channel\":\"book." + inst + ".raw\"";
  const auto of_book = [&](const std::string &t) { return t.find(key) != std::string::npos; };
  fh::venues::SubscriptionSet spec;
  spec.deribit_interval = "raw";
  for (const auto &m : fh::venues::book_resubscribe_messages(fh::Venue::Deribit, spec, {inst}))
    ASSERT_TRUE(ws.send_text(m));
  const Received rest = ws.collect(100000, 10000);
  std::size_t snapshot = rec.size();
  for (std::size_t i = 0; i < kPosition; ++i)
    if (of_book(rec[i]) && rec[i].find("\"type\":\"snapshot\"") != std::string::npos) snapshot = i;
  ASSERT_LT(snapshot, kPosition);
  std::vector<std::string> want_book, want_other, got_book, got_other;
  for (std::size_t i = snapshot; i < rec.size(); ++i)
    if (of_book(rec[i])) want_book.push_back(rec[i]);
  for (std::size_t i = kPosition; i < rec.size(); ++i)
    if (!of_book(rec[i])) want_other.push_back(rec[i]);
  for (const auto &t : rest.texts) (of_book(t) ? got_book : got_other).push_back(t);
  EXPECT_TRUE(got_other == want_other);
  EXPECT_TRUE(got_book == want_book) << got_book.size() << " vs " << want_book.size();
  EXPECT_NE(got_book.front().find("\"type\":\"snapshot\""), std::string::npos);
  EXPECT_EQ(v.wait_exit(), 0);
}

} // namespace
