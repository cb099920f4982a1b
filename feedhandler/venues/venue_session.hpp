#pragma once
// One venue connection kept alive: connect, TLS, WebSocket, paced subscribe, keep-alive,
// no-data timeout, reconnect with jittered backoff and resubscribe, and the snapshot
// procedure (Binance: REST depth snapshots via the RestFetcher while the stream buffers).
//
// Correctness across faults: when the connection is lost the session pushes a
// Status(stale, disconnected) event for every instrument it carried, in band, so the books go
// stale at once and only the snapshot of the next connection makes them synced again. Books
// the builder marks stale on its own (gap, checksum) are resynced per instrument: Binance
// refetches that symbol's snapshot; OKX/Kraken snapshots come with every (re)subscription,
// so a stale book there recovers at the next reconnect (a per-instrument resubscribe is not
// done yet).
//
// Threads: everything runs on the ingest thread that polls the reactor. The session never
// touches the builder (it may live on a book thread): events go into the pipeline, and the
// builder's resync requests come back through pipeline.pop_resync_request(). Call on_tick()
// every few ms (timers, REST responses, paced subscribes).
#include <cstdint>
#include <string>
#include <vector>

#include "feedhandler/backoff.hpp"
#include "feedhandler/book_builder.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/rest_fetcher.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "feedhandler/venues/live_profile.hpp"
#include "feedhandler/wss_connection.hpp"
#include "shm/segment_file.hpp"

namespace fh::venues {

struct SessionOptions {
  Venue venue = Venue::Okx;
  ConnectionPlan plan;
  std::string rest_base;              // "" = the venue's (Binance snapshots)
  BackoffPolicy backoff{};
  std::int64_t no_data_timeout_ms = 0; // 0 = the venue profile's
  std::uint32_t snapshot_limit = 1000;
  std::uint64_t backoff_seed = 1;
};

struct SessionCounters {
  std::uint64_t connects = 0;       // connection attempts
  std::uint64_t opens = 0;          // WebSocket handshakes completed
  std::uint64_t subscribe_rounds = 0; // opens that sent subscribe requests
  std::uint64_t disconnects = 0;
  std::uint64_t snapshots_requested = 0;
  std::uint64_t snapshots_fetched = 0;
  std::uint64_t snapshot_failures = 0;
  std::uint64_t messages = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalives_received = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t no_data_timeouts = 0;

  std::uint64_t reconnects() const noexcept { return opens > 0 ? opens - 1 : 0; }
  std::uint64_t resubscribes() const noexcept { return subscribe_rounds > 0 ? subscribe_rounds - 1 : 0; }
};

template <class Pipeline> class VenueSession {
public:
  VenueSession(net::UringReactor& reactor, const net::TlsContext& tls, RestFetcher* rest,
               InstrumentRegistry& registry, VenueParsers& parsers, Pipeline& pipeline,
               SessionOptions options)
      : options_(std::move(options)), profile_(&live_profile(options_.venue)), rest_(rest),
        registry_(&registry), parsers_(&parsers), pipeline_(&pipeline),
        conn_(reactor, tls, *this, *parse_wss_url(options_.plan.url)),
        backoff_(options_.backoff, options_.backoff_seed), pacer_(profile_->subscribe_interval_ms) {
    if (options_.no_data_timeout_ms == 0) options_.no_data_timeout_ms = profile_->no_data_timeout_ms;
  }

  // Control path: first connect. False (with the reason) if even that cannot start.
  bool start(std::string& error) {
    ++counters_.connects;
    return conn_.start(error);
  }

  // Timers, paced subscribes, REST responses, resyncs. `now_ns`: CLOCK_REALTIME.
  void on_tick(std::int64_t now_ns) {
    if (conn_.state() == WssState::Closed && reconnect_at_ns_ != 0 && now_ns >= reconnect_at_ns_) {
      reconnect_at_ns_ = 0;
      ++counters_.connects;
      std::string error;
      if (!conn_.start(error)) schedule_reconnect(now_ns);
    }
    if (conn_.state() == WssState::Open) {
      while (next_subscribe_ < options_.plan.subscribe_messages.size() && pacer_.try_acquire(now_ns)) {
        (void)conn_.send_text(options_.plan.subscribe_messages[next_subscribe_++]);
      }
      if (profile_->heartbeat == Heartbeat::ClientTextPing &&
          now_ns - last_data_ns_ > profile_->ping_idle_ms * 1'000'000 &&
          now_ns - last_ping_ns_ > profile_->ping_idle_ms * 1'000'000) {
        if (conn_.send_text(ping_text(options_.venue))) ++counters_.keepalives_sent;
        last_ping_ns_ = now_ns;
      }
      if (options_.no_data_timeout_ms > 0 && last_data_ns_ != 0 &&
          now_ns - last_data_ns_ > options_.no_data_timeout_ms * 1'000'000) {
        ++counters_.no_data_timeouts;
        conn_.close(); // on_closed marks the books stale and schedules the reconnect
      }
      std::uint32_t stale = 0;
      while (pipeline_->pop_resync_request(stale)) request_snapshot_for(stale);
    }
    poll_rest();
  }

  const SessionCounters& counters() const noexcept { return counters_; }
  WssConnection<VenueSession>& connection() noexcept { return conn_; }
  bool waiting_to_reconnect() const noexcept { return reconnect_at_ns_ != 0; }

  // ---- WssConnection handler ----
  void on_open() {
    ++counters_.opens;
    if (!options_.plan.subscribe_messages.empty()) ++counters_.subscribe_rounds;
    opened_ns_ = shm::realtime_ns();
    last_data_ns_ = opened_ns_;
    next_subscribe_ = 0;
    if (is_binance(options_.venue))
      for (const auto& native : options_.plan.natives) request_snapshot(native);
  }
  void on_text(std::string_view text, std::int64_t recv_ns) {
    last_data_ns_ = recv_ns;
    if (is_keepalive_text(options_.venue, text)) {
      ++counters_.keepalives_received;
      return;
    }
    ++counters_.messages;
    batch_.clear();
    const ParseStatus st = parsers_->parse(options_.venue, text, recv_ns, batch_);
    if (st == ParseStatus::Ok) pipeline_->push(batch_);
    else if (st != ParseStatus::Ignored) ++counters_.parse_errors;
  }
  void on_binary(std::span<const std::uint8_t>, std::int64_t recv_ns) { last_data_ns_ = recv_ns; }
  void on_closed(const char*) {
    ++counters_.disconnects;
    const std::int64_t now = shm::realtime_ns();
    // In band: every update before this was applied, none after it is trusted.
    for (const auto& native : options_.plan.natives) {
      const Instrument* inst = registry_->find(options_.venue, native);
      if (inst == nullptr) continue;
      Event e = make_event(EventType::Status, options_.venue, inst->id, now);
      e.status.status = BookStatus::Stale;
      e.status.reason = static_cast<std::uint8_t>(BookError::Disconnected);
      pipeline_->push(e);
    }
    backoff_.on_connected_for(opened_ns_ != 0 ? (now - opened_ns_) / 1'000'000 : 0);
    schedule_reconnect(now);
  }

private:
  void schedule_reconnect(std::int64_t now_ns) {
    reconnect_at_ns_ = now_ns + backoff_.next_delay_ms() * 1'000'000;
  }
  void request_snapshot(const std::string& native) {
    if (rest_ == nullptr) return;
    ++counters_.snapshots_requested;
    rest_->submit({next_request_id_++,
                   binance_depth_snapshot_url(options_.venue, native, options_.snapshot_limit,
                                              options_.rest_base),
                   10'000});
  }
  void request_snapshot_for(std::uint32_t instrument) {
    if (!is_binance(options_.venue) || instrument >= registry_->size()) return;
    const Instrument& inst = registry_->at(instrument);
    if (inst.venue == options_.venue) request_snapshot(inst.native);
  }
  void poll_rest() {
    if (rest_ == nullptr) return;
    RestResponse r;
    while (rest_->poll(r)) {
      if (!r.ok()) {
        ++counters_.snapshot_failures;
        continue;
      }
      const std::string symbol = url_symbol(r.url);
      batch_.clear();
      if (parsers_->parse_rest_snapshot(options_.venue, r.body, symbol, r.recv_ts_ns, batch_) ==
          ParseStatus::Ok) {
        ++counters_.snapshots_fetched;
        pipeline_->push(batch_);
      } else {
        ++counters_.snapshot_failures;
      }
    }
  }
  static std::string url_symbol(const std::string& url) {
    const std::size_t at = url.find("symbol=");
    if (at == std::string::npos) return {};
    const std::size_t end = url.find('&', at);
    return url.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
  }

  SessionOptions options_;
  const LiveProfile* profile_;
  RestFetcher* rest_;
  InstrumentRegistry* registry_;
  VenueParsers* parsers_;
  Pipeline* pipeline_;
  WssConnection<VenueSession> conn_;
  Backoff backoff_;
  Pacer pacer_;
  EventBatch batch_{EventBatch::kDefaultCapacity};
  std::size_t next_subscribe_ = 0;
  std::int64_t reconnect_at_ns_ = 0;
  std::int64_t opened_ns_ = 0;
  std::int64_t last_data_ns_ = 0;
  std::int64_t last_ping_ns_ = 0;
  std::uint64_t next_request_id_ = 1;
  SessionCounters counters_;
};

} // namespace fh::venues
