#include "net/uring_reactor.hpp"

#include <liburing.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "net/uring_buffer_ring.hpp"

namespace fh::net {

namespace {

// user_data = op (8 bits) | generation (24 bits) | slot (32 bits): a completion finds its
// connection or timer without a lookup table, and a stale slot shows as a generation mismatch.
enum class Op : std::uint8_t { Ignore = 0, Connect, LinkTimeout, Recv, Send, NoData, Timer };
constexpr std::uint32_t kGenMask = 0xFFFFFFu;

constexpr std::uint8_t bit(Op op) noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(op));
}
constexpr std::uint64_t make_ud(Op op, std::uint32_t gen, std::uint32_t slot) noexcept {
  return (std::uint64_t{static_cast<std::uint8_t>(op)} << 56) |
         (std::uint64_t{gen & kGenMask} << 32) | slot;
}

__kernel_timespec to_timespec(std::chrono::nanoseconds d) noexcept {
  const auto ns = std::max<std::int64_t>(d.count(), 0);
  __kernel_timespec ts{};
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  return ts;
}

std::int64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

enum class ConnState : std::uint8_t { Free, Connecting, Open, Closing };

struct Conn {
  int fd = -1;
  std::uint32_t gen = 0;
  ConnState state = ConnState::Free;
  std::uint8_t inflight = 0; // bit(Op) of every request the kernel still holds
  bool data_seen = false;    // since the no-data timer was last armed
  bool starved = false;      // open but recv not armed: no free buffer
  CloseReason reason = CloseReason::Requested;
  int error = 0;
  Endpoint peer;                  // connect reads it at submission (SQPOLL: later)
  __kernel_timespec connect_ts{}; // likewise for the linked timeout
  __kernel_timespec no_data_ts{};
  std::byte *send_buf = nullptr;
  std::uint64_t send_head = 0;  // bytes handed to the kernel and acknowledged
  std::uint64_t send_tail = 0;  // bytes queued
  std::uint32_t send_len = 0;   // bytes of the send SQE in flight
  std::uint32_t own_in_use = 0; // OwnBuffers: bit i = buffer i held by kernel or caller
  std::uint32_t own_recv = 0;   // OwnBuffers: buffer of the recv in flight
};

struct TimerSlot {
  std::uint32_t gen = 0;
  bool used = false;
  bool cancelled = false;
  __kernel_timespec ts{};
  std::uint64_t tag = 0;
};

constexpr int kRequiredOps[] = {
    IORING_OP_CONNECT,        IORING_OP_RECV,         IORING_OP_SEND,        IORING_OP_TIMEOUT,
    IORING_OP_TIMEOUT_REMOVE, IORING_OP_LINK_TIMEOUT, IORING_OP_ASYNC_CANCEL};

} // namespace

struct UringReactor::Impl {
  io_uring ring{};
  bool ring_ok = false;
  UringConfig cfg;
  ProvidedBufferRing pbuf;
  RecvMode mode = RecvMode::OwnBuffers;
  bool sqpoll = false;
  bool defer = false;
  std::string notes;
  UringStats stats;
  std::size_t open_count = 0;
  std::size_t starved_count = 0;
  std::vector<Conn> conns;
  std::vector<TimerSlot> timers;
  std::unique_ptr<std::byte[]> send_slab;
  std::unique_ptr<std::byte[]> own_slab;
  std::vector<UringEvent> events;
  std::size_t n_events = 0;
  std::vector<UringEvent> deferred; // events raised by calls between polls (close())
  std::size_t n_deferred = 0;
  bool in_reap = false;

  ~Impl() {
    if (!ring_ok)
      return;
    drain();
    pbuf.reset();
    ::io_uring_queue_exit(&ring);
  }

  // ---- helpers ---------------------------------------------------------------------------
  io_uring_sqe *get_sqe() noexcept {
    io_uring_sqe *s = ::io_uring_get_sqe(&ring);
    for (int i = 0; s == nullptr && i < 64; ++i) {
      ++stats.sq_full;
      (void)::io_uring_submit(&ring);
      if (sqpoll)
        (void)::io_uring_sqring_wait(&ring);
      s = ::io_uring_get_sqe(&ring);
    }
    return s;
  }

  void emit(const UringEvent &e) noexcept {
    if (in_reap) {
      if (n_events < events.size())
        events[n_events++] = e;
    } else if (n_deferred < deferred.size()) {
      deferred[n_deferred++] = e;
    }
  }

  Conn *find(ConnId id) noexcept {
    if (id.slot >= conns.size())
      return nullptr;
    Conn &c = conns[id.slot];
    return c.state != ConnState::Free && c.gen == id.gen ? &c : nullptr;
  }

  std::uint32_t own_count() const noexcept { return cfg.own_buffers_per_connection; }
  std::uint32_t own_mask() const noexcept {
    return own_count() == 32 ? 0xFFFFFFFFu : (1u << own_count()) - 1u;
  }

  void set_starved(Conn &c, bool starved) noexcept {
    if (c.starved == starved)
      return;
    c.starved = starved;
    if (starved) {
      ++starved_count;
      ++stats.recv_starved;
    } else {
      --starved_count;
    }
  }

  // ---- receive ---------------------------------------------------------------------------
  void arm_recv(std::uint32_t slot) noexcept {
    Conn &c = conns[slot];
    std::byte *own = nullptr;
    std::uint32_t own_index = 0;
    if (mode == RecvMode::OwnBuffers) {
      const std::uint32_t free_bits = ~c.own_in_use & own_mask();
      if (free_bits == 0) {
        set_starved(c, true);
        return;
      }
      own_index = static_cast<std::uint32_t>(__builtin_ctz(free_bits));
      own = own_slab.get() +
            (std::size_t{slot} * own_count() + own_index) * std::size_t{cfg.buffer_size};
    } else if (pbuf.in_kernel() == 0) {
      set_starved(c, true); // arming now would only earn an immediate ENOBUFS
      return;
    }
    io_uring_sqe *s = get_sqe();
    if (s == nullptr) {
      start_close(slot, CloseReason::SubmitFailed, EBUSY);
      return;
    }
    set_starved(c, false);
    if (own != nullptr) {
      c.own_in_use |= 1u << own_index;
      c.own_recv = own_index;
      ::io_uring_prep_recv(s, c.fd, own, cfg.buffer_size, 0);
    } else {
      ::io_uring_prep_recv(s, c.fd, nullptr, 0, 0); // len 0: the whole selected buffer
      s->flags |= IOSQE_BUFFER_SELECT;
      s->buf_group = pbuf.group();
      if (mode == RecvMode::MultishotBufferRing)
        s->ioprio |= IORING_RECV_MULTISHOT;
    }
    ::io_uring_sqe_set_data64(s, make_ud(Op::Recv, c.gen, slot));
    c.inflight |= bit(Op::Recv);
    ++stats.recv_arms;
  }

  void rearm_starved() noexcept {
    for (std::uint32_t i = 0; i < conns.size() && starved_count > 0; ++i) {
      Conn &c = conns[i];
      if (!c.starved)
        continue;
      if (mode != RecvMode::OwnBuffers && pbuf.in_kernel() == 0)
        return;
      if (c.state == ConnState::Open && (c.inflight & bit(Op::Recv)) == 0) {
        arm_recv(i);
      } else {
        set_starved(c, false);
      }
    }
  }

  void on_recv(std::uint32_t slot, int res, std::uint32_t flags, std::int64_t now) noexcept {
    Conn &c = conns[slot];
    const bool open = c.state == ConnState::Open;
    const bool more = (flags & IORING_CQE_F_MORE) != 0;
    if (res > 0) {
      ++stats.recv_completions;
      stats.recv_bytes += static_cast<std::uint64_t>(res);
      c.data_seen = true;
    }
    if (mode == RecvMode::OwnBuffers) {
      if (res > 0 && open) {
        const BufferId id = slot * own_count() + c.own_recv;
        emit_data(slot, id, own_slab.get() + std::size_t{id} * cfg.buffer_size,
                  static_cast<std::uint32_t>(res), now);
      } else {
        c.own_in_use &= ~(1u << c.own_recv);
      }
    } else if ((flags & IORING_CQE_F_BUFFER) != 0) {
      const auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
      const std::span<std::byte> b = pbuf.take(id, res > 0 ? static_cast<std::uint32_t>(res) : 0);
      if (res > 0 && open) {
        emit_data(slot, id, b.data(), static_cast<std::uint32_t>(res), now);
      } else {
        pbuf.recycle(id);
      }
    }
    if (more)
      return;
    c.inflight &= static_cast<std::uint8_t>(~bit(Op::Recv));
    if (!open) {
      maybe_finish(slot);
      return;
    }
    if (res > 0) {
      if (mode == RecvMode::MultishotBufferRing)
        ++stats.multishot_ends;
      arm_recv(slot);
    } else if (res == 0) {
      start_close(slot, CloseReason::PeerClosed, 0);
    } else if (res == -ENOBUFS) {
      ++stats.enobufs;
      arm_recv(slot); // re-arms at once if buffers came back meanwhile, else waits for them
    } else if (res == -EINVAL && mode == RecvMode::MultishotBufferRing) {
      // Buffer rings but no multishot recv (kernel 5.19): one recv per completion instead.
      mode = RecvMode::SingleShotBufferRing;
      arm_recv(slot);
    } else {
      start_close(slot, CloseReason::RecvError, -res);
    }
  }

  void emit_data(std::uint32_t slot, BufferId id, std::byte *data, std::uint32_t size,
                 std::int64_t now) noexcept {
    UringEvent e;
    e.kind = EventKind::Data;
    e.conn = ConnId{slot, conns[slot].gen};
    e.buffer = id;
    e.data = data;
    e.size = size;
    e.recv_ns = now;
    emit(e);
  }

  void recycle(BufferId id) noexcept {
    if (mode == RecvMode::OwnBuffers) {
      const std::uint32_t slot = id / own_count();
      if (slot >= conns.size())
        return;
      Conn &c = conns[slot];
      c.own_in_use &= ~(1u << (id % own_count()));
      if (c.starved && c.state == ConnState::Open)
        arm_recv(slot);
    } else if (id < pbuf.count()) {
      pbuf.recycle(static_cast<std::uint16_t>(id)); // starved connections re-arm in poll()
    }
  }

  // ---- send ------------------------------------------------------------------------------
  std::uint64_t send_cap() const noexcept { return cfg.send_buffer_size; }

  void submit_send(std::uint32_t slot) noexcept {
    Conn &c = conns[slot];
    const std::uint64_t off = c.send_head % send_cap();
    const std::uint64_t len = std::min(c.send_tail - c.send_head, send_cap() - off);
    io_uring_sqe *s = get_sqe();
    if (s == nullptr) {
      start_close(slot, CloseReason::SubmitFailed, EBUSY);
      return;
    }
    c.send_len = static_cast<std::uint32_t>(len);
    ::io_uring_prep_send(s, c.fd, c.send_buf + off, len, MSG_NOSIGNAL);
    ::io_uring_sqe_set_data64(s, make_ud(Op::Send, c.gen, slot));
    c.inflight |= bit(Op::Send);
  }

  void on_send(std::uint32_t slot, int res) noexcept {
    Conn &c = conns[slot];
    c.inflight &= static_cast<std::uint8_t>(~bit(Op::Send));
    if (c.state != ConnState::Open) {
      maybe_finish(slot);
      return;
    }
    if (res <= 0) {
      start_close(slot, CloseReason::SendError, res == 0 ? EPIPE : -res);
      return;
    }
    ++stats.sends;
    stats.send_bytes += static_cast<std::uint64_t>(res);
    if (static_cast<std::uint32_t>(res) < c.send_len)
      ++stats.partial_sends;
    c.send_head += static_cast<std::uint64_t>(res);
    if (c.send_tail > c.send_head)
      submit_send(slot);
  }

  // ---- timeouts --------------------------------------------------------------------------
  void arm_no_data(std::uint32_t slot) noexcept {
    Conn &c = conns[slot];
    io_uring_sqe *s = get_sqe();
    if (s == nullptr) {
      start_close(slot, CloseReason::SubmitFailed, EBUSY);
      return;
    }
    c.data_seen = false;
    ::io_uring_prep_timeout(s, &c.no_data_ts, 0, 0);
    ::io_uring_sqe_set_data64(s, make_ud(Op::NoData, c.gen, slot));
    c.inflight |= bit(Op::NoData);
  }

  void on_no_data(std::uint32_t slot, int res) noexcept {
    Conn &c = conns[slot];
    c.inflight &= static_cast<std::uint8_t>(~bit(Op::NoData));
    if (c.state != ConnState::Open) {
      maybe_finish(slot);
      return;
    }
    if (res == -ETIME && !c.data_seen) {
      ++stats.no_data_events;
      UringEvent e;
      e.kind = EventKind::NoData;
      e.conn = ConnId{slot, c.gen};
      emit(e);
    }
    arm_no_data(slot); // keeps watching until data arrives or the caller closes
  }

  void on_timer(std::uint32_t slot, std::uint32_t gen, int res) noexcept {
    if (slot >= timers.size())
      return;
    TimerSlot &t = timers[slot];
    if (!t.used || t.gen != gen)
      return;
    t.used = false;
    t.gen = (t.gen + 1) & kGenMask;
    if (res == -ETIME && !t.cancelled) {
      ++stats.timers_fired;
      UringEvent e;
      e.kind = EventKind::Timer;
      e.timer = TimerId{slot, gen};
      e.tag = t.tag;
      emit(e);
    }
  }

  // ---- connect / close -------------------------------------------------------------------
  void on_connect(std::uint32_t slot, int res) noexcept {
    Conn &c = conns[slot];
    c.inflight &= static_cast<std::uint8_t>(~bit(Op::Connect));
    if (c.state != ConnState::Connecting) {
      maybe_finish(slot);
      return;
    }
    if (res == -ECANCELED) { // only the linked timeout cancels a connect we did not close
      start_close(slot, CloseReason::ConnectTimeout, ETIMEDOUT);
      return;
    }
    if (res < 0) {
      start_close(slot, CloseReason::ConnectFailed, -res);
      return;
    }
    c.state = ConnState::Open;
    UringEvent e;
    e.kind = EventKind::Connected;
    e.conn = ConnId{slot, c.gen};
    emit(e);
    arm_recv(slot);
    if (c.state == ConnState::Open && (c.no_data_ts.tv_sec != 0 || c.no_data_ts.tv_nsec != 0)) {
      arm_no_data(slot);
    }
    if (c.state == ConnState::Open && c.send_tail > c.send_head)
      submit_send(slot);
  }

  void cancel_op(std::uint32_t slot, Op op) noexcept {
    Conn &c = conns[slot];
    if ((c.inflight & bit(op)) == 0)
      return;
    io_uring_sqe *s = get_sqe();
    if (s == nullptr) {
      // Cannot cancel: shutting the socket down completes its recv/send/connect anyway.
      ::shutdown(c.fd, SHUT_RDWR);
      return;
    }
    if (op == Op::NoData) {
      ::io_uring_prep_timeout_remove(s, make_ud(op, c.gen, slot), 0);
    } else {
      ::io_uring_prep_cancel64(s, make_ud(op, c.gen, slot), 0);
    }
    ::io_uring_sqe_set_data64(s, make_ud(Op::Ignore, 0, slot));
  }

  void start_close(std::uint32_t slot, CloseReason reason, int error) noexcept {
    Conn &c = conns[slot];
    if (c.state == ConnState::Free || c.state == ConnState::Closing)
      return;
    if (reason == CloseReason::Requested && c.state == ConnState::Connecting) {
      reason = CloseReason::Cancelled;
    }
    c.state = ConnState::Closing;
    c.reason = reason;
    c.error = error;
    set_starved(c, false);
    cancel_op(slot, Op::Connect); // its linked timeout goes with it
    cancel_op(slot, Op::Recv);
    cancel_op(slot, Op::Send);
    cancel_op(slot, Op::NoData);
    maybe_finish(slot);
  }

  void maybe_finish(std::uint32_t slot) noexcept {
    Conn &c = conns[slot];
    if (c.state != ConnState::Closing || c.inflight != 0)
      return;
    ::close(c.fd);
    c.fd = -1;
    UringEvent e;
    e.kind = EventKind::Closed;
    e.conn = ConnId{slot, c.gen};
    e.reason = c.reason;
    e.error = c.error;
    emit(e);
    c.state = ConnState::Free;
    c.gen = (c.gen + 1) & kGenMask;
    --open_count;
  }

  // ---- completion dispatch ---------------------------------------------------------------
  void handle(const io_uring_cqe &cqe, std::int64_t now) noexcept {
    const std::uint64_t ud = cqe.user_data;
    const auto op = static_cast<Op>(ud >> 56);
    const auto gen = static_cast<std::uint32_t>(ud >> 32) & kGenMask;
    const auto slot = static_cast<std::uint32_t>(ud);
    if (op == Op::Timer) {
      on_timer(slot, gen, cqe.res);
      return;
    }
    if (op == Op::Ignore || static_cast<std::uint8_t>(op) > static_cast<std::uint8_t>(Op::Timer))
      return; // cancel/timeout_remove results, liburing's own wait timeout
    if (slot >= conns.size() || conns[slot].gen != gen || conns[slot].state == ConnState::Free)
      return;
    switch (op) {
    case Op::Connect:
      on_connect(slot, cqe.res);
      break;
    case Op::LinkTimeout:
      conns[slot].inflight &= static_cast<std::uint8_t>(~bit(Op::LinkTimeout));
      maybe_finish(slot);
      break;
    case Op::Recv:
      on_recv(slot, cqe.res, cqe.flags, now);
      break;
    case Op::Send:
      on_send(slot, cqe.res);
      break;
    case Op::NoData:
      on_no_data(slot, cqe.res);
      break;
    case Op::Ignore:
    case Op::Timer:
      break;
    }
  }

  std::span<const UringEvent> poll(std::chrono::nanoseconds max_wait) noexcept {
    n_events = 0;
    for (std::size_t i = 0; i < n_deferred; ++i)
      events[n_events++] = deferred[i];
    n_deferred = 0;
    if (starved_count > 0)
      rearm_starved();

    if (cfg.busy_poll || n_events > 0 || max_wait.count() == 0) {
      // Enter the kernel without waiting: submits, and runs deferred task work so completions
      // get posted (spinning on the CQ alone never sees them with DEFER_TASKRUN).
      if (sqpoll) {
        (void)::io_uring_submit(&ring);
      } else {
        (void)::io_uring_submit_and_get_events(&ring);
      }
    } else {
      io_uring_cqe *first = nullptr;
      __kernel_timespec ts = to_timespec(max_wait);
      (void)::io_uring_submit_and_wait_timeout(&ring, &first, 1,
                                               max_wait.count() < 0 ? nullptr : &ts, nullptr);
    }
    if (::io_uring_cq_ready(&ring) == 0)
      return {events.data(), n_events};

    const std::int64_t now = realtime_ns();      // once per batch, see the header
    const std::size_t limit = events.size() - 2; // a CQE raises at most two events
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe *cqe = nullptr;
    in_reap = true;
    io_uring_for_each_cqe(&ring, head, cqe) {
      if (n_events >= limit)
        break; // the rest waits for the next poll()
      handle(*cqe, now);
      ++seen;
    }
    in_reap = false;
    ::io_uring_cq_advance(&ring, seen);
    stats.cqes += seen;
    if (seen > 0)
      ++stats.batches;
    return {events.data(), n_events};
  }

  // Cancels everything and waits (bounded) until the kernel has let go of every buffer and
  // socket address, so unmapping after this is safe.
  void drain() noexcept {
    for (std::uint32_t i = 0; i < conns.size(); ++i)
      start_close(i, CloseReason::Requested, 0);
    for (std::uint32_t i = 0; i < timers.size(); ++i) {
      if (timers[i].used) {
        if (io_uring_sqe *s = get_sqe()) {
          timers[i].cancelled = true;
          ::io_uring_prep_timeout_remove(s, make_ud(Op::Timer, timers[i].gen, i), 0);
          ::io_uring_sqe_set_data64(s, make_ud(Op::Ignore, 0, i));
        }
      }
    }
    for (int round = 0; round < 200; ++round) {
      const bool timers_busy =
          std::any_of(timers.begin(), timers.end(), [](const TimerSlot &t) { return t.used; });
      if (open_count == 0 && !timers_busy)
        break;
      for (const UringEvent &e : poll(std::chrono::milliseconds(10))) {
        if (e.kind == EventKind::Data)
          recycle(e.buffer);
      }
    }
  }
};

// ---- UringReactor --------------------------------------------------------------------------

UringReactor::UringReactor(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
UringReactor::~UringReactor() = default;

NetResult<std::unique_ptr<UringReactor>> UringReactor::create(const UringConfig &config) {
  const UringConfig &c = config;
  if (c.sq_entries == 0 || c.max_connections == 0 || c.max_connections > kGenMask ||
      c.buffer_size == 0 || c.send_buffer_size == 0 || c.own_buffers_per_connection == 0 ||
      c.own_buffers_per_connection > 32 || c.ring_buffers == 0 || c.ring_buffers > 32768 ||
      (c.ring_buffers & (c.ring_buffers - 1)) != 0) {
    return NetError{"io_uring reactor: invalid config (sizes must be > 0, ring_buffers a power "
                    "of two <= 32768, own_buffers_per_connection <= 32)"};
  }
  auto impl = std::make_unique<Impl>();
  impl->cfg = c;
  const unsigned cq = c.cq_entries != 0 ? c.cq_entries : c.sq_entries * 8;

  auto try_init = [&](unsigned flags) {
    io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = cq;
    if ((flags & IORING_SETUP_SQPOLL) != 0) {
      p.sq_thread_idle = c.sqpoll_idle_ms;
      if (c.sqpoll_cpu >= 0) {
        p.flags |= IORING_SETUP_SQ_AFF;
        p.sq_thread_cpu = static_cast<unsigned>(c.sqpoll_cpu);
      }
    }
    return ::io_uring_queue_init_params(c.sq_entries, &impl->ring, &p);
  };
  std::string &notes = impl->notes;
  int rc = -EINVAL;
  if (c.sqpoll) {
    rc = try_init(IORING_SETUP_SQPOLL);
    if (rc == 0) {
      impl->sqpoll = true;
      notes += "sqpoll on; ";
    } else {
      notes += std::string("sqpoll refused (") + errno_text(-rc) + "); ";
    }
  }
  if (rc != 0 && c.defer_taskrun) {
    rc = try_init(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (rc == 0) {
      impl->defer = true;
      notes += "defer_taskrun on; ";
    } else {
      notes += std::string("defer_taskrun refused (") + errno_text(-rc) + "); ";
    }
  }
  if (rc != 0)
    rc = try_init(IORING_SETUP_COOP_TASKRUN);
  if (rc != 0)
    rc = try_init(0);
  if (rc != 0) {
    return NetError{std::string("io_uring_queue_init failed: ") + errno_text(-rc)};
  }
  impl->ring_ok = true;

  io_uring_probe *probe = ::io_uring_get_probe_ring(&impl->ring);
  if (probe == nullptr)
    return NetError{"io_uring probe failed (kernel older than 5.6)"};
  bool ops_ok = true;
  for (const int op : kRequiredOps)
    ops_ok = ops_ok && ::io_uring_opcode_supported(probe, op) != 0;
  ::io_uring_free_probe(probe);
  if (!ops_ok)
    return NetError{"io_uring lacks connect/recv/send/timeout/cancel opcodes"};

  impl->mode = RecvMode::OwnBuffers;
  if (c.recv_mode != RecvMode::OwnBuffers) {
    const int br = impl->pbuf.init(&impl->ring, 0, c.ring_buffers, c.buffer_size);
    if (br == 0) {
      impl->mode = c.recv_mode;
    } else {
      notes += std::string("buffer ring refused (") + errno_text(-br) + "), own buffers; ";
    }
  }
  notes += std::string("recv mode ") + to_cstring(impl->mode);

  impl->conns.resize(c.max_connections);
  impl->timers.resize(c.max_timers);
  impl->send_slab =
      std::make_unique<std::byte[]>(std::size_t{c.max_connections} * c.send_buffer_size);
  for (std::size_t i = 0; i < impl->conns.size(); ++i) {
    impl->conns[i].send_buf = impl->send_slab.get() + i * c.send_buffer_size;
  }
  if (impl->mode == RecvMode::OwnBuffers) {
    impl->own_slab = std::make_unique<std::byte[]>(std::size_t{c.max_connections} *
                                                   c.own_buffers_per_connection * c.buffer_size);
  }
  impl->deferred.resize(std::size_t{c.max_connections} + c.max_timers);
  impl->events.resize(impl->deferred.size() + cq + 2);
  return std::unique_ptr<UringReactor>(new UringReactor(std::move(impl)));
}

ConnectResult UringReactor::connect(const Endpoint &peer, const ConnectOptions &options) noexcept {
  Impl &m = *impl_;
  std::uint32_t slot = 0;
  while (slot < m.conns.size() && m.conns[slot].state != ConnState::Free)
    ++slot;
  if (slot == m.conns.size())
    return {ConnId{}, ENOSPC};
  const SocketOpen so = open_tcp_socket(peer.addr.ss_family, options.socket);
  if (so.fd < 0)
    return {ConnId{}, so.error};
  if (options.socket.busy_poll_us > 0 && !so.busy_poll_applied)
    ++m.stats.busy_poll_refused;

  // A link must reach the kernel in one submission: make room for both SQEs first.
  // (Never take an SQE and submit before preparing it: the kernel would run a stale entry.)
  const bool linked = options.connect_timeout.count() > 0;
  const unsigned need = linked ? 2u : 1u;
  for (int i = 0; i < 64 && ::io_uring_sq_space_left(&m.ring) < need; ++i) {
    ++m.stats.sq_full;
    (void)::io_uring_submit(&m.ring);
    if (m.sqpoll)
      (void)::io_uring_sqring_wait(&m.ring);
  }
  if (::io_uring_sq_space_left(&m.ring) < need) {
    ::close(so.fd);
    return {ConnId{}, EBUSY};
  }
  io_uring_sqe *s = ::io_uring_get_sqe(&m.ring);
  io_uring_sqe *t = linked ? ::io_uring_get_sqe(&m.ring) : nullptr;
  Conn &c = m.conns[slot];
  c.fd = so.fd;
  c.state = ConnState::Connecting;
  c.inflight = 0;
  c.data_seen = false;
  c.starved = false;
  c.reason = CloseReason::Requested;
  c.error = 0;
  c.peer = peer;
  c.connect_ts = to_timespec(options.connect_timeout);
  c.no_data_ts = to_timespec(options.no_data_timeout);
  c.send_head = c.send_tail = 0;
  c.send_len = 0;
  ::io_uring_prep_connect(s, c.fd, reinterpret_cast<const sockaddr *>(&c.peer.addr), c.peer.len);
  ::io_uring_sqe_set_data64(s, make_ud(Op::Connect, c.gen, slot));
  c.inflight |= bit(Op::Connect);
  if (linked) {
    s->flags |= IOSQE_IO_LINK;
    ::io_uring_prep_link_timeout(t, &c.connect_ts, 0);
    ::io_uring_sqe_set_data64(t, make_ud(Op::LinkTimeout, c.gen, slot));
    c.inflight |= bit(Op::LinkTimeout);
  }
  ++m.open_count;
  return {ConnId{slot, c.gen}, 0};
}

void UringReactor::close(ConnId conn) noexcept {
  if (impl_->find(conn) != nullptr)
    impl_->start_close(conn.slot, CloseReason::Requested, 0);
}

SendStatus UringReactor::send(ConnId conn, std::span<const std::byte> bytes) noexcept {
  Impl &m = *impl_;
  Conn *c = m.find(conn);
  if (c == nullptr || (c->state != ConnState::Open && c->state != ConnState::Connecting)) {
    return SendStatus::NotConnected;
  }
  const std::uint64_t cap = m.send_cap();
  if (bytes.size() > cap - (c->send_tail - c->send_head))
    return SendStatus::NoSpace;
  const std::uint64_t off = c->send_tail % cap;
  const std::size_t first =
      static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), cap - off));
  if (first > 0)
    std::memcpy(c->send_buf + off, bytes.data(), first);
  if (bytes.size() > first)
    std::memcpy(c->send_buf, bytes.data() + first, bytes.size() - first);
  c->send_tail += bytes.size();
  if (c->state == ConnState::Open && (c->inflight & bit(Op::Send)) == 0 && !bytes.empty()) {
    m.submit_send(conn.slot);
  }
  return SendStatus::Queued;
}

void UringReactor::recycle(BufferId buffer) noexcept {
  impl_->recycle(buffer);
}

TimerId UringReactor::add_timer(std::chrono::nanoseconds after, std::uint64_t tag) noexcept {
  Impl &m = *impl_;
  std::uint32_t slot = 0;
  while (slot < m.timers.size() && m.timers[slot].used)
    ++slot;
  if (slot == m.timers.size())
    return TimerId{};
  io_uring_sqe *s = m.get_sqe();
  if (s == nullptr)
    return TimerId{};
  TimerSlot &t = m.timers[slot];
  t.used = true;
  t.cancelled = false;
  t.tag = tag;
  t.ts = to_timespec(after);
  ::io_uring_prep_timeout(s, &t.ts, 0, 0);
  ::io_uring_sqe_set_data64(s, make_ud(Op::Timer, t.gen, slot));
  return TimerId{slot, t.gen};
}

bool UringReactor::cancel_timer(TimerId timer) noexcept {
  Impl &m = *impl_;
  if (timer.slot >= m.timers.size())
    return false;
  TimerSlot &t = m.timers[timer.slot];
  if (!t.used || t.cancelled || t.gen != timer.gen)
    return false;
  t.cancelled = true; // even if it already fired in the kernel, no Timer event follows
  if (io_uring_sqe *s = m.get_sqe()) {
    ::io_uring_prep_timeout_remove(s, make_ud(Op::Timer, t.gen, timer.slot), 0);
    ::io_uring_sqe_set_data64(s, make_ud(Op::Ignore, 0, timer.slot));
  }
  return true;
}

std::span<const UringEvent> UringReactor::poll(std::chrono::nanoseconds max_wait) noexcept {
  return impl_->poll(max_wait);
}

void UringReactor::flush() noexcept {
  (void)::io_uring_submit(&impl_->ring);
}

bool UringReactor::is_open(ConnId conn) const noexcept {
  const Conn *c = impl_->find(conn);
  return c != nullptr && (c->state == ConnState::Open || c->state == ConnState::Connecting);
}
std::size_t UringReactor::send_queued(ConnId conn) const noexcept {
  const Conn *c = impl_->find(conn);
  return c == nullptr ? 0 : static_cast<std::size_t>(c->send_tail - c->send_head);
}
std::size_t UringReactor::open_connections() const noexcept {
  return impl_->open_count;
}
RecvMode UringReactor::recv_mode() const noexcept {
  return impl_->mode;
}
bool UringReactor::sqpoll_active() const noexcept {
  return impl_->sqpoll;
}
bool UringReactor::defer_taskrun_active() const noexcept {
  return impl_->defer;
}
std::uint32_t UringReactor::ring_buffers_available() const noexcept {
  return impl_->pbuf.in_kernel();
}
const UringStats &UringReactor::stats() const noexcept {
  return impl_->stats;
}
const std::string &UringReactor::setup_notes() const noexcept {
  return impl_->notes;
}

const char *to_cstring(CloseReason reason) noexcept {
  switch (reason) {
  case CloseReason::Requested:
    return "closed by us";
  case CloseReason::Cancelled:
    return "connect cancelled";
  case CloseReason::PeerClosed:
    return "peer closed";
  case CloseReason::ConnectFailed:
    return "connect failed";
  case CloseReason::ConnectTimeout:
    return "connect timeout";
  case CloseReason::RecvError:
    return "recv failed";
  case CloseReason::SendError:
    return "send failed";
  case CloseReason::SubmitFailed:
    return "io_uring submission queue stuck";
  }
  return "?";
}

const char *to_cstring(RecvMode mode) noexcept {
  switch (mode) {
  case RecvMode::MultishotBufferRing:
    return "multishot+buffer-ring";
  case RecvMode::SingleShotBufferRing:
    return "single-shot+buffer-ring";
  case RecvMode::OwnBuffers:
    return "single-shot+own-buffers";
  }
  return "?";
}

std::string describe(CloseReason reason, int error) {
  std::string out = to_cstring(reason);
  if (error != 0) {
    out += ": ";
    out += errno_text(error);
  }
  return out;
}

} // namespace fh::net
