#include "feedhandler/live_engine.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "feedhandler/affinity.hpp"
#include "feedhandler/backoff.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/summary_json.hpp"
#include "feedhandler/venues/metadata_urls.hpp"
#include "net/uring_reactor.hpp"

namespace fh {
namespace {

// Publishes into shm when the engine has a segment; otherwise books are only built.
struct EnginePublisher {
  ShmPublisher* shm = nullptr;
  void observe(const Event& e) noexcept {
    if (shm != nullptr) shm->observe(e);
  }
  void on_notice(const BookNotice& n, const Event& e) noexcept {
    if (shm != nullptr) shm->on_notice(n, e);
  }
};

// The sessions' view of the pipeline: counts events, passes resync requests back.
template <class Inner> struct CountingPipeline {
  Inner* inner;
  std::uint64_t events = 0;
  void push(const EventBatch& batch) noexcept {
    events += batch.size();
    inner->push(batch);
  }
  void push(const Event& e) noexcept {
    ++events;
    inner->push(e);
  }
  bool pop_resync_request(std::uint32_t& id) noexcept { return inner->pop_resync_request(id); }
};

// Reactor events -> the session whose connection they belong to (by slot, checked by id).
template <class Session> struct EngineDispatch {
  std::vector<std::unique_ptr<Session>>* sessions;
  std::vector<std::uint32_t> owner; // reactor slot -> session index

  void refresh() {
    for (std::uint32_t i = 0; i < sessions->size(); ++i) {
      const net::ConnId id = (*sessions)[i]->connection().conn();
      if (!id.valid()) continue;
      if (id.slot >= owner.size()) owner.resize(id.slot + 1, ~0u);
      owner[id.slot] = i;
    }
  }
  WssConnection<Session>* find(net::ConnId id) noexcept {
    if (id.slot < owner.size() && owner[id.slot] < sessions->size()) {
      auto& c = (*sessions)[owner[id.slot]]->connection();
      if (c.conn() == id) return &c;
    }
    for (auto& s : *sessions)
      if (s->connection().conn() == id) return &s->connection();
    return nullptr;
  }
  void on_connected(net::ConnId id) {
    if (auto* c = find(id)) c->on_connected(id);
  }
  void on_data(net::ConnId id, net::RecvBuffer b, std::int64_t ns) {
    if (auto* c = find(id)) c->on_data(id, b, ns);
  }
  void on_no_data(net::ConnId) {}
  void on_closed(net::ConnId id, net::CloseReason r, int e) {
    if (auto* c = find(id)) c->on_closed(id, r, e);
  }
  void on_timer(net::TimerId, std::uint64_t) {}
};

std::int64_t now_ns() noexcept { return shm::realtime_ns(); }

} // namespace

EngineOptions engine_options(const Config& config) {
  EngineOptions o;
  for (const VenueConfig& vc : config.venues) {
    for (auto& plan : venues::plan_connections(vc.venue, vc.subscriptions, vc.ws_url)) {
      venues::SessionOptions so;
      so.venue = vc.venue;
      so.plan = std::move(plan);
      so.rest_base = vc.rest_url;
      so.backoff_seed = o.sessions.size() + 1;
      o.sessions.push_back(std::move(so));
    }
    o.metadata.emplace_back(vc.venue, vc.rest_url);
  }
  o.tls = config.tls;
  o.pipelined = config.pipelined;
  o.ingest_core = config.ingest_core;
  o.book_core = config.book_core;
  ShmOutputOptions shm;
  shm.name = config.shm.name;
  shm.depth = config.shm.depth;
  shm.journal_capacity = config.shm.journal_records;
  shm.max_instruments = config.shm.instruments;
  shm.mode = config.shm.mode;
  o.shm = shm;
  o.record = config.record;
  return o;
}

LiveEngine::LiveEngine(EngineOptions options, ControlLog& log)
    : options_(std::move(options)), log_(&log), builder_(registry_),
      mode_(options_.pipelined ? "threaded" : "fused") {}

LiveEngine::~LiveEngine() = default;

std::variant<std::unique_ptr<LiveEngine>, std::string> LiveEngine::create(EngineOptions options,
                                                                          ControlLog& log) {
  if (options.sessions.empty()) return std::string("no venue connection configured");
  std::unique_ptr<LiveEngine> e(new LiveEngine(std::move(options), log));
  const EngineOptions& o = e->options_;

  net::TlsClientConfig tc;
  tc.ca_file = o.tls.ca_file;
  tc.ca_dir = o.tls.ca_dir;
  tc.insecure_skip_verify = o.tls.insecure_skip_verify;
  auto tls = net::TlsContext::client(tc);
  if (auto* err = std::get_if<net::TlsError>(&tls)) return "tls: " + err->message;
  e->tls_.emplace(std::move(std::get<net::TlsContext>(tls)));
  if (o.tls.insecure_skip_verify)
    log.warn("tls.insecure", {{"detail", "certificate and host name verification are OFF"}});

  RestOptions ro;
  ro.ca_file = o.tls.ca_file;
  ro.insecure_skip_verify = o.tls.insecure_skip_verify;
  auto rest = RestFetcher::start(ro);
  if (auto* err = std::get_if<std::string>(&rest)) return "rest: " + *err;
  e->rest_ = std::move(std::get<std::unique_ptr<RestFetcher>>(rest));

  if (o.shm) {
    auto out = ShmOutput::open(*o.shm);
    if (auto* err = std::get_if<std::string>(&out)) return "shm: " + *err;
    e->shm_ = std::move(std::get<std::unique_ptr<ShmOutput>>(out));
    for (const auto& [venue, base] : o.metadata)
      (void)e->shm_->writer().set_venue_name(static_cast<std::uint8_t>(venue), venue_name(venue));
    log.info("shm.open", {{"segment", e->shm_->writer().path()}});
  }

  if (!o.record.directory.empty()) {
    for (const auto& [venue, base] : o.metadata) {
      if (e->recorder_for(venue) != nullptr) continue;
      RecorderOptions ropt;
      ropt.directory = o.record.directory;
      ropt.prefix = std::string(venue_name(venue));
      ropt.venue = std::string(venue_name(venue));
      ropt.rotate_bytes = o.record.rotate_bytes;
      ropt.rotate_seconds = o.record.rotate_seconds;
      auto rec = Recorder::open(ropt);
      if (auto* err = std::get_if<std::string>(&rec)) return "record: " + *err;
      e->recorders_.emplace_back(venue, std::move(std::get<std::unique_ptr<Recorder>>(rec)));
    }
    log.info("record.start", {{"directory", o.record.directory}});
  }
  std::uint32_t index = 0;
  for (auto& s : e->options_.sessions) {
    s.recorder = e->recorder_for(s.venue);
    s.record_conn_base = index++ << 16; // connection numbers stay unique across sessions
  }
  return e;
}

Recorder* LiveEngine::recorder_for(Venue v) noexcept {
  for (auto& [venue, rec] : recorders_)
    if (venue == v) return rec.get();
  return nullptr;
}

bool LiveEngine::load_metadata(std::string& error) {
  struct Pending {
    Venue venue;
    std::string url;
  };
  std::vector<Pending> pending;
  for (const auto& [venue, base] : options_.metadata) {
    std::vector<std::string> natives;
    for (const auto& so : options_.sessions)
      if (so.venue == venue) natives.insert(natives.end(), so.plan.natives.begin(), so.plan.natives.end());
    for (auto& url : venues::metadata_urls(venue, base, natives)) {
      rest_->submit({pending.size(), url, options_.metadata_timeout_ms});
      pending.push_back({venue, std::move(url)});
    }
  }
  std::vector<std::uint64_t> loaded(static_cast<std::size_t>(Venue::kCount), 0);
  // A failed request (venue refusing connections, 5xx, timeout) is retried with backoff until
  // the deadline: a venue that is briefly unreachable at start must not stop the feed handler.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.metadata_timeout_ms);
  std::vector<bool> finished(pending.size(), false);
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::size_t>> retries;
  Backoff backoff(BackoffPolicy{100, 5000, 50, 60'000}, 7);
  std::size_t answered = 0, outstanding = pending.size();
  while (outstanding > 0 && std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = retries.begin(); it != retries.end();) {
      if (it->first > now) {
        ++it;
        continue;
      }
      rest_->submit({it->second, pending[it->second].url, options_.metadata_timeout_ms});
      it = retries.erase(it);
    }
    RestResponse r;
    if (!rest_->poll(r)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (r.id >= pending.size() || finished[r.id]) continue;
    const Pending& p = pending[r.id];
    const bool retryable = !r.ok() && (r.status == 0 || r.status == 429 || r.status >= 500);
    if (retryable) {
      log_->warn("metadata.retry", {{"venue", venue_name(p.venue)}, {"url", p.url},
                                    {"status", r.status}, {"error", r.error}});
      retries.emplace_back(now + std::chrono::milliseconds(backoff.next_delay_ms()), r.id);
      continue;
    }
    finished[r.id] = true;
    --outstanding;
    ++answered;
    if (!r.ok()) {
      // One missing instrument type (e.g. a venue without futures) is not fatal; a venue with
      // no instruments at all is (checked below).
      log_->warn("metadata.failed", {{"venue", venue_name(p.venue)}, {"url", p.url},
                                     {"status", r.status}, {"error", r.error}});
      continue;
    }
    if (Recorder* rec = recorder_for(p.venue))
      (void)rec->record(recording::Kind::Http, 0, r.recv_ts_ns, r.url, r.body);
    const auto n = venues::load_metadata(p.venue, r.url, r.body, registry_);
    if (!n) {
      log_->warn("metadata.unreadable", {{"venue", venue_name(p.venue)}, {"url", p.url}});
      continue;
    }
    loaded[static_cast<std::size_t>(p.venue)] += *n;
    counters_.metadata_instruments += *n;
  }
  for (const auto& [venue, base] : options_.metadata) {
    const std::uint64_t n = loaded[static_cast<std::size_t>(venue)];
    if (n == 0) {
      error = std::string(venue_name(venue)) + ": no instrument metadata loaded (" +
              std::to_string(answered) + "/" + std::to_string(pending.size()) +
              " REST answers; see the metadata.failed lines)";
      return false;
    }
    log_->info("metadata.loaded", {{"venue", venue_name(venue)}, {"instruments", n}});
  }
  // Symbols the venue does not list: said once, the session still subscribes (the venue's
  // answer is the authority) but their frames count as unknown instruments.
  for (const auto& s : options_.sessions)
    for (const auto& native : s.plan.natives)
      if (venues::find_subscribed(registry_, s.venue, native) == nullptr)
        log_->warn("symbol.unknown", {{"venue", venue_name(s.venue)}, {"symbol", native}});
  return true;
}

void LiveEngine::run(const std::function<bool()>& stop) {
  const auto started = std::chrono::steady_clock::now();
  if (const std::string why = pin_current_thread(options_.ingest_core); !why.empty())
    log_->warn("pin.ingest", {{"core", options_.ingest_core}, {"reason", why}});
  EnginePublisher publisher{shm_ ? &shm_->publisher() : nullptr};
  if (options_.pipelined) {
    ThreadedPipeline<EnginePublisher> pipeline(builder_, publisher, 1u << 16, options_.book_core);
    run_with(pipeline, stop);
    pipeline.finish();
    if (!pipeline.pin_error().empty())
      log_->warn("pin.book", {{"core", options_.book_core}, {"reason", pipeline.pin_error()}});
    counters_.resync_requests_dropped = pipeline.resync_requests_dropped();
  } else {
    FusedPipeline<EnginePublisher> pipeline(builder_, publisher);
    run_with(pipeline, stop);
  }
  elapsed_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (auto& [venue, rec] : recorders_) {
    rec->close();
    const RecorderCounters c = rec->counters();
    counters_.recorded += c.written_records;
    counters_.recorder_dropped += c.dropped_records;
    for (auto& f : rec->files()) recorded_files_.push_back(f);
  }
  if (shm_) {
    // Per venue: what the sessions saw (the book counters come from the publisher).
    const ReplayTotals t = totals();
    for (const auto& [venue, base] : options_.metadata) {
      const auto id = static_cast<std::uint8_t>(venue);
      const VenueTotals& vt = t.by_venue[static_cast<std::size_t>(venue)];
      shm_->writer().set_counter(id, shm::VenueCounter::Messages, vt.messages);
      shm_->writer().set_counter(id, shm::VenueCounter::ParseErrors, vt.parse_errors);
    }
    shm_->close();
  }
}

template <class Pipeline>
void LiveEngine::run_with(Pipeline& inner, const std::function<bool()>& stop) {
  using Counting = CountingPipeline<Pipeline>;
  using Session = venues::VenueSession<Counting>;
  Counting pipeline{&inner};
  venues::VenueParsers parsers(registry_);

  net::UringConfig rc;
  rc.max_connections =
      std::max<std::uint32_t>(64, static_cast<std::uint32_t>(options_.sessions.size() * 2 + 8));
  auto reactor_or = net::UringReactor::create(rc);
  if (auto* err = std::get_if<net::NetError>(&reactor_or)) {
    log_->error("reactor.create", {{"error", err->message}});
    all_closed_ = true;
    return;
  }
  auto& reactor = *std::get<std::unique_ptr<net::UringReactor>>(reactor_or);

  // Binance sessions fetch REST snapshots: each gets its own fetcher (a worker thread that
  // sleeps when idle), so responses go back to the session that asked.
  RestOptions ro;
  ro.ca_file = options_.tls.ca_file;
  ro.insecure_skip_verify = options_.tls.insecure_skip_verify;
  std::vector<std::unique_ptr<RestFetcher>> fetchers;
  std::vector<std::unique_ptr<Session>> sessions;
  for (const auto& so : options_.sessions) {
    RestFetcher* rest = nullptr;
    if (is_binance(so.venue)) {
      auto f = RestFetcher::start(ro);
      if (auto* err = std::get_if<std::string>(&f)) {
        log_->error("rest.start", {{"error", *err}});
      } else {
        fetchers.push_back(std::move(std::get<std::unique_ptr<RestFetcher>>(f)));
        rest = fetchers.back().get();
      }
    }
    sessions.push_back(
        std::make_unique<Session>(reactor, *tls_, rest, registry_, parsers, pipeline, so));
  }
  std::vector<venues::SessionCounters> seen(sessions.size());
  std::vector<std::int64_t> retry_start_at(sessions.size(), 0);
  // Connections to one venue open one connect interval apart (OKX: 3 per second per IP):
  // a large plan must not open them in one burst. Later ones start from the tick loop.
  std::array<std::uint32_t, static_cast<std::size_t>(Venue::kCount)> opened_per_venue{};
  const std::int64_t started_ns = now_ns();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const Venue v = options_.sessions[i].venue;
    const std::uint32_t k = opened_per_venue[static_cast<std::size_t>(v)]++;
    if (k != 0) {
      retry_start_at[i] =
          started_ns + static_cast<std::int64_t>(k) * venues::live_profile(v).connect_interval_ms * 1'000'000;
      continue;
    }
    std::string error;
    if (!sessions[i]->start(error)) {
      log_->error("session.start", {{"venue", venue_name(options_.sessions[i].venue)},
                                    {"conn", i}, {"error", error}});
      retry_start_at[i] = now_ns() + 1'000'000'000;
    } else {
      log_->info("session.connecting", {{"venue", venue_name(options_.sessions[i].venue)},
                                         {"conn", i}, {"url", options_.sessions[i].plan.url},
                                         {"instruments", options_.sessions[i].plan.natives.size()}});
    }
  }
  EngineDispatch<Session> dispatch{&sessions, {}};
  dispatch.refresh();

  const std::int64_t tick_ns = options_.tick_us * 1000;
  std::int64_t next_tick = 0, next_control = 0;
  for (;;) {
    reactor.run_once(dispatch, std::chrono::nanoseconds(tick_ns));
    const std::int64_t now = now_ns();
    if (now < next_tick) continue;
    next_tick = now + tick_ns;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      if (retry_start_at[i] != 0 && now >= retry_start_at[i]) {
        std::string error;
        retry_start_at[i] = sessions[i]->start(error) ? 0 : now + 1'000'000'000;
      }
      sessions[i]->on_tick(now);
    }
    dispatch.refresh();
    if (now < next_control) continue;
    next_control = now + 100'000'000; // control work at 10 Hz
    bool all_closed = true;
    std::uint64_t messages = 0;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const auto& c = sessions[i]->counters();
      messages += c.messages + c.keepalives_received + c.snapshots_fetched;
      const auto venue = venue_name(options_.sessions[i].venue);
      if (c.disconnects != seen[i].disconnects)
        log_->warn("session.disconnected", {{"venue", venue}, {"conn", i},
                                            {"reason", sessions[i]->last_close_reason()},
                                            {"disconnects", c.disconnects}});
      if (c.opens != seen[i].opens)
        log_->info("session.open", {{"venue", venue}, {"conn", i}, {"reconnects", c.reconnects()}});
      if (c.snapshot_failures != seen[i].snapshot_failures)
        log_->warn("snapshot.failed", {{"venue", venue}, {"conn", i},
                                       {"failures", c.snapshot_failures}});
      if (c.parse_errors != seen[i].parse_errors)
        log_->warn("parse.errors", {{"venue", venue}, {"conn", i},
                                    {"new", c.parse_errors - seen[i].parse_errors},
                                    {"total", c.parse_errors}});
      seen[i] = c;
      if (sessions[i]->connection().state() != WssState::Closed || retry_start_at[i] != 0)
        all_closed = false;
    }
    all_closed_.store(all_closed, std::memory_order_relaxed);
    messages_seen_.store(messages, std::memory_order_relaxed);
    if (stop()) break;
  }

  // Shutdown: close every connection (no stale marks: the segment is marked Closed) and let
  // the reactor finish the closes.
  for (auto& s : sessions) s->shutdown();
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) {
    bool open = false;
    for (auto& s : sessions) open |= s->connection().state() != WssState::Closed;
    if (!open) break;
    reactor.run_once(dispatch, std::chrono::milliseconds(5));
  }
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto& c = sessions[i]->counters();
    auto& t = counters_.sessions;
    t.connects += c.connects;
    t.opens += c.opens;
    t.subscribe_rounds += c.subscribe_rounds;
    t.disconnects += c.disconnects;
    t.snapshots_requested += c.snapshots_requested;
    t.snapshots_fetched += c.snapshots_fetched;
    t.snapshot_failures += c.snapshot_failures;
    t.messages += c.messages;
    t.keepalives_sent += c.keepalives_sent;
    t.keepalives_received += c.keepalives_received;
    t.parse_errors += c.parse_errors;
    t.no_data_timeouts += c.no_data_timeouts;
    for (std::size_t k = 0; k < c.by_status.size(); ++k) t.by_status[k] += c.by_status[k];
    counters_.reconnects += c.reconnects();
    counters_.resubscribes += c.resubscribes();
    // Heartbeats and pongs count as messages (as in the offline replay, where they are
    // received frames that parse as Ignored).
    per_venue_messages_[static_cast<std::size_t>(options_.sessions[i].venue)] +=
        c.messages + c.keepalives_received + c.snapshots_fetched;
    per_venue_parse_errors_[static_cast<std::size_t>(options_.sessions[i].venue)] +=
        c.parse_errors;
  }
  counters_.events = pipeline.events;
}

ReplayTotals LiveEngine::totals() const {
  ReplayTotals t;
  const auto& s = counters_.sessions;
  t.messages = s.messages + s.keepalives_received + s.snapshots_fetched;
  t.elapsed_s = elapsed_s_;
  t.events = counters_.events;
  t.parse_errors = s.parse_errors;
  t.by_status = s.by_status;
  // Keep-alives (heartbeats, pongs) are frames the offline replay parses as Ignored.
  t.by_status[static_cast<std::size_t>(ParseStatus::Ignored)] += s.keepalives_received;
  t.by_status[static_cast<std::size_t>(ParseStatus::Ok)] += s.snapshots_fetched; // REST, parsed
  t.ignored = t.by_status[static_cast<std::size_t>(ParseStatus::Ignored)];
  t.unknown_instruments = s.by_status[static_cast<std::size_t>(ParseStatus::UnknownInstrument)];
  t.metadata_instruments = counters_.metadata_instruments;
  for (std::size_t v = 0; v < t.by_venue.size(); ++v) {
    t.by_venue[v].messages = per_venue_messages_[v];
    t.by_venue[v].parse_errors = per_venue_parse_errors_[v];
  }
  return t;
}

std::string LiveEngine::summary_json() const {
  std::string out = fh::summary_json(builder_, totals(), mode_);
  const auto& s = counters_.sessions;
  out.pop_back(); // '}'
  out += ",\"connects\":" + std::to_string(s.connects) +
         ",\"reconnects\":" + std::to_string(counters_.reconnects) +
         ",\"resubscribes\":" + std::to_string(counters_.resubscribes) +
         ",\"disconnects\":" + std::to_string(s.disconnects) +
         ",\"snapshots_requested\":" + std::to_string(s.snapshots_requested) +
         ",\"snapshots_fetched\":" + std::to_string(s.snapshots_fetched) +
         ",\"snapshot_failures\":" + std::to_string(s.snapshot_failures) +
         ",\"no_data_timeouts\":" + std::to_string(s.no_data_timeouts) +
         ",\"keepalives_sent\":" + std::to_string(s.keepalives_sent) +
         ",\"recorded_records\":" + std::to_string(counters_.recorded) +
         ",\"recorder_dropped\":" + std::to_string(counters_.recorder_dropped) + "}";
  return out;
}

std::vector<std::string> LiveEngine::recorded_files() const { return recorded_files_; }

} // namespace fh
