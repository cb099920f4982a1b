#pragma once
// Parser -> book builder -> publisher, in two shapes with the same builder and publisher:
//
//   FusedPipeline     one thread: the parser's batch goes straight into the builder. No ring
//                     hop; the right shape on a 2-core host or when a frame's work is small.
//   ThreadedPipeline  the caller's thread parses and pushes events into an SPSC ring; a book
//                     thread (pinnable) drains it into the builder and the publisher.
//
// A Publisher is any type with `void on_notice(const BookNotice&, const Event&) noexcept`,
// called on the book thread after each event that changed something, and optionally
// `void observe(const Event&) noexcept`, called with every event before the builder sees it
// (the shm publisher stages a batch's levels until its end says whether it was applied).
// Templates, not virtual calls: the compiler sees the whole per-event path.
//
// Both also carry the builder's resync requests (a book went stale on a gap or checksum) back
// to the ingest thread: pop_resync_request() is called there, where the session lives.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "feedhandler/affinity.hpp"
#include "feedhandler/book_builder.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/spsc_ring.hpp"

namespace fh {

template <class P>
concept ObservesEvents = requires(P& p, const Event& e) { p.observe(e); };

// One event through builder and publisher: the per-event body of both pipelines.
template <class Publisher>
inline void deliver_event(BookBuilder& builder, Publisher& publisher, const Event& e) noexcept {
  if constexpr (ObservesEvents<Publisher>) publisher.observe(e);
  const BookNotice n = builder.on_event(e);
  if (n.kind != BookNotice::None || n.status_changed) publisher.on_notice(n, e);
}

// Publishes nothing: for benchmarks and pure validation runs.
struct NullPublisher {
  void on_notice(const BookNotice&, const Event&) noexcept {}
};

template <class Publisher> class FusedPipeline {
public:
  FusedPipeline(BookBuilder& builder, Publisher& publisher) noexcept
      : builder_(&builder), publisher_(&publisher) {}

  void push(const EventBatch& batch) noexcept {
    for (const Event& e : batch) deliver(e);
  }
  void push(const Event& e) noexcept { deliver(e); }
  void finish() noexcept {}
  bool pop_resync_request(std::uint32_t& instrument) noexcept {
    return builder_->pop_resync_request(instrument);
  }

private:
  void deliver(const Event& e) noexcept { deliver_event(*builder_, *publisher_, e); }
  BookBuilder* builder_;
  Publisher* publisher_;
};

template <class Publisher> class ThreadedPipeline {
public:
  ThreadedPipeline(BookBuilder& builder, Publisher& publisher, std::size_t ring_events = 1u << 16,
                   int book_core = -1)
      : builder_(&builder), publisher_(&publisher), ring_(ring_events) {
    book_thread_ = std::thread([this, book_core] { run(book_core); });
  }
  ~ThreadedPipeline() { finish(); }
  ThreadedPipeline(const ThreadedPipeline&) = delete;
  ThreadedPipeline& operator=(const ThreadedPipeline&) = delete;

  // Producer side. Spins while the ring is full (the book thread is behind); counts it.
  void push(const EventBatch& batch) noexcept {
    for (const Event& e : batch) push(e);
  }
  void push(const Event& e) noexcept {
    while (!ring_.try_push(e)) {
      ++full_spins_;
      std::this_thread::yield(); // with fewer cores than threads, let the consumer run
    }
  }

  // Drains the ring and joins the book thread. Idempotent.
  void finish() {
    if (!book_thread_.joinable()) return;
    stop_.store(true, std::memory_order_release);
    book_thread_.join();
  }

  // Ingest side: a book the book thread marked stale and wants resynced.
  bool pop_resync_request(std::uint32_t& instrument) noexcept { return resync_.try_pop(instrument); }

  std::uint64_t full_spins() const noexcept { return full_spins_; }
  // Resync requests lost because the ingest thread did not collect them (the book stays
  // stale until the next reconnect resyncs it).
  std::uint64_t resync_requests_dropped() const noexcept {
    return resync_dropped_.load(std::memory_order_relaxed);
  }
  const std::string& pin_error() const noexcept { return pin_error_; }

private:
  void run(int core) {
    pin_error_ = pin_current_thread(core);
    auto deliver = [this](const Event& e) { deliver_event(*builder_, *publisher_, e); };
    for (;;) {
      if (ring_.consume(256, deliver) != 0) {
        forward_resync_requests();
        continue;
      }
      if (stop_.load(std::memory_order_acquire)) {
        while (ring_.consume(256, deliver) != 0) {
        }
        forward_resync_requests();
        return;
      }
      std::this_thread::yield();
    }
  }

  void forward_resync_requests() noexcept {
    std::uint32_t id = 0;
    while (builder_->pop_resync_request(id))
      if (!resync_.try_push(id)) resync_dropped_.fetch_add(1, std::memory_order_relaxed);
  }

  BookBuilder* builder_;
  Publisher* publisher_;
  SpscRing<Event> ring_;
  SpscRing<std::uint32_t> resync_{1024};
  std::atomic<std::uint64_t> resync_dropped_{0};
  std::atomic<bool> stop_{false};
  std::uint64_t full_spins_ = 0;
  std::string pin_error_;
  std::thread book_thread_;
};

} // namespace fh
