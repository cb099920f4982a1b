#pragma once
// One measured OKX connection as the feed handler runs it, minus shm: WssConnection (TLS +
// WebSocket on the shared io_uring reactor) -> OKX parser -> FusedPipeline -> BookBuilder.
// Each connection has its own parser and builder, so N connections carrying the same recorded
// instruments keep N independent, checksum-verified books (as N venues' feeds would).
//
// Per received text message k (1-based) it can store the reactor's receive stamp (CLOCK_REALTIME
// when the completion batch holding its bytes was reaped) and CLOCK_REALTIME right after the
// builder applied its events, into samples sized before the run: the measured path reads the
// clock once, writes 17 bytes and allocates nothing (books are prepared up front).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/venues/dispatch.hpp"
#include "feedhandler/wss_connection.hpp"
#include "shm/segment_file.hpp"

namespace fh::bench::loopback {

struct FrameStamps {
  std::int64_t recv_ns = 0;   // reactor: completion batch reaped
  std::int64_t booked_ns = 0; // after the builder applied the message's events
  bool book = false;          // the message was a book update or snapshot
};

class OkxFeed {
public:
  OkxFeed(InstrumentRegistry& registry, const std::vector<std::string>& natives,
          std::vector<std::string> subscribe, std::size_t sample_capacity)
      : parsers_(registry), builder_(registry), pipeline_(builder_, publisher_),
        subscribe_(std::move(subscribe)), samples_(sample_capacity) {
    for (const auto& n : natives)
      if (const Instrument* inst = registry.find(Venue::Okx, n)) builder_.prepare(inst->id);
  }
  OkxFeed(const OkxFeed&) = delete;
  OkxFeed& operator=(const OkxFeed&) = delete;

  void attach(WssConnection<OkxFeed>& conn, bool subscribe_on_open) noexcept {
    conn_ = &conn;
    subscribe_on_open_ = subscribe_on_open;
  }
  bool send_subscribes() noexcept {
    bool ok = true;
    for (const auto& m : subscribe_) ok = conn_->send_text(m) && ok;
    return ok;
  }

  // ---- WssConnection handler ----
  void on_open() noexcept {
    opened_ = true;
    if (subscribe_on_open_) (void)send_subscribes();
  }
  void on_text(std::string_view text, std::int64_t recv_ns) noexcept {
    ++texts_;
    batch_.clear();
    const ParseStatus st = parsers_.parse(Venue::Okx, text, recv_ns, batch_);
    if (st == ParseStatus::Ok) pipeline_.push(batch_);
    else if (st != ParseStatus::Ignored) ++parse_errors_;
    const std::int64_t booked = shm::realtime_ns();
    if (texts_ == 1) first_recv_ns_ = recv_ns;
    last_recv_ns_ = recv_ns;
    if (texts_ > samples_.size()) return; // counted by texts() > samples capacity
    bool book = false;
    for (const Event& e : batch_) book |= e.type == EventType::BookBegin;
    samples_[texts_ - 1] = FrameStamps{recv_ns, booked, book};
  }
  void on_binary(std::span<const std::uint8_t>, std::int64_t) noexcept { ++binary_; }
  void on_closed(const char* why) {
    closed_ = true;
    closed_why_ = why;
  }

  bool opened() const noexcept { return opened_; }
  bool closed() const noexcept { return closed_; }
  const std::string& closed_why() const noexcept { return closed_why_; }
  std::uint64_t texts() const noexcept { return texts_; }
  std::uint64_t parse_errors() const noexcept { return parse_errors_; }
  std::uint64_t binary() const noexcept { return binary_; }
  std::int64_t first_recv_ns() const noexcept { return first_recv_ns_; }
  std::int64_t last_recv_ns() const noexcept { return last_recv_ns_; }
  const std::vector<FrameStamps>& samples() const noexcept { return samples_; }
  const BookBuilder& builder() const noexcept { return builder_; }

  // Book counters summed over this connection's instruments.
  BookCounters book_totals() const noexcept {
    BookCounters c;
    for (std::uint32_t id = 0; id < builder_.instrument_slots(); ++id)
      if (const InstrumentBook* b = builder_.book(id)) {
        c.book_messages += b->counters().book_messages;
        c.checksum_ok += b->counters().checksum_ok;
        c.checksum_fail += b->counters().checksum_fail;
      }
    return c;
  }

private:
  venues::VenueParsers parsers_;
  BookBuilder builder_;
  NullPublisher publisher_;
  FusedPipeline<NullPublisher> pipeline_;
  EventBatch batch_{EventBatch::kDefaultCapacity};
  std::vector<std::string> subscribe_;
  WssConnection<OkxFeed>* conn_ = nullptr;
  bool subscribe_on_open_ = true;
  std::vector<FrameStamps> samples_;
  std::uint64_t texts_ = 0, parse_errors_ = 0, binary_ = 0;
  std::int64_t first_recv_ns_ = 0, last_recv_ns_ = 0;
  bool opened_ = false, closed_ = false;
  std::string closed_why_;
};

// Reactor events -> the connection that owns the ConnId (one reactor, many connections).
template <class Connection> struct ReactorDispatch {
  net::UringReactor* reactor = nullptr;
  std::vector<Connection*> by_slot; // indexed by ConnId::slot

  void add(Connection& c) {
    const std::uint32_t slot = c.conn().slot;
    if (slot >= by_slot.size()) by_slot.resize(slot + 1, nullptr);
    by_slot[slot] = &c;
  }
  Connection* find(net::ConnId id) const noexcept {
    if (id.slot >= by_slot.size() || by_slot[id.slot] == nullptr) return nullptr;
    return by_slot[id.slot]->conn() == id ? by_slot[id.slot] : nullptr;
  }
  void on_connected(net::ConnId id) {
    if (auto* c = find(id)) c->on_connected(id);
  }
  void on_data(net::ConnId id, net::RecvBuffer b, std::int64_t ns) {
    if (auto* c = find(id)) c->on_data(id, b, ns);
    else reactor->recycle(b.id);
  }
  void on_no_data(net::ConnId) {}
  void on_closed(net::ConnId id, net::CloseReason r, int e) {
    if (auto* c = find(id)) c->on_closed(id, r, e);
  }
  void on_timer(net::TimerId, std::uint64_t) {}
};

} // namespace fh::bench::loopback
