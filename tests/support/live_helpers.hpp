#pragma once
// Shared by the live tests (fh-venue over loopback): reactor dispatch to one connection, OKX
// metadata over https from fh-venue, and the instruments a recorded OKX session subscribed.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "feedhandler/replay_subscriptions.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "net/tls_context.hpp"
#include "net/uring_reactor.hpp"
#include "tests/support/replay_helpers.hpp"

namespace fh::test {

// Reactor events -> one WssConnection.
template <class Connection> struct Dispatch {
  Connection* c;
  void on_connected(net::ConnId id) { c->on_connected(id); }
  void on_data(net::ConnId id, net::RecvBuffer b, std::int64_t ns) { c->on_data(id, b, ns); }
  void on_no_data(net::ConnId) {}
  void on_closed(net::ConnId id, net::CloseReason r, int e) { c->on_closed(id, r, e); }
  void on_timer(net::TimerId, std::uint64_t) {}
};

// Every REST response recorded in `http_capture`, fetched from `base` (fh-venue) and loaded as
// metadata of venue `v`. Returns the instruments loaded.
inline std::size_t load_metadata_via_rest(RestFetcher& fetcher, const std::string& base,
                                          const std::string& http_capture, Venue v,
                                          InstrumentRegistry& registry) {
  auto http = capture::CaptureFile::open(data_path(http_capture));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(http));
  if (!std::holds_alternative<capture::CaptureFile>(http)) return 0;
  std::size_t requested = 0, instruments = 0;
  for (const auto& r : std::get<capture::CaptureFile>(http).records()) {
    if (r.kind != capture::RecordKind::Http) continue;
    const std::string url(r.url);
    fetcher.submit({requested++, base + url.substr(url.find('/', 8)), 5000});
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::size_t got = 0; got < requested && std::chrono::steady_clock::now() < deadline;) {
    RestResponse resp;
    if (!fetcher.poll(resp)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    ++got;
    EXPECT_TRUE(resp.ok()) << resp.url << ": " << resp.status << " " << resp.error;
    const auto n = venues::load_metadata(v, resp.url, resp.body, registry);
    EXPECT_TRUE(n.has_value()) << resp.url;
    instruments += n.value_or(0);
  }
  return instruments;
}

// The instIds an OKX session subscribed to (its recorded subscribe requests).
inline std::vector<std::string> recorded_okx_natives(const std::string& ws_capture) {
  auto ws = capture::CaptureFile::open(data_path(ws_capture));
  EXPECT_TRUE(std::holds_alternative<capture::CaptureFile>(ws));
  if (!std::holds_alternative<capture::CaptureFile>(ws)) return {};
  std::string why;
  auto subs = replay::recorded_subscriptions(Venue::Okx, std::get<capture::CaptureFile>(ws), why);
  EXPECT_TRUE(subs.has_value()) << why;
  return subs ? subs->natives : std::vector<std::string>{};
}

// The client side of a live test: a reactor and a TLS context trusting the test CA. ok()
// is false (with a test failure saying why) if either could not be made.
struct LiveClient {
  std::unique_ptr<net::UringReactor> reactor;
  std::optional<net::TlsContext> tls;
  bool ok() const { return reactor != nullptr && tls.has_value(); }
};

inline LiveClient make_live_client(const std::string& ca_file) {
  LiveClient c;
  auto reactor = net::UringReactor::create({});
  if (auto* e = std::get_if<net::NetError>(&reactor)) ADD_FAILURE() << e->message;
  else c.reactor = std::move(std::get<std::unique_ptr<net::UringReactor>>(reactor));
  net::TlsClientConfig tc;
  tc.ca_file = ca_file;
  auto ctx = net::TlsContext::client(tc);
  if (auto* e = std::get_if<net::TlsError>(&ctx)) ADD_FAILURE() << e->message;
  else c.tls.emplace(std::move(std::get<net::TlsContext>(ctx)));
  return c;
}

} // namespace fh::test
