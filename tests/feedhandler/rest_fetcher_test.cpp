// labels: unit replay concurrent
// REST fetches off the hot path, against a local HTTPS server in this test (net/TlsSession in
// server mode over a loopback socket, certificates made at run time) that answers with a REAL
// recorded Binance USD-M depth snapshot response. Verification is on by default: an unknown
// CA and a host-name mismatch are refused with curl's reason; the explicit opt-out works;
// timeouts and HTTP errors come back as responses, never as exceptions or hangs.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <variant>

#include "feedhandler/capture.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "net/tls_context.hpp"
#include "net/tls_session.hpp"
#include "tests/support/replay_helpers.hpp"
#include "tests/support/test_certs.hpp"

namespace fh {
namespace {

using Handler = std::function<std::pair<int, std::string>(const std::string& target)>;

// One connection at a time, blocking sockets: enough for a control-path client.
class TestHttpsServer {
public:
  TestHttpsServer(const std::string& cert, const std::string& key, Handler handler,
                  bool answer = true)
      : handler_(std::move(handler)), answer_(answer) {
    net::TlsServerConfig cfg;
    cfg.cert_chain_file = cert;
    cfg.private_key_file = key;
    auto ctx = net::TlsContext::server(cfg);
    if (auto* e = std::get_if<net::TlsError>(&ctx)) {
      ADD_FAILURE() << e->message;
      return;
    }
    ctx_ = std::make_unique<net::TlsContext>(std::move(std::get<net::TlsContext>(ctx)));
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "listen failed";
      return;
    }
    port_ = ntohs(a.sin_port);
    if (answer_) thread_ = std::thread([this] { run(); });
  }
  ~TestHttpsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  int served() const { return served_.load(); }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }
  static bool flush(net::TlsSession& s, int c) {
    char buf[16384];
    while (s.pending_ciphertext() != 0) {
      const std::size_t n = s.take_ciphertext(buf, sizeof buf);
      for (std::size_t off = 0; off < n;) {
        const ssize_t w = ::send(c, buf + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) return false;
        off += static_cast<std::size_t>(w);
      }
    }
    return true;
  }
  static bool feed(net::TlsSession& s, int c) {
    char buf[16384];
    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) return false;
    return s.feed_ciphertext(buf, static_cast<std::size_t>(n)) == net::TlsStatus::Ok;
  }
  void serve(int c) {
    auto made = net::TlsSession::server(*ctx_);
    if (!std::holds_alternative<net::TlsSession>(made)) return;
    net::TlsSession s = std::move(std::get<net::TlsSession>(made));
    while (!s.handshake_done()) {
      const net::TlsStatus st = s.step();
      if (!flush(s, c) || st == net::TlsStatus::Error) return;
      if (st == net::TlsStatus::Ok) break;
      if (!feed(s, c)) return; // the client refused our certificate, or went away
    }
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const net::TlsRead r = s.read_plaintext(buf, sizeof buf);
      if (r.status == net::TlsStatus::Ok) {
        request.append(buf, r.bytes);
        continue;
      }
      if (r.status != net::TlsStatus::WantMore || !flush(s, c) || !feed(s, c)) return;
    }
    const std::size_t sp1 = request.find(' ');
    const std::size_t sp2 = request.find(' ', sp1 + 1);
    const auto [status, body] = handler_(request.substr(sp1 + 1, sp2 - sp1 - 1));
    const std::string response = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n"
                                 "Content-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
    if (s.write_plaintext(response.data(), response.size()) != net::TlsStatus::Ok) return;
    (void)s.close();
    flush(s, c);
    ++served_;
  }

  Handler handler_;
  bool answer_;
  std::unique_ptr<net::TlsContext> ctx_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

class RestFetcherTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    certs_ = new test::TestCerts();
    auto f = capture::CaptureFile::open(
        test::data_path("binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz"));
    ASSERT_TRUE(std::holds_alternative<capture::CaptureFile>(f));
    const auto& rec = std::get<capture::CaptureFile>(f).records().at(0);
    recorded_url_ = new std::string(rec.url);
    recorded_body_ = new std::string(rec.payload);
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete recorded_url_;
    delete recorded_body_;
  }
  void SetUp() override { ASSERT_EQ(certs_->error(), ""); }

  // Path + query of the recorded request ("/fapi/v1/depth?symbol=...&limit=1000").
  static std::string recorded_target() {
    const std::string& u = *recorded_url_;
    return u.substr(u.find('/', std::string("https://").size()));
  }
  static Handler venue() {
    return [](const std::string& target) -> std::pair<int, std::string> {
      if (target == recorded_target()) return {200, *recorded_body_};
      return {404, R"({"code":-1,"msg":"not found"})"}; // our server's own 404, not venue data
    };
  }
  static RestResponse fetch(RestOptions o, const std::string& url, std::int64_t timeout_ms = 5000) {
    auto started = RestFetcher::start(std::move(o));
    EXPECT_TRUE(std::holds_alternative<std::unique_ptr<RestFetcher>>(started));
    auto& f = *std::get<std::unique_ptr<RestFetcher>>(started);
    RestResponse out;
    EXPECT_FALSE(f.poll(out)); // nothing submitted: nothing ready
    f.submit({7, url, timeout_ms});
    EXPECT_EQ(f.outstanding(), 1u);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!f.poll(out) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(out.id, 7u);
    EXPECT_EQ(f.outstanding(), 0u);
    return out;
  }
  static std::string url(int port, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(port) + recorded_target();
  }
  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  }

  static inline test::TestCerts* certs_ = nullptr;
  static inline std::string* recorded_url_ = nullptr;
  static inline std::string* recorded_body_ = nullptr;
};

TEST_F(RestFetcherTest, FetchesTheRecordedSnapshotByteForByteWithTheConfiguredCa) {
  TestHttpsServer server(certs_->localhost_cert(), certs_->localhost_key(), venue());
  RestOptions o;
  o.ca_file = certs_->ca();
  const RestResponse r = fetch(o, url(server.port()));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.body, *recorded_body_);
  EXPECT_GT(r.recv_ts_ns, 0);
  // By host name too (the certificate names localhost and 127.0.0.1).
  const RestResponse by_name = fetch(o, url(server.port(), "localhost"));
  EXPECT_EQ(by_name.body, *recorded_body_);
}

TEST_F(RestFetcherTest, HttpErrorsAreResponsesNotFailures) {
  TestHttpsServer server(certs_->localhost_cert(), certs_->localhost_key(), venue());
  RestOptions o;
  o.ca_file = certs_->ca();
  const RestResponse r = fetch(o, "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.ok());
}

TEST_F(RestFetcherTest, AnUnknownCaIsRefusedByDefault) {
  TestHttpsServer server(certs_->localhost_cert(), certs_->localhost_key(), venue());
  const RestResponse r = fetch({}, url(server.port())); // system store: the test CA is unknown
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(lower(r.error).find("certificate"), std::string::npos) << r.error;
  EXPECT_TRUE(r.body.empty());
}

TEST_F(RestFetcherTest, AHostNameMismatchIsRefused) {
  // Signed by the trusted CA, but for other.fh.test.
  TestHttpsServer server(certs_->other_cert(), certs_->other_key(), venue());
  RestOptions o;
  o.ca_file = certs_->ca();
  const RestResponse r = fetch(o, url(server.port()));
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_NE(lower(r.error).find("certificate"), std::string::npos) << r.error;
}

TEST_F(RestFetcherTest, SkippingVerificationIsAnExplicitOptIn) {
  TestHttpsServer server(certs_->self_signed_cert(), certs_->self_signed_key(), venue());
  RestOptions o;
  o.insecure_skip_verify = true;
  const RestResponse r = fetch(o, url(server.port()));
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, *recorded_body_);
}

TEST_F(RestFetcherTest, AServerThatNeverAnswersTimesOut) {
  TestHttpsServer server(certs_->localhost_cert(), certs_->localhost_key(), venue(), false);
  RestOptions o;
  o.ca_file = certs_->ca();
  const auto t0 = std::chrono::steady_clock::now();
  const RestResponse r = fetch(o, url(server.port()), 300);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(lower(r.error).find("timeout"), std::string::npos) << r.error;
  EXPECT_LT(took, std::chrono::seconds(5));
}

} // namespace
} // namespace fh
