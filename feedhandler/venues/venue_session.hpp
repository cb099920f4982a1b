#pragma once
// One venue connection kept alive: connect, TLS, WebSocket, paced subscribe, keep-alive,
// no-data timeout, reconnect with jittered backoff and resubscribe, and the snapshot
// procedure (Binance: REST depth snapshots via the RestFetcher while the stream buffers).
//
// Correctness across faults: when the connection is lost the session pushes a
// Status(stale, disconnected) event for every instrument it carried, in band, so the books go
// stale at once and only the snapshot of the next connection makes them synced again. Books
// the builder marks stale on its own (gap, checksum) are resynced per instrument, on the same
// connection: Binance refetches that symbol's REST snapshot; OKX/Kraken send a snapshot with
// every subscription, so the session unsubscribes and subscribes again that book's channel
// (live_profile.hpp book_resubscribe_messages), paced like every other request. Requests that
// arrive together share one unsubscribe/subscribe pair (OKX counts requests per hour). A
// request for a book that already waits for its snapshot (after a (re)subscribe, e.g. the
// stale marks of a disconnect) is ignored: that snapshot is on its way.
//
// Threads: everything runs on the ingest thread that polls the reactor. The session never
// touches the builder (it may live on a book thread): events go into the pipeline, and the
// builder's resync requests come back through pipeline.pop_resync_request(). Call on_tick()
// every few ms (timers, REST responses, paced subscribes).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "feedhandler/backoff.hpp"
#include "feedhandler/book_builder.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/recorder.hpp"
#include "feedhandler/stage_log.hpp"
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
  std::uint32_t max_requests_per_hour = 0; // 0 = the venue profile's (OKX 440 of 480)
  Recorder* recorder = nullptr;       // records every frame received/sent and REST response used
  StageLog* stage_log = nullptr;      // benchmarks only: per-message stage times (stage_log.hpp)
  std::uint32_t record_conn_base = 0; // recorded conn_id = base + connection number
};

struct SessionCounters {
  // Received frames by parse result (keep-alives are counted apart, below).
  std::array<std::uint64_t, static_cast<std::size_t>(ParseStatus::kCount)> by_status{};
  std::uint64_t connects = 0;       // connection attempts
  std::uint64_t opens = 0;          // WebSocket handshakes completed
  std::uint64_t subscribe_rounds = 0; // opens that sent subscribe requests
  std::uint64_t disconnects = 0;
  std::uint64_t snapshots_requested = 0;
  std::uint64_t snapshots_fetched = 0;
  std::uint64_t snapshot_failures = 0;
  std::uint64_t budget_reconnects = 0;   // reconnects instead of passing the request limit
  std::uint64_t snapshots_deferred = 0;  // refetches held back by the per-book pacing
  std::uint64_t snapshots_discarded = 0; // answers to requests of a connection since lost
  std::uint64_t messages = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalives_received = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t no_data_timeouts = 0;
  std::uint64_t instrument_resubscribes = 0; // OKX/Kraken books resubscribed on a live connection
  std::uint64_t resubscribe_requests = 0;    // unsubscribe/subscribe messages sent for them
  std::uint64_t resyncs_ignored = 0;         // resync requests for a book already awaiting a snapshot

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
        const std::string& msg = options_.plan.subscribe_messages[next_subscribe_++];
        if (conn_.send_text(msg)) {
          ++requests_this_hour_;
          record(recording::Kind::WsSent, now_ns, options_.plan.url, msg);
        }
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
      if (!deferred_snapshots_.empty()) retry_deferred_snapshots(now_ns);
      send_resubscribes(now_ns);
    }
    poll_rest();
  }

  // Control path: close for good (feed handler shutdown). Not a venue disconnect: no stale
  // marks (the shm segment is marked Closed instead) and no reconnect.
  void shutdown() noexcept {
    shutting_down_ = true;
    reconnect_at_ns_ = 0;
    conn_.close();
  }

  const SessionCounters& counters() const noexcept { return counters_; }
  // Why the last connection ended (WebSocket, TLS or socket reason).
  const std::string& last_close_reason() const noexcept { return last_close_reason_; }
  WssConnection<VenueSession>& connection() noexcept { return conn_; }
  bool waiting_to_reconnect() const noexcept { return reconnect_at_ns_ != 0; }

  // ---- WssConnection handler ----
  void on_open() {
    ++counters_.opens;
    if (!options_.plan.subscribe_messages.empty()) ++counters_.subscribe_rounds;
    opened_ns_ = shm::realtime_ns();
    last_data_ns_ = opened_ns_;
    record(recording::Kind::WsOpen, opened_ns_, options_.plan.url, {});
    next_subscribe_ = 0;
    budget_window_ns_ = opened_ns_;
    requests_this_hour_ = 0;
    // The subscribe round brings every book's snapshot: nothing else to resync until then.
    resolve_plan_ids();
    resub_pending_.clear();
    resub_outbox_.clear();
    next_resub_message_ = 0;
    // OKX/Kraken push one with the subscription; Binance's are requested just below.
    const bool snapshot_coming =
        options_.plan.spec.book && (!is_binance(options_.venue) || rest_ != nullptr);
    awaiting_count_ = 0;
    for (auto& a : awaiting_snapshot_) {
      a = snapshot_coming ? 1 : 0;
      awaiting_count_ += a;
    }
    if (is_binance(options_.venue)) {
      // Each book's first snapshot of this connection counts as attempt 1 of its refetch pacing.
      snapshot_attempts_.assign(options_.plan.natives.size(), 1);
      snapshot_not_before_.assign(options_.plan.natives.size(), opened_ns_ + kRefetchBaseNs);
      deferred_snapshots_.clear();
      for (const auto& native : options_.plan.natives) request_snapshot(native);
    }
  }
  void on_text(std::string_view text, std::int64_t recv_ns) {
    const std::int64_t decrypted_ns = options_.stage_log != nullptr ? shm::realtime_ns() : 0;
    last_data_ns_ = recv_ns;
    record(recording::Kind::WsText, recv_ns, {}, text);
    if (is_keepalive_text(options_.venue, text)) {
      ++counters_.keepalives_received;
      return;
    }
    ++counters_.messages;
    batch_.clear();
    const ParseStatus st = parsers_->parse(options_.venue, text, recv_ns, batch_);
    ++counters_.by_status[static_cast<std::size_t>(st)];
    if (options_.stage_log != nullptr) [[unlikely]] {
      StageLog& log = *options_.stage_log;
      if (log.count < log.stamps.size()) log.stamps[log.count] = {decrypted_ns, shm::realtime_ns()};
      ++log.count;
    }
    if (st == ParseStatus::Ok) {
      if (awaiting_count_ != 0) note_snapshots();
      pipeline_->push(batch_);
    } else if (st != ParseStatus::Ignored) {
      ++counters_.parse_errors;
    }
  }
  // Binary frames (Upbit JSON, Huobi gzip) go to the venue's binary parser; venues that send
  // none get Ignored. The connection's buffer has SIMDJSON_PADDING bytes after the frame.
  void on_binary(std::span<const std::uint8_t> bytes, std::int64_t recv_ns) {
    last_data_ns_ = recv_ns;
    const std::string_view frame(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    record(recording::Kind::WsBinary, recv_ns, {}, frame);
    ++counters_.messages;
    batch_.clear();
    const ParseStatus st = parsers_->parse_binary(options_.venue, frame, recv_ns, batch_);
    ++counters_.by_status[static_cast<std::size_t>(st)];
    if (st == ParseStatus::Ok) {
      if (awaiting_count_ != 0) note_snapshots();
      pipeline_->push(batch_);
    } else if (st != ParseStatus::Ignored) {
      ++counters_.parse_errors;
    }
  }
  void on_closed(const char* why) {
    if (shutting_down_) return;
    ++counters_.disconnects;
    last_close_reason_ = why != nullptr ? why : "";
    // Snapshots still in flight belong to the lost stream (its buffered updates are gone): the
    // next connection asks again, and two snapshots per book would rewind it.
    first_current_request_ = next_request_id_;
    const std::int64_t now = shm::realtime_ns();
    // In band: every update before this was applied, none after it is trusted. Recorded too,
    // so a replay of the recording marks the same books stale at the same point.
    if (options_.recorder != nullptr) {
      std::string carried;
      for (const auto& native : options_.plan.natives) carried += native + "\n";
      record(recording::Kind::WsClosed, now, options_.plan.url, carried);
    }
    for (const auto& native : options_.plan.natives) {
      const Instrument* inst = find_subscribed(*registry_, options_.venue, native);
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
  // Recording never blocks: a full recorder queue drops the record and counts it.
  void record(recording::Kind kind, std::int64_t ts, std::string_view url,
              std::string_view payload) noexcept {
    if (options_.recorder != nullptr)
      (void)options_.recorder->record(kind, options_.record_conn_base + static_cast<std::uint32_t>(counters_.opens), ts, url,
                                      payload);
  }
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
  // A book the builder marked stale: Binance refetches its REST snapshot; OKX/Kraken queue a
  // resubscribe of this connection's book channel for it.
  void request_snapshot_for(std::uint32_t instrument) {
    const std::size_t i = plan_index(instrument);
    if (i == kNotInPlan || !options_.plan.spec.book) return; // not carried here
    if (awaiting_snapshot_[i] != 0) {
      ++counters_.resyncs_ignored;
      return;
    }
    if (is_binance(options_.venue)) {
      if (rest_ == nullptr) return;
      // Refetch pacing: a snapshot older than the stream (or a gap right after one) asks
      // again, after 1 s, 2 s, 4 s ... capped at 30 s, so a venue whose snapshots lag is
      // not hammered (REST weight limits) and the book still recovers once one is fresh.
      const std::int64_t now = shm::realtime_ns();
      if (i < snapshot_not_before_.size() && now < snapshot_not_before_[i]) {
        if (std::find(deferred_snapshots_.begin(), deferred_snapshots_.end(), instrument) ==
            deferred_snapshots_.end())
          deferred_snapshots_.push_back(instrument);
        ++counters_.snapshots_deferred;
        return;
      }
      if (i < snapshot_attempts_.size()) {
        const std::uint8_t n = snapshot_attempts_[i] < 5 ? snapshot_attempts_[i] : 5;
        snapshot_not_before_[i] = now + std::min<std::int64_t>(kRefetchBaseNs << n, kRefetchCapNs);
        ++snapshot_attempts_[i];
      }
      request_snapshot(options_.plan.natives[i]);
    } else {
      resub_pending_.push_back(i);
    }
    awaiting_snapshot_[i] = 1;
    ++awaiting_count_;
  }
  void retry_deferred_snapshots(std::int64_t now_ns) {
    for (std::size_t k = 0; k < deferred_snapshots_.size();) {
      const std::uint32_t id = deferred_snapshots_[k];
      const std::size_t i = plan_index(id);
      if (i != kNotInPlan && i < snapshot_not_before_.size() && now_ns < snapshot_not_before_[i]) {
        ++k;
        continue;
      }
      deferred_snapshots_.erase(deferred_snapshots_.begin() + static_cast<std::ptrdiff_t>(k));
      request_snapshot_for(id);
    }
  }
  void stop_awaiting(const std::string& native) noexcept {
    for (std::size_t i = 0; i < options_.plan.natives.size(); ++i)
      if (options_.plan.natives[i] == native && awaiting_snapshot_[i] != 0) {
        awaiting_snapshot_[i] = 0;
        --awaiting_count_;
      }
  }
  // Control path, paced: once the subscribe round is out, the queued books go out as one
  // unsubscribe + subscribe pair (up to the venue's arguments per request), then the next.
  void send_resubscribes(std::int64_t now_ns) {
    if (next_subscribe_ < options_.plan.subscribe_messages.size()) return;
    if (next_resub_message_ == resub_outbox_.size() && !resub_pending_.empty()) {
      if (over_request_budget(now_ns, 2)) {
        // The venue would cut us for more requests this hour: reconnect instead, which
        // resubscribes (and resyncs) every book on a connection with a fresh budget.
        ++counters_.budget_reconnects;
        resub_pending_.clear();
        conn_.close();
        return;
      }
      const std::size_t n = std::min<std::size_t>(
          resub_pending_.size(), std::max<std::uint32_t>(1, profile_->max_args_per_subscribe));
      std::vector<std::string> natives;
      for (std::size_t k = 0; k < n; ++k) natives.push_back(options_.plan.natives[resub_pending_[k]]);
      resub_pending_.erase(resub_pending_.begin(),
                           resub_pending_.begin() + static_cast<std::ptrdiff_t>(n));
      resub_outbox_ = book_resubscribe_messages(options_.venue, options_.plan.spec, natives);
      next_resub_message_ = 0;
      counters_.instrument_resubscribes += n;
    }
    while (next_resub_message_ < resub_outbox_.size() && pacer_.try_acquire(now_ns)) {
      const std::string& msg = resub_outbox_[next_resub_message_++];
      if (conn_.send_text(msg)) {
        ++counters_.resubscribe_requests;
        ++requests_this_hour_;
        record(recording::Kind::WsSent, now_ns, options_.plan.url, msg);
      }
    }
  }
  // True when `extra` more requests would pass the venue's hourly per-connection limit.
  bool over_request_budget(std::int64_t now_ns, std::uint32_t extra) noexcept {
    const std::uint32_t budget = options_.max_requests_per_hour != 0
                                     ? options_.max_requests_per_hour
                                     : profile_->max_requests_per_hour;
    if (budget == 0) return false;
    if (now_ns - budget_window_ns_ >= 3'600'000'000'000) {
      budget_window_ns_ = now_ns;
      requests_this_hour_ = 0;
    }
    return requests_this_hour_ + extra > budget;
  }
  // A snapshot in the batch just parsed: that book no longer waits (scanned only while some
  // book waits; no allocation).
  void note_snapshots() noexcept {
    for (const Event& e : batch_) {
      if (e.type != EventType::BookBegin || (e.flags & kFlagSnapshot) == 0) continue;
      const std::size_t i = plan_index(e.instrument);
      if (i != kNotInPlan && awaiting_snapshot_[i] != 0) {
        awaiting_snapshot_[i] = 0;
        --awaiting_count_;
      }
    }
  }
  static constexpr std::size_t kNotInPlan = static_cast<std::size_t>(-1);
  static constexpr auto kNoInstrument = static_cast<std::uint32_t>(InstrumentRegistry::kMaxInstruments);
  std::size_t plan_index(std::uint32_t instrument) const noexcept {
    for (std::size_t i = 0; i < plan_ids_.size(); ++i)
      if (plan_ids_[i] == instrument) return i;
    return kNotInPlan;
  }
  void resolve_plan_ids() {
    const auto& natives = options_.plan.natives;
    plan_ids_.assign(natives.size(), kNoInstrument);
    for (std::size_t i = 0; i < natives.size(); ++i)
      if (const Instrument* inst = find_subscribed(*registry_, options_.venue, natives[i]))
        plan_ids_[i] = inst->id;
    awaiting_snapshot_.assign(natives.size(), 0);
  }
  void poll_rest() {
    if (rest_ == nullptr) return;
    RestResponse r;
    while (rest_->poll(r)) {
      if (r.id < first_current_request_) {
        ++counters_.snapshots_discarded;
        continue;
      }
      const std::string symbol = url_symbol(r.url);
      if (!r.ok()) {
        ++counters_.snapshot_failures;
        stop_awaiting(symbol); // the book stays stale; a later resync request may ask again
        continue;
      }
      record(recording::Kind::Http, r.recv_ts_ns, r.url, r.body);
      batch_.clear();
      if (parsers_->parse_rest_snapshot(options_.venue, r.body, symbol, r.recv_ts_ns, batch_) ==
          ParseStatus::Ok) {
        ++counters_.snapshots_fetched;
        if (awaiting_count_ != 0) note_snapshots();
        pipeline_->push(batch_);
      } else {
        ++counters_.snapshot_failures;
        stop_awaiting(symbol);
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
  // Per-instrument resubscribe (OKX/Kraken), indexed like options_.plan.natives.
  std::vector<std::uint32_t> plan_ids_;          // instrument id per native
  std::vector<std::uint8_t> awaiting_snapshot_;  // a (re)subscribe is out, its snapshot not seen
  static constexpr std::int64_t kRefetchBaseNs = 500'000'000; // Binance snapshot refetch pacing
  static constexpr std::int64_t kRefetchCapNs = 30'000'000'000;
  std::vector<std::uint8_t> snapshot_attempts_;   // per plan index, this connection
  std::vector<std::int64_t> snapshot_not_before_;
  std::vector<std::uint32_t> deferred_snapshots_; // instrument ids waiting for their pacing
  std::size_t awaiting_count_ = 0;
  std::vector<std::size_t> resub_pending_;       // queued, not yet sent
  std::vector<std::string> resub_outbox_;        // the unsubscribe + subscribe being sent
  std::size_t next_resub_message_ = 0;
  std::int64_t reconnect_at_ns_ = 0;
  std::int64_t opened_ns_ = 0;
  std::int64_t last_data_ns_ = 0;
  std::int64_t last_ping_ns_ = 0;
  std::uint64_t next_request_id_ = 1;
  std::uint64_t first_current_request_ = 1; // REST answers below this id are for a lost connection
  bool shutting_down_ = false;
  std::int64_t budget_window_ns_ = 0;   // start of this connection's request-budget hour
  std::uint32_t requests_this_hour_ = 0;
  std::string last_close_reason_;
  SessionCounters counters_;
};

} // namespace fh::venues
