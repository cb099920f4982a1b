#include "feedhandler/recorder.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "shm/segment_file.hpp" // realtime_ns

namespace fh {

struct Recorder::Impl {
  explicit Impl(RecorderOptions o) : options(std::move(o)), ring(options.queue_bytes) {}
  ~Impl() {
    if (cctx != nullptr) ZSTD_freeCCtx(cctx);
  }

  RecorderOptions options;
  ByteRing ring;
  // producer side (single writer each; atomics so counters() can read them anywhere)
  std::atomic<std::uint64_t> records{0}, dropped_records{0}, dropped_bytes{0};
  // writer side
  std::atomic<std::uint64_t> written_records{0}, raw_bytes{0}, file_bytes{0}, files_count{0},
      write_errors{0};
  ZSTD_CCtx* cctx = nullptr;
  std::vector<char> out;
  int fd = -1;
  std::uint64_t raw_in_file = 0;
  std::int64_t file_opened_ns = 0;
  std::int64_t last_flush_ns = 0;
  std::uint64_t next_seq = 0;
  bool dirty = false; // bytes compressed since the last flush
  mutable std::mutex control; // files list and error text (control path only)
  std::vector<std::string> files;
  std::string error;
  std::atomic<bool> stop{false};
  std::thread writer;
  bool closed = false;

  void set_error(std::string e) {
    write_errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(control);
    error = std::move(e);
  }

  bool write_all(const char* p, std::size_t n) {
    while (n != 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        set_error(std::string("recorder: write failed: ") + std::strerror(errno));
        return false;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      file_bytes.fetch_add(static_cast<std::uint64_t>(w), std::memory_order_relaxed);
    }
    return true;
  }

  // Feeds `in` to zstd; mode continue/flush/end. Writes whatever zstd produces.
  bool compress(std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      const std::size_t rem = ZSTD_compressStream2(cctx, &ob, &ib, mode);
      if (ZSTD_isError(rem)) {
        set_error(std::string("recorder: zstd: ") + ZSTD_getErrorName(rem));
        return false;
      }
      if (ob.pos != 0 && !write_all(out.data(), ob.pos)) return false;
      const bool done = mode == ZSTD_e_continue ? ib.pos == ib.size : rem == 0;
      if (done) return true;
    }
  }
  bool feed(std::string_view in) {
    raw_in_file += in.size();
    raw_bytes.fetch_add(in.size(), std::memory_order_relaxed);
    dirty = true;
    return in.empty() || compress(in, ZSTD_e_continue);
  }

  bool open_file(std::int64_t now_ns) {
    const std::time_t secs = static_cast<std::time_t>(now_ns / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char index[16];
    std::snprintf(index, sizeof index, "%04llu",
                  static_cast<unsigned long long>(files_count.load(std::memory_order_relaxed)));
    const std::string path = options.directory + "/" + options.prefix + "-" + stamp + "-" +
                             index + std::string(recording::kFileSuffix);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
      set_error("recorder: cannot create " + path + ": " + std::strerror(errno));
      return false;
    }
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
    raw_in_file = 0;
    file_opened_ns = now_ns;
    last_flush_ns = now_ns;
    files_count.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(control);
      files.push_back(path);
    }
    const std::string header =
        std::string(recording::kMagicLine) + R"({"format":"fhrec","version":)" +
        std::to_string(recording::kVersion) + R"(,"created_ns":)" + std::to_string(now_ns) +
        R"(,"producer":")" + options.producer +
        (options.venue.empty() ? std::string() : R"(","venue":")" + options.venue) +
        R"(","file_index":)" + index_number() + "," +
        std::string(recording::kRecordLayoutJson) + "}\n";
    return feed(header);
  }
  std::string index_number() const {
    return std::to_string(files_count.load(std::memory_order_relaxed) - 1);
  }

  void finish_file() {
    if (fd < 0) return;
    compress({}, ZSTD_e_end);
    if (::fsync(fd) != 0 && errno != EINVAL) set_error(std::string("recorder: fsync: ") + std::strerror(errno));
    ::close(fd);
    fd = -1;
    dirty = false;
  }

  std::size_t drain() {
    std::size_t n = 0;
    const std::int64_t now = shm::realtime_ns();
    for (;;) {
      const std::size_t avail = ring.readable();
      if (avail < sizeof(recording::RecordHeader)) break;
      recording::RecordHeader h{};
      ring.copy_out(0, &h, sizeof h);
      const std::size_t body = std::size_t{h.url_size} + h.payload_size;
      const std::size_t total = sizeof h + body;
      const bool rotate = fd >= 0 && (raw_in_file >= options.rotate_bytes ||
                                      (options.rotate_seconds > 0 &&
                                       now - file_opened_ns >= options.rotate_seconds * 1'000'000'000));
      if (rotate) finish_file();
      if (fd < 0 && !open_file(now)) {
        ring.consume(total); // cannot write: the record is lost, counted as a write error
        continue;
      }
      h.seq = next_seq++;
      const ByteRing::Spans s = ring.peek(sizeof h, body);
      const bool ok = feed({reinterpret_cast<const char*>(&h), sizeof h}) && feed(s.first) &&
                      feed(s.second);
      ring.consume(total);
      if (ok) written_records.fetch_add(1, std::memory_order_relaxed);
      ++n;
    }
    if (fd >= 0 && dirty && now - last_flush_ns >= options.flush_ms * 1'000'000) {
      compress({}, ZSTD_e_flush);
      last_flush_ns = now;
      dirty = false;
    }
    return n;
  }
};

std::variant<std::unique_ptr<Recorder>, std::string> Recorder::open(RecorderOptions options) {
  if (options.directory.empty()) return std::string("recorder: no directory given");
  if (::mkdir(options.directory.c_str(), 0750) != 0 && errno != EEXIST)
    return "recorder: cannot create directory " + options.directory + ": " + std::strerror(errno);
  if (options.queue_bytes < 4096) options.queue_bytes = 4096;
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->cctx = ZSTD_createCCtx();
  if (impl->cctx == nullptr) return std::string("recorder: zstd context allocation failed");
  ZSTD_CCtx_setParameter(impl->cctx, ZSTD_c_compressionLevel, impl->options.zstd_level);
  ZSTD_CCtx_setParameter(impl->cctx, ZSTD_c_checksumFlag, 1);
  impl->out.resize(ZSTD_CStreamOutSize());
  std::unique_ptr<Recorder> r(new Recorder(std::move(impl)));
  if (r->impl_->options.writer_thread) {
    Impl* p = r->impl_.get();
    p->writer = std::thread([p] {
      while (!p->stop.load(std::memory_order_acquire)) {
        if (p->drain() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      p->drain();
    });
  }
  return r;
}

Recorder::Recorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Recorder::~Recorder() { close(); }

bool Recorder::record(recording::Kind kind, std::uint32_t conn_id, std::int64_t recv_ts_ns,
                      std::string_view url, std::string_view payload) noexcept {
  Impl& m = *impl_;
  if (url.size() > 0xffff) url = url.substr(0, 0xffff);
  recording::RecordHeader h{};
  h.payload_size = static_cast<std::uint32_t>(payload.size());
  h.url_size = static_cast<std::uint16_t>(url.size());
  h.kind = static_cast<std::uint8_t>(kind);
  h.conn_id = conn_id;
  h.recv_ts_ns = recv_ts_ns;
  if (payload.size() > 0xffffffffu ||
      !m.ring.try_write({{reinterpret_cast<const char*>(&h), sizeof h}, url, payload})) {
    m.dropped_records.store(m.dropped_records.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    m.dropped_bytes.store(m.dropped_bytes.load(std::memory_order_relaxed) + sizeof h +
                              url.size() + payload.size(),
                          std::memory_order_relaxed);
    return false;
  }
  m.records.store(m.records.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return true;
}

std::size_t Recorder::drain() { return impl_->drain(); }

void Recorder::close() {
  Impl& m = *impl_;
  if (m.closed) return;
  m.closed = true;
  if (m.writer.joinable()) {
    m.stop.store(true, std::memory_order_release);
    m.writer.join();
  } else {
    while (m.drain() != 0) {
    }
  }
  m.finish_file();
}

RecorderCounters Recorder::counters() const noexcept {
  const Impl& m = *impl_;
  RecorderCounters c;
  c.records = m.records.load(std::memory_order_relaxed);
  c.dropped_records = m.dropped_records.load(std::memory_order_relaxed);
  c.dropped_bytes = m.dropped_bytes.load(std::memory_order_relaxed);
  c.written_records = m.written_records.load(std::memory_order_relaxed);
  c.raw_bytes = m.raw_bytes.load(std::memory_order_relaxed);
  c.file_bytes = m.file_bytes.load(std::memory_order_relaxed);
  c.files = m.files_count.load(std::memory_order_relaxed);
  c.write_errors = m.write_errors.load(std::memory_order_relaxed);
  return c;
}

std::vector<std::string> Recorder::files() const {
  std::lock_guard lock(impl_->control);
  return impl_->files;
}

std::string Recorder::last_error() const {
  std::lock_guard lock(impl_->control);
  return impl_->error;
}

} // namespace fh
