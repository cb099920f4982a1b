// Latency phase (phases.hpp): fh-venue writes frame k -> our book has applied it, over one
// loopback TLS + WebSocket connection, matched by frame number with fh-venue's --send-log.
#include <chrono>

#include "bench/loopback/okx_feed.hpp"
#include "bench/loopback/phases.hpp"

namespace fh::bench::loopback {

bool run_latency(const PhaseContext& ctx, const std::string& pace, LatencyResult& out, std::string& error) {
  out.pace = pace;
  const std::string log_path = ctx.work_dir + "/latency.sendlog";
  test::VenueProcess venue;
  error = start_venue(venue, *ctx.certs, *ctx.cap, {pace, true, log_path, ctx.work_dir + "/fh-venue-latency.log"});
  if (!error.empty()) return false;

  InstrumentRegistry registry;
  if (!load_metadata("https://127.0.0.1:" + std::to_string(venue.port()), ctx.certs->ca(), ctx.cap->http_path,
                     registry, error))
    return false;
  const auto plan = okx_plan(*ctx.cap, venue.port(), error);
  if (!plan) return false;
  auto client = make_client(ctx.certs->ca(), net::UringConfig{}, error);
  if (!client) return false;
  net::UringReactor& reactor = *client->reactor;

  OkxFeed feed(registry, plan->natives, plan->subscribe_messages, ctx.cap->frames + 64);
  WssConnection<OkxFeed> conn(reactor, *client->tls, feed, *parse_wss_url(plan->url));
  feed.attach(conn, true);
  if (!conn.start(error)) return false;
  ReactorDispatch<WssConnection<OkxFeed>> dispatch{&reactor, {}};
  dispatch.add(conn);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<std::int64_t>(ctx.timeout_s * 1000));
  // fh-venue --exit-when-done closes the connection (WS close 1001) after the last frame.
  while (!feed.closed() && std::chrono::steady_clock::now() < deadline)
    reactor.run_once(dispatch, std::chrono::milliseconds(50));
  out.batches = reactor.stats().batches;
  out.recv_completions = reactor.stats().recv_completions;
  out.reactor = std::string(net::to_cstring(reactor.recv_mode())) +
                (reactor.defer_taskrun_active() ? ", defer_taskrun" : ", no defer_taskrun") + ", blocking wait";
  if (!feed.opened()) {
    error = "latency: the WebSocket never opened: " + conn.last_error();
    return false;
  }
  if (!feed.closed()) (void)venue.stop();
  else (void)venue.wait_exit(); // its connection threads have flushed the send log
  out.received = feed.texts();
  out.parse_errors = feed.parse_errors();
  out.books = feed.book_totals();

  const auto records = read_send_log(log_path, error);
  if (!records) return false;
  // Frame k's send time, k = 1..n, connection 1 only.
  std::vector<std::int64_t> sent(ctx.cap->frames + 2, 0);
  std::uint64_t duplicates = 0, out_of_range = 0, other_conn = 0;
  for (const auto& r : *records) {
    if (r.connection != 1) {
      ++other_conn;
      continue;
    }
    if (r.frame == 0 || r.frame >= sent.size()) {
      ++out_of_range;
      continue;
    }
    duplicates += sent[r.frame] != 0;
    sent[r.frame] = r.realtime_ns;
    ++out.send_log;
  }
  std::uint64_t holes = 0;
  for (std::uint64_t k = 1; k <= out.send_log && k < sent.size(); ++k) holes += sent[k] == 0;
  out.counts_match = out.received == ctx.cap->frames && out.send_log == ctx.cap->frames && duplicates == 0 &&
                     out_of_range == 0 && other_conn == 0 && holes == 0;
  if (!out.counts_match)
    out.mismatch = "capture " + std::to_string(ctx.cap->frames) + ", received " + std::to_string(out.received) +
                   ", logged " + std::to_string(out.send_log) + " (duplicates " + std::to_string(duplicates) +
                   ", beyond capture " + std::to_string(out_of_range) + ", other connections " +
                   std::to_string(other_conn) + ", holes " + std::to_string(holes) + ")";

  std::vector<std::int64_t> e2e, wire, ours, be2e, bwire, bours;
  const std::uint64_t n = std::min<std::uint64_t>({out.received, feed.samples().size(), sent.size() - 1});
  for (std::uint64_t k = 1; k <= n; ++k) {
    if (sent[k] == 0) continue;
    const FrameStamps& s = feed.samples()[k - 1];
    e2e.push_back(s.booked_ns - sent[k]);
    wire.push_back(s.recv_ns - sent[k]);
    ours.push_back(s.booked_ns - s.recv_ns);
    if (s.book) {
      be2e.push_back(e2e.back());
      bwire.push_back(wire.back());
      bours.push_back(ours.back());
    }
  }
  out.end_to_end = summarize(e2e);
  out.wire = summarize(wire);
  out.ours = summarize(ours);
  out.book_end_to_end = summarize(be2e);
  out.book_wire = summarize(bwire);
  out.book_ours = summarize(bours);
  return true;
}

} // namespace fh::bench::loopback
