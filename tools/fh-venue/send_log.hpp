#pragma once
// fh-venue --send-log FILE: one fixed-size binary record per WebSocket frame served from a
// recorded stream, stamped with CLOCK_REALTIME right before the frame's bytes go to TLS and the
// socket, so a client on the same host can compute "venue wrote frame k" -> "book updated"
// latency per frame (bench/loopback).
//
// Why shaped so: the connection threads that send the frames stamp them, so stamping must not
// slow them down. Each thread stamps into its own pre-sized buffer (no lock, no allocation, no
// syscall per frame); a full buffer is handed to the file in one write() under a mutex *before*
// the next stamp is taken, so the flush never sits between a stamp and its frame's write. The
// rest is written when the connection ends (every return path of the connection thread), and
// the server joins those threads before exit. The file is therefore grouped in chunks per
// connection, not globally ordered: readers group by (connection, frame).
// The sink is process-wide, installed by main() before the server starts and removed after it
// stopped: fh-venue runs exactly one server, and this keeps the hook out of the server's
// options while other fault options are being added there.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

namespace fh::venue_tool {

// Host byte order (little-endian on every host this runs on), no header, 24 bytes each.
struct SendRecord {
  std::uint32_t connection; // WebSocket connection number, 1.. (as --fault :conn=K counts)
  std::uint32_t reserved;   // 0
  std::uint64_t frame;      // frame number on that connection, 1.. (as --fault counts them)
  std::int64_t realtime_ns; // CLOCK_REALTIME right before the frame's bytes were written
};
static_assert(sizeof(SendRecord) == 24);
static_assert(std::is_trivially_copyable_v<SendRecord>);

class SendLog {
public:
  // Creates or truncates `path`. Error text when it cannot.
  static std::variant<std::unique_ptr<SendLog>, std::string> open(const std::string &path);
  ~SendLog();
  SendLog(const SendLog &) = delete;
  SendLog &operator=(const SendLog &) = delete;

  // Appends whole records in one write (under the mutex; retried on short writes).
  void append(std::span<const SendRecord> records) noexcept;
  std::uint64_t records_written() const noexcept;
  std::uint64_t write_errors() const noexcept;

  // The process-wide sink the connection threads use (nullptr: no --send-log).
  static void install(SendLog *log) noexcept;
  static SendLog *installed() noexcept;

private:
  explicit SendLog(int fd) noexcept : fd_(fd) {}
  int fd_;
  mutable std::mutex mu_;
  std::uint64_t written_ = 0;
  std::uint64_t errors_ = 0;
};

// One connection's stamps, buffered; flushed when full and on destruction.
class SendLogWriter {
public:
  static constexpr std::size_t kRecords = 8192; // 192 KiB per connection thread

  // `log` nullptr: stamp() does nothing and nothing is allocated.
  SendLogWriter(SendLog *log, std::uint32_t connection);
  ~SendLogWriter() { flush(); }
  SendLogWriter(const SendLogWriter &) = delete;
  SendLogWriter &operator=(const SendLogWriter &) = delete;

  // Call right before the frame's bytes are written.
  void stamp(std::uint64_t frame) noexcept;
  void flush() noexcept;

private:
  SendLog *log_;
  std::uint32_t connection_;
  std::unique_ptr<SendRecord[]> buf_;
  std::size_t n_ = 0;
};

} // namespace fh::venue_tool
