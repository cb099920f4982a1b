#pragma once
// The live feed handler: venue sessions on one ingest thread, the book builder fused on that
// thread or on its own (pipelined), shared-memory output, and recording. `feedhandler
// --config` and `fh-replay --network` are thin shells around it.
//
// Shape: one io_uring reactor carries every connection (a session per ConnectionPlan); the
// ingest thread runs reactor -> TLS -> WebSocket -> parser -> pipeline and, every tick, the
// sessions' timers. Control work (metadata over REST, logs, shm counters) happens at start
// and at tick rate, never per message. Pinning is configuration: a core that does not exist
// leaves the thread unpinned and is logged once.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/config.hpp"
#include "feedhandler/control_log.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/recorder.hpp"
#include "feedhandler/replay_totals.hpp"
#include "feedhandler/shm_output.hpp"
#include "feedhandler/venues/venue_session.hpp"

namespace fh {

struct EngineOptions {
  // One per connection; options.venue and options.plan set, the rest as wanted.
  std::vector<venues::SessionOptions> sessions;
  // Per venue carried: its REST base for metadata ("" = the public one).
  std::vector<std::pair<Venue, std::string>> metadata;
  TlsConfig tls;
  bool pipelined = true;
  int ingest_core = -1;
  int book_core = -1;
  std::optional<ShmOutputOptions> shm; // none: books are built but not published
  RecordConfig record;                 // directory "" = no recording
  std::int64_t tick_us = 1000;         // session timers and control work at this rate
  std::int64_t metadata_timeout_ms = 30'000;
};

// Sessions and metadata from a config file: plan_connections() per venue.
EngineOptions engine_options(const Config& config);

// Summed over every session.
struct EngineCounters {
  venues::SessionCounters sessions;
  std::uint64_t reconnects = 0;       // per session: opens after its first
  std::uint64_t resubscribes = 0;
  std::uint64_t events = 0;           // normalized events pushed into the pipeline
  std::uint64_t metadata_instruments = 0;
  std::uint64_t recorder_dropped = 0; // records a full recorder queue refused
  std::uint64_t recorded = 0;
  std::uint64_t resync_requests_dropped = 0;
};

class LiveEngine {
public:
  static std::variant<std::unique_ptr<LiveEngine>, std::string> create(EngineOptions options,
                                                                       ControlLog& log);
  ~LiveEngine();
  LiveEngine(const LiveEngine&) = delete;
  LiveEngine& operator=(const LiveEngine&) = delete;

  // Control path: fetches every venue's symbol metadata over REST (and records it). False,
  // with the reason, when a venue yields no instrument at all.
  bool load_metadata(std::string& error);

  // The ingest loop on the calling thread until `stop()` says so (asked every tick). Then
  // closes the connections, drains the pipeline, closes recorders and the shm segment.
  void run(const std::function<bool()>& stop);

  // After run().
  const BookBuilder& builder() const noexcept { return builder_; }
  const InstrumentRegistry& registry() const noexcept { return registry_; }
  const EngineCounters& counters() const noexcept { return counters_; }
  ReplayTotals totals() const;
  std::string summary_json() const; // the offline replay's summary + session counters
  std::vector<std::string> recorded_files() const;
  // Every session closed, none waiting to reconnect (the venue went away for good).
  bool all_closed() const noexcept { return all_closed_.load(std::memory_order_relaxed); }
  // Messages and REST snapshots received so far (updated at 10 Hz; readable from any thread).
  std::uint64_t messages_seen() const noexcept {
    return messages_seen_.load(std::memory_order_relaxed);
  }

private:
  LiveEngine(EngineOptions options, ControlLog& log);
  template <class Pipeline> void run_with(Pipeline& pipeline, const std::function<bool()>& stop);
  Recorder* recorder_for(Venue v) noexcept;

  EngineOptions options_;
  ControlLog* log_;
  InstrumentRegistry registry_;
  BookBuilder builder_;
  std::optional<net::TlsContext> tls_;
  std::unique_ptr<RestFetcher> rest_;
  std::unique_ptr<ShmOutput> shm_;
  std::vector<std::pair<Venue, std::unique_ptr<Recorder>>> recorders_;
  std::vector<std::string> recorded_files_;
  EngineCounters counters_;
  std::array<std::uint64_t, static_cast<std::size_t>(Venue::kCount)> per_venue_messages_{};
  std::array<std::uint64_t, static_cast<std::size_t>(Venue::kCount)> per_venue_parse_errors_{};
  std::string mode_;
  double elapsed_s_ = 0;
  std::atomic<bool> all_closed_{false};
  std::atomic<std::uint64_t> messages_seen_{0};
};

} // namespace fh
