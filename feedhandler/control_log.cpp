#include "feedhandler/control_log.hpp"

#include <ctime>

namespace fh {
namespace {

const char* level_name(LogLevel l) noexcept {
  switch (l) {
  case LogLevel::Debug: return "debug";
  case LogLevel::Info: return "info";
  case LogLevel::Warn: return "warn";
  case LogLevel::Error: return "error";
  }
  return "info";
}

// logfmt value: bare when it is a plain token, else quoted with " and \ escaped and control
// characters dropped (a venue's error text must not break the line).
void append_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (const char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f)
      bare = false;
  if (bare) {
    out += v;
    return;
  }
  out += '"';
  for (const char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
}

std::int64_t realtime_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

bool parse_log_level(std::string_view text, LogLevel& out) noexcept {
  for (const LogLevel l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void ControlLog::log(LogLevel level, std::string_view event,
                     std::initializer_list<LogField> fields) {
  if (level < min_) return;
  const std::int64_t now = realtime_ns();
  std::lock_guard lock(mutex_);
  Window& w = windows_[std::string(event)];
  if (now - w.start_ns >= window_ns_) {
    w.start_ns = now;
    w.count = 0;
  }
  if (w.count >= burst_) {
    ++w.suppressed;
    ++suppressed_;
    return;
  }
  ++w.count;

  char ts[40];
  const std::time_t secs = static_cast<std::time_t>(now / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts + n, sizeof ts - n, ".%06lldZ",
                static_cast<long long>((now % 1'000'000'000) / 1000));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += level_name(level);
  line += " event=";
  append_value(line, event);
  for (const LogField& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  if (w.suppressed != 0) {
    line += " suppressed=" + std::to_string(w.suppressed);
    w.suppressed = 0;
  }
  line += '\n';
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
  ++lines_;
}

std::uint64_t ControlLog::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::uint64_t ControlLog::suppressed() const {
  std::lock_guard lock(mutex_);
  return suppressed_;
}

} // namespace fh
