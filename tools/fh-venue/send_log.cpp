// fh-venue --send-log (see send_log.hpp).
#include "tools/fh-venue/send_log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace fh::venue_tool {
namespace {

std::atomic<SendLog *> g_installed{nullptr};

} // namespace

std::variant<std::unique_ptr<SendLog>, std::string> SendLog::open(const std::string &path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return "--send-log " + path + ": " + std::strerror(errno);
  return std::unique_ptr<SendLog>(new SendLog(fd));
}

SendLog::~SendLog() { ::close(fd_); }

void SendLog::append(std::span<const SendRecord> records) noexcept {
  const auto *p = reinterpret_cast<const char *>(records.data());
  std::size_t left = records.size_bytes();
  std::lock_guard lock(mu_);
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++errors_;
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  written_ += records.size();
}

std::uint64_t SendLog::records_written() const noexcept {
  std::lock_guard lock(mu_);
  return written_;
}

std::uint64_t SendLog::write_errors() const noexcept {
  std::lock_guard lock(mu_);
  return errors_;
}

void SendLog::install(SendLog *log) noexcept { g_installed.store(log, std::memory_order_release); }
SendLog *SendLog::installed() noexcept { return g_installed.load(std::memory_order_acquire); }

SendLogWriter::SendLogWriter(SendLog *log, std::uint32_t connection)
    : log_(log), connection_(connection),
      buf_(log != nullptr ? std::make_unique<SendRecord[]>(kRecords) : nullptr) {}

void SendLogWriter::stamp(std::uint64_t frame) noexcept {
  if (log_ == nullptr) return;
  if (n_ == kRecords) flush(); // before the clock read: the flush is not inside a measurement
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  buf_[n_++] = SendRecord{connection_, 0, frame,
                          static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec};
}

void SendLogWriter::flush() noexcept {
  if (log_ == nullptr || n_ == 0) return;
  log_->append({buf_.get(), n_});
  n_ = 0;
}

} // namespace fh::venue_tool
