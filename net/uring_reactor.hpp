#pragma once
// io_uring reactor: one per ingest thread, owning many TCP connections and timers.
//
// Why shaped so:
// - One thread, no locks: the reactor is not thread-safe by design. Create it on the thread that
//   runs it (with IORING_SETUP_SINGLE_ISSUER the kernel binds the ring to its creating thread).
// - Everything is sized at create(): connection slots, per-connection send buffers, the
//   provided-buffer ring, timer slots and the event arrays. connect/close/send/recycle/poll
//   never allocate; only create() and the text helpers do (control path).
// - Receive is multishot recv with buffer select (one SQE keeps delivering), falling back to
//   single-shot recv with buffer select (kernel has buffer rings but no multishot recv), then to
//   single-shot recv into per-connection buffers (no buffer rings, or forced by config). The
//   caller sees the same thing in every mode: a mutable view + a BufferId it must recycle().
// - poll() reaps a whole batch of completions (io_uring_for_each_cqe + one cq_advance) and turns
//   them into plain UringEvent records; run_once() dispatches them to a handler chosen at
//   compile time (no virtual call per completion). CLOCK_REALTIME is read once per batch: every
//   CQE of a batch became visible to us at the same moment, so a per-CQE read would add ~26 ns
//   each and measure only our own processing of earlier CQEs; REALTIME (not MONOTONIC) so the
//   stamp compares with exchange times and with other processes/hosts.
// - Errors never throw. Each connection ends with exactly one Closed event carrying a reason and
//   an errno; errno_text()/describe() turn that into text on the control path.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "net/uring_socket.hpp"

namespace fh::net {

struct ConnId {
  static constexpr std::uint32_t kInvalid = 0xFFFFFFFFu;
  std::uint32_t slot = kInvalid;
  std::uint32_t gen = 0; // bumped each time the slot is reused
  [[nodiscard]] bool valid() const noexcept { return slot != kInvalid; }
  friend bool operator==(ConnId, ConnId) = default;
};

struct TimerId {
  static constexpr std::uint32_t kInvalid = 0xFFFFFFFFu;
  std::uint32_t slot = kInvalid;
  std::uint32_t gen = 0;
  [[nodiscard]] bool valid() const noexcept { return slot != kInvalid; }
  friend bool operator==(TimerId, TimerId) = default;
};

using BufferId = std::uint32_t;

enum class RecvMode : std::uint8_t {
  MultishotBufferRing,  // IORING_RECV_MULTISHOT + provided-buffer ring (kernel 6.0+)
  SingleShotBufferRing, // one recv SQE per completion, buffer picked from the ring (5.19+)
  OwnBuffers,           // one recv SQE per completion into the connection's own buffers
};

struct UringConfig {
  unsigned sq_entries = 256;
  unsigned cq_entries = 0; // 0: 8 x sq_entries (multishot recvs post many CQEs per SQE)
  bool sqpoll = false;     // kernel thread submits; needs a core of its own (DESIGN.md 5)
  int sqpoll_cpu = -1;
  unsigned sqpoll_idle_ms = 1000;
  // poll() never sleeps: it enters the kernel only to run task work and reap (spin).
  bool busy_poll = false;
  // SINGLE_ISSUER + DEFER_TASKRUN where the kernel has them (6.1+); not with SQPOLL.
  bool defer_taskrun = true;
  // Best receive mode wanted; the reactor degrades from there to what the kernel supports.
  // OwnBuffers forces the fallback path.
  RecvMode recv_mode = RecvMode::MultishotBufferRing;
  std::uint32_t max_connections = 64;
  std::uint32_t max_timers = 64;
  std::uint32_t ring_buffers = 256;             // power of two, <= 32768 (buffer-ring modes)
  std::uint32_t buffer_size = 16 * 1024;        // bytes per receive buffer
  std::uint32_t own_buffers_per_connection = 4; // OwnBuffers mode, 1..32
  std::uint32_t send_buffer_size = 16 * 1024;   // per connection, queued-but-unsent bytes
};

struct ConnectOptions {
  std::chrono::nanoseconds connect_timeout{std::chrono::seconds(5)}; // 0: none
  // Report NoData when a connection has received nothing for this long (0: never). Checked by
  // a timer re-armed every period, so it fires between 1x and 2x the period after the last
  // data: re-arming on every recv would cost an SQE per completion.
  std::chrono::nanoseconds no_data_timeout{0};
  SocketOptions socket;
};

enum class CloseReason : std::uint8_t {
  Requested,      // close() on an open connection
  Cancelled,      // close() while still connecting
  PeerClosed,     // orderly EOF from the peer
  ConnectFailed,  // socket()/connect() error (error = errno, e.g. ECONNREFUSED)
  ConnectTimeout, // the linked timeout expired first (error = ETIMEDOUT)
  RecvError,
  SendError,
  SubmitFailed, // no SQE could be had (submission queue stuck)
};
[[nodiscard]] const char *to_cstring(CloseReason reason) noexcept;

enum class EventKind : std::uint8_t { Connected, Data, NoData, Closed, Timer };

// One completion translated; trivially copyable, lives in the reactor's pre-sized batch.
struct UringEvent {
  EventKind kind = EventKind::Data;
  CloseReason reason = CloseReason::Requested; // Closed
  std::int32_t error = 0;                      // Closed: errno, 0 if none
  ConnId conn;                                 // all but Timer
  TimerId timer;                               // Timer
  BufferId buffer = 0;                         // Data
  std::uint32_t size = 0;                      // Data
  std::byte *data = nullptr;                   // Data: writable, valid until recycle(buffer)
  std::uint64_t tag = 0;                       // Timer: the caller's tag
  std::int64_t recv_ns = 0; // CLOCK_REALTIME when this completion batch was reaped
};

struct RecvBuffer {
  std::span<std::byte> data; // writable: decrypt in place
  BufferId id;               // give back with recycle(id) once consumed
};

struct UringStats {
  std::uint64_t batches = 0; // poll() calls that reaped at least one CQE
  std::uint64_t cqes = 0;
  std::uint64_t recv_completions = 0; // CQEs that carried data
  std::uint64_t recv_bytes = 0;
  std::uint64_t recv_arms = 0;      // recv SQEs submitted (1 per conn when multishot holds)
  std::uint64_t multishot_ends = 0; // multishot recv ended with the connection still open
  std::uint64_t enobufs = 0;        // kernel recv found the buffer ring empty (multishot)
  std::uint64_t recv_starved = 0;   // recv left unarmed until the caller returns a buffer
  std::uint64_t sends = 0;          // send SQEs completed
  std::uint64_t send_bytes = 0;
  std::uint64_t partial_sends = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t no_data_events = 0;
  std::uint64_t busy_poll_refused = 0; // SO_BUSY_POLL asked for but not permitted
  std::uint64_t sq_full = 0;           // had to submit early to get an SQE
};

enum class SendStatus : std::uint8_t {
  Queued,       // copied into the connection's send buffer; goes out in order
  NoSpace,      // would not fit: nothing queued (the caller decides: close or retry later)
  NotConnected, // unknown/closed connection
};

struct ConnectResult {
  ConnId id;     // valid on success (the outcome arrives as Connected or Closed)
  int error = 0; // errno when no connection was started (ENOSPC: no free slot; socket())
  explicit operator bool() const noexcept { return id.valid(); }
};

class UringReactor {
public:
  [[nodiscard]] static NetResult<std::unique_ptr<UringReactor>> create(const UringConfig &config);
  ~UringReactor();
  UringReactor(const UringReactor &) = delete;
  UringReactor &operator=(const UringReactor &) = delete;

  // Starts a connection to `peer` (socket options applied now, connect + linked timeout queued).
  [[nodiscard]] ConnectResult connect(const Endpoint &peer, const ConnectOptions &options) noexcept;
  // Cancels everything in flight on `conn`; Closed follows once the kernel has let go of it.
  // Unknown or already closing connections are ignored.
  void close(ConnId conn) noexcept;
  // Queues bytes (all or nothing). May be called while connecting: sent once connected.
  [[nodiscard]] SendStatus send(ConnId conn, std::span<const std::byte> bytes) noexcept;
  // Gives a received buffer back (exactly once per Data event, also after its connection closed).
  void recycle(BufferId buffer) noexcept;

  // One-shot timer firing `after` from now with `tag` (reconnect backoff and the like).
  [[nodiscard]] TimerId add_timer(std::chrono::nanoseconds after, std::uint64_t tag) noexcept;
  // True if the timer was pending: it will not fire any more.
  bool cancel_timer(TimerId timer) noexcept;

  // Submits queued SQEs, waits (up to max_wait, < 0 forever; busy_poll: never) and reaps one
  // batch. The span stays valid until the next poll(); the handler may call any member
  // meanwhile (close/send/recycle/...).
  [[nodiscard]] std::span<const UringEvent> poll(std::chrono::nanoseconds max_wait) noexcept;
  // Submits queued SQEs now (e.g. a send issued after poll() returned).
  void flush() noexcept;

  // poll() + dispatch to `handler` with
  //   on_connected(ConnId), on_data(ConnId, RecvBuffer, std::int64_t recv_ns),
  //   on_no_data(ConnId), on_closed(ConnId, CloseReason, int error),
  //   on_timer(TimerId, std::uint64_t tag).
  // Returns the number of events.
  template <class Handler>
  std::size_t run_once(Handler &handler, std::chrono::nanoseconds max_wait) {
    const std::span<const UringEvent> events = poll(max_wait);
    for (const UringEvent &e : events) {
      switch (e.kind) {
      case EventKind::Connected:
        handler.on_connected(e.conn);
        break;
      case EventKind::Data:
        handler.on_data(e.conn, RecvBuffer{{e.data, e.size}, e.buffer}, e.recv_ns);
        break;
      case EventKind::NoData:
        handler.on_no_data(e.conn);
        break;
      case EventKind::Closed:
        handler.on_closed(e.conn, e.reason, e.error);
        break;
      case EventKind::Timer:
        handler.on_timer(e.timer, e.tag);
        break;
      }
    }
    return events.size();
  }

  [[nodiscard]] bool is_open(ConnId conn) const noexcept; // connecting or connected
  [[nodiscard]] std::size_t send_queued(ConnId conn) const noexcept;
  [[nodiscard]] std::size_t open_connections() const noexcept;
  [[nodiscard]] RecvMode recv_mode() const noexcept;
  [[nodiscard]] bool sqpoll_active() const noexcept;
  [[nodiscard]] bool defer_taskrun_active() const noexcept;
  // Buffers the kernel may fill right now (buffer-ring modes; 0 otherwise).
  [[nodiscard]] std::uint32_t ring_buffers_available() const noexcept;
  [[nodiscard]] const UringStats &stats() const noexcept;
  // What setup asked for and what the kernel gave ("sqpoll refused: ..."), one line.
  [[nodiscard]] const std::string &setup_notes() const noexcept;

private:
  struct Impl;
  explicit UringReactor(std::unique_ptr<Impl> impl) noexcept;

  std::unique_ptr<Impl> impl_;
};

// "connect timeout (Connection timed out)" and the like (control path: allocates).
[[nodiscard]] std::string describe(CloseReason reason, int error);
[[nodiscard]] const char *to_cstring(RecvMode mode) noexcept;

} // namespace fh::net
