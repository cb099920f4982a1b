#include "bench/loopback/setup.hpp"

#include <sys/utsname.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>
#include <variant>

#include "feedhandler/capture.hpp"
#include "feedhandler/replay_subscriptions.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/dispatch.hpp"

namespace fh::bench::loopback {

std::optional<CaptureInfo> read_capture(const std::string& ws_path, const std::string& http_path,
                                        std::string& error) {
  auto opened = capture::CaptureFile::open(ws_path);
  if (auto* e = std::get_if<capture::Error>(&opened)) {
    error = e->message;
    return std::nullopt;
  }
  CaptureInfo info;
  info.ws_path = ws_path;
  info.http_path = http_path;
  const auto& file = std::get<capture::CaptureFile>(opened);
  std::int64_t first = 0, last = 0;
  for (const capture::Record& r : file.records()) {
    if (r.kind != capture::RecordKind::WsText) continue;
    if (info.frames++ == 0) first = r.recv_ts_ns;
    last = r.recv_ts_ns;
    info.frame_offsets_ns.push_back(r.recv_ts_ns - first);
  }
  std::string why;
  if (auto subs = replay::recorded_subscriptions(Venue::Okx, file, why)) info.natives = subs->natives;
  info.seconds = static_cast<double>(last - first) * 1e-9;
  if (info.frames == 0 || info.natives.empty()) {
    error = ws_path + ": no received frames or no recorded subscribe";
    return std::nullopt;
  }
  return info;
}

std::string start_venue(test::VenueProcess& venue, const test::TestCerts& certs, const CaptureInfo& cap,
                        const VenueArgs& args) {
  std::vector<std::string> argv{"--listen", "127.0.0.1:0", "--cert", certs.localhost_cert(), "--key",
                                certs.localhost_key(), "--pace", args.pace};
  if (args.exit_when_done) argv.emplace_back("--exit-when-done");
  if (!args.send_log.empty()) {
    argv.emplace_back("--send-log");
    argv.push_back(args.send_log);
  }
  argv.push_back(cap.ws_path);
  argv.push_back(cap.http_path);
  const std::string err = venue.start(argv, args.log);
  return err.empty() ? err : "fh-venue (" + test::kVenueBin + "): " + err + " (log: " + args.log + ")";
}

std::optional<std::size_t> load_metadata(const std::string& https_base, const std::string& ca_file,
                                         const std::string& http_path, InstrumentRegistry& registry,
                                         std::string& error) {
  auto http = capture::CaptureFile::open(http_path);
  if (auto* e = std::get_if<capture::Error>(&http)) {
    error = e->message;
    return std::nullopt;
  }
  auto started = RestFetcher::start({ca_file});
  if (auto* e = std::get_if<std::string>(&started)) {
    error = *e;
    return std::nullopt;
  }
  RestFetcher& fetcher = *std::get<std::unique_ptr<RestFetcher>>(started);
  std::size_t requested = 0;
  for (const auto& r : std::get<capture::CaptureFile>(http).records()) {
    if (r.kind != capture::RecordKind::Http) continue;
    const std::string url(r.url);
    fetcher.submit({requested++, https_base + url.substr(url.find('/', 8)), 5000});
  }
  std::size_t instruments = 0, got = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got < requested && std::chrono::steady_clock::now() < deadline) {
    RestResponse resp;
    if (!fetcher.poll(resp)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    ++got;
    if (!resp.ok()) {
      error = "GET " + resp.url + ": " + std::to_string(resp.status) + " " + resp.error;
      return std::nullopt;
    }
    const auto n = venues::load_metadata(Venue::Okx, resp.url, resp.body, registry);
    if (!n) {
      error = "not OKX metadata: " + resp.url;
      return std::nullopt;
    }
    instruments += *n;
  }
  if (got < requested) {
    error = "metadata: " + std::to_string(requested - got) + " REST responses missing after 30 s";
    return std::nullopt;
  }
  return instruments;
}

std::optional<venues::ConnectionPlan> okx_plan(const CaptureInfo& cap, std::uint16_t port, std::string& error) {
  venues::SubscriptionSet subs;
  subs.natives = cap.natives;
  subs.okx_book_channel = "books-l2-tbt"; // the capture's channel
  auto plans = venues::plan_connections(Venue::Okx, subs, "wss://127.0.0.1:" + std::to_string(port));
  if (plans.size() != 1) {
    error = "expected one OKX connection plan, got " + std::to_string(plans.size());
    return std::nullopt;
  }
  return std::move(plans.front());
}

std::optional<Client> make_client(const std::string& ca_file, const net::UringConfig& config,
                                  std::string& error) {
  Client c;
  auto reactor = net::UringReactor::create(config);
  if (auto* e = std::get_if<net::NetError>(&reactor)) {
    error = e->message;
    return std::nullopt;
  }
  c.reactor = std::move(std::get<std::unique_ptr<net::UringReactor>>(reactor));
  net::TlsClientConfig tc;
  tc.ca_file = ca_file;
  auto ctx = net::TlsContext::client(tc);
  if (auto* e = std::get_if<net::TlsError>(&ctx)) {
    error = e->message;
    return std::nullopt;
  }
  c.tls.emplace(std::move(std::get<net::TlsContext>(ctx)));
  return c;
}

std::optional<std::vector<venue_tool::SendRecord>> read_send_log(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = "cannot open send log " + path;
    return std::nullopt;
  }
  const auto bytes = static_cast<std::size_t>(in.tellg());
  if (bytes % sizeof(venue_tool::SendRecord) != 0) {
    error = "send log " + path + ": " + std::to_string(bytes) + " bytes is not a whole number of records";
    return std::nullopt;
  }
  std::vector<venue_tool::SendRecord> records(bytes / sizeof(venue_tool::SendRecord));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(records.data()), static_cast<std::streamsize>(bytes));
  if (!in) {
    error = "read failed: " + path;
    return std::nullopt;
  }
  return records;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
}

} // namespace fh::bench::loopback
