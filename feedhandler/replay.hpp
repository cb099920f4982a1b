#pragma once
// Offline replay: recorded captures -> the same venue parsers, builder and publisher as live.
//
// Inputs are loaded whole (captures are tens of MB at most), metadata responses are loaded
// first whatever their time, and then every record is replayed in receive-time order across
// all inputs, so a REST snapshot lands between the stream frames it was fetched between.
// order() is exposed so fault tests can drop, repeat, swap or corrupt real records.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/replay_totals.hpp"
#include "feedhandler/venues/dispatch.hpp"

namespace fh {

struct ReplayOptions {
  std::optional<Venue> venue;    // force the venue of every input (else from URL / file name)
  bool threaded = false;         // parser and builder on two threads with a ring between
  int parse_core = -1;           // pinning; -1 leaves the thread unpinned
  int book_core = -1;
  bool progress = true;          // progress lines on stderr when a run takes > 2 s
  double speed = 0;              // > 0: pace records at speed x their recorded receive times
  BookBuilder::Options book{};
};

class Replay {
public:
  // Loads the inputs; an error string names the file and the reason.
  static std::variant<std::unique_ptr<Replay>, std::string>
  open(const std::vector<std::string>& paths, const ReplayOptions& options);

  // Replays every record in order() through the pipeline into `publisher`.
  template <class Publisher> void run(Publisher& publisher);

  // Fused mode over order()[begin, end): lets a test warm up, then measure the rest.
  template <class Publisher> void run_range(std::size_t begin, std::size_t end, Publisher& publisher) {
    FusedPipeline<Publisher> pipeline(builder_, publisher);
    for (std::size_t i = begin; i < end && i < order_.size(); ++i) {
      if (parse_record(order_[i]) == ParseStatus::Ok) pipeline.push(batch_);
    }
  }

  // Convenience: run with no publisher.
  void run() {
    NullPublisher p;
    run(p);
  }

  // Back to the state right after open(): fresh instruments (metadata reloaded), books and
  // counters; order() is kept. Lets a benchmark replay the same frames many times.
  void reset();

  std::vector<capture::Record>& order() noexcept { return order_; }
  const BookBuilder& builder() const noexcept { return builder_; }
  // For injecting session events (e.g. a disconnect Status) between replayed records.
  BookBuilder& builder() noexcept { return builder_; }
  const InstrumentRegistry& registry() const noexcept { return registry_; }
  const ReplayTotals& totals() const noexcept { return totals_; }
  Venue venue_of(std::uint32_t file_index) const noexcept { return file_venue_[file_index]; }

  // The one-line summary JSON that fh-replay prints last (field names are stable).
  std::string summary_json() const;

  // Parses one record into batch(); public for benchmarks and tests.
  ParseStatus parse_record(const capture::Record& r) noexcept;
  const EventBatch& batch() const noexcept { return batch_; }

private:
  explicit Replay(const ReplayOptions& options);
  void load_metadata();
  template <class Pipeline> void drive(Pipeline& pipeline);

  ReplayOptions options_;
  InstrumentRegistry registry_;
  venues::VenueParsers parsers_{registry_};
  BookBuilder builder_;
  EventBatch batch_;
  std::vector<capture::CaptureFile> files_;
  std::vector<Venue> file_venue_;
  std::vector<std::string_view> file_symbol_hint_; // hftbacktest inline snapshots carry no symbol
  std::vector<capture::Record> order_;
  ReplayTotals totals_;
};

template <class Pipeline> void Replay::drive(Pipeline& pipeline) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(2);
  const std::size_t total = order_.size();
  const std::int64_t first_ts = total != 0 ? order_[0].recv_ts_ns : 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (options_.speed > 0) [[unlikely]] {
      // Recorded time scaled; sleeping only when more than a millisecond ahead keeps bursts
      // (frames received together) together.
      const double offset = static_cast<double>(order_[i].recv_ts_ns - first_ts) / options_.speed;
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(offset));
      if (due - Clock::now() > std::chrono::milliseconds(1)) std::this_thread::sleep_until(due);
    }
    if (parse_record(order_[i]) == ParseStatus::Ok) pipeline.push(batch_);
    if (options_.progress && (i & 4095) == 0 && Clock::now() >= next_report) [[unlikely]] {
      next_report += std::chrono::seconds(2);
      std::fprintf(stderr, "fh-replay: %zu/%zu records (%.0f%%)\n", i, total,
                   100.0 * static_cast<double>(i) / static_cast<double>(total));
    }
  }
  pipeline.finish();
  totals_.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
}

template <class Publisher> void Replay::run(Publisher& publisher) {
  if (options_.threaded) {
    totals_.pin_error = pin_current_thread(options_.parse_core);
    ThreadedPipeline<Publisher> pipeline(builder_, publisher, 1u << 16, options_.book_core);
    drive(pipeline);
    totals_.ring_full_spins = pipeline.full_spins();
    if (totals_.pin_error.empty()) totals_.pin_error = pipeline.pin_error();
  } else {
    totals_.pin_error = pin_current_thread(options_.parse_core);
    FusedPipeline<Publisher> pipeline(builder_, publisher);
    drive(pipeline);
  }
}

} // namespace fh
