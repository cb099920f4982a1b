// Throughput phase (phases.hpp): N connections to fh-venue at flat pace, every one on this
// thread's reactor, parse + book per connection. All N WebSocket handshakes complete before
// any subscribe is sent, so fh-venue gives every connection the whole recording (its frames
// wait for the subscribe) and each connection must receive exactly the capture's frames.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "bench/loopback/okx_feed.hpp"
#include "bench/loopback/phases.hpp"

namespace fh::bench::loopback {
namespace {

struct CpuTimes {
  double user_s = 0, sys_s = 0;
};
CpuTimes thread_cpu() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return {s(ru.ru_utime), s(ru.ru_stime)};
}

} // namespace

bool run_throughput(const PhaseContext& ctx, std::uint32_t connections, ThroughputResult& out,
                    std::string& error) {
  out.connections = connections;
  const std::string tag = std::to_string(connections);
  const std::string log_path = ctx.work_dir + "/throughput-" + tag + ".sendlog";
  test::VenueProcess venue;
  error = start_venue(venue, *ctx.certs, *ctx.cap,
                      {"flat", false, log_path, ctx.work_dir + "/fh-venue-throughput-" + tag + ".log"});
  if (!error.empty()) return false;

  InstrumentRegistry registry;
  if (!load_metadata("https://127.0.0.1:" + std::to_string(venue.port()), ctx.certs->ca(), ctx.cap->http_path,
                     registry, error))
    return false;
  const auto plan = okx_plan(*ctx.cap, venue.port(), error);
  if (!plan) return false;
  net::UringConfig config;
  config.max_connections = std::max<std::uint32_t>(64, connections + 8);
  config.ring_buffers = 1024; // many connections share one provided-buffer ring
  auto client = make_client(ctx.certs->ca(), config, error);
  if (!client) return false;
  net::UringReactor& reactor = *client->reactor;

  using Conn = WssConnection<OkxFeed>;
  std::vector<std::unique_ptr<OkxFeed>> feeds;
  std::vector<std::unique_ptr<Conn>> conns;
  ReactorDispatch<Conn> dispatch{&reactor, {}};
  const auto target = *parse_wss_url(plan->url);
  for (std::uint32_t i = 0; i < connections; ++i) {
    feeds.push_back(std::make_unique<OkxFeed>(registry, plan->natives, plan->subscribe_messages, 0));
    conns.push_back(std::make_unique<Conn>(reactor, *client->tls, *feeds.back(), target));
    feeds.back()->attach(*conns.back(), false);
    if (!conns.back()->start(error)) return false;
    dispatch.add(*conns.back());
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<std::int64_t>(ctx.timeout_s * 1000));
  auto all = [&](auto pred) { return std::all_of(feeds.begin(), feeds.end(), [&](const auto& f) { return pred(*f); }); };
  while (!all([](const OkxFeed& f) { return f.opened() || f.closed(); }) &&
         std::chrono::steady_clock::now() < deadline)
    reactor.run_once(dispatch, std::chrono::milliseconds(50));
  if (!all([](const OkxFeed& f) { return f.opened() && !f.closed(); })) {
    error = "throughput: not every WebSocket opened";
    return false;
  }
  // Let fh-venue's connection threads take their scripts before the first subscribe.
  const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < settle) reactor.run_once(dispatch, std::chrono::milliseconds(10));

  const net::UringStats before = reactor.stats();
  const CpuTimes cpu0 = thread_cpu();
  const std::int64_t t0 = shm::realtime_ns();
  for (auto& f : feeds) (void)f->send_subscribes();
  const std::uint64_t expected = static_cast<std::uint64_t>(connections) * ctx.cap->frames;
  auto total = [&] {
    std::uint64_t n = 0;
    for (const auto& f : feeds) n += f->texts();
    return n;
  };
  auto last_progress = std::chrono::steady_clock::now();
  std::uint64_t seen = 0;
  while (seen < expected && std::chrono::steady_clock::now() < deadline &&
         std::chrono::steady_clock::now() - last_progress < std::chrono::seconds(3)) {
    reactor.run_once(dispatch, std::chrono::milliseconds(50));
    const std::uint64_t now_total = total();
    if (now_total != seen) last_progress = std::chrono::steady_clock::now();
    seen = now_total;
  }
  const CpuTimes cpu1 = thread_cpu();
  const net::UringStats after = reactor.stats();
  std::int64_t last = t0;
  for (const auto& f : feeds) last = std::max(last, f->last_recv_ns());

  out.frames = seen;
  out.wall_s = static_cast<double>(last - t0) * 1e-9;
  out.user_s = cpu1.user_s - cpu0.user_s;
  out.sys_s = cpu1.sys_s - cpu0.sys_s;
  out.cpu_s = out.user_s + out.sys_s;
  out.frames_per_s = out.wall_s > 0 ? static_cast<double>(out.frames) / out.wall_s : 0;
  out.frames_per_cpu_s = out.cpu_s > 0 ? static_cast<double>(out.frames) / out.cpu_s : 0;
  out.batches = after.batches - before.batches;
  out.recv_completions = after.recv_completions - before.recv_completions;
  out.enobufs = after.enobufs - before.enobufs;
  std::vector<std::uint64_t> received;
  for (const auto& f : feeds) {
    const BookCounters b = f->book_totals();
    out.checksum_ok += b.checksum_ok;
    out.checksum_fail += b.checksum_fail;
    out.parse_errors += f->parse_errors();
    received.push_back(f->texts());
  }

  (void)venue.stop(); // SIGTERM: fh-venue closes every connection, its threads flush the log
  const auto records = read_send_log(log_path, error);
  if (!records) return false;
  std::map<std::uint32_t, std::uint64_t> per_conn;
  for (const auto& r : *records) ++per_conn[r.connection];
  std::vector<std::uint64_t> logged;
  for (const auto& [c, n] : per_conn) {
    logged.push_back(n);
    out.send_log += n;
  }
  // fh-venue numbers connections in the order its threads reached the WebSocket handshake,
  // which need not be our order: compare per-connection counts as sets.
  std::sort(received.begin(), received.end());
  std::sort(logged.begin(), logged.end());
  out.counts_match = received == logged && received.size() == connections &&
                     std::all_of(received.begin(), received.end(), [&](std::uint64_t n) { return n == ctx.cap->frames; });
  if (!out.counts_match)
    out.mismatch = "per connection: capture " + std::to_string(ctx.cap->frames) + ", received min " +
                   std::to_string(received.empty() ? 0 : received.front()) + " max " +
                   std::to_string(received.empty() ? 0 : received.back()) + ", logged connections " +
                   std::to_string(logged.size()) + " total " + std::to_string(out.send_log);
  return true;
}

} // namespace fh::bench::loopback
