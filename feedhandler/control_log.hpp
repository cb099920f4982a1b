#pragma once
// Control-path log: one structured line per event on stderr (logfmt: `ts=... level=info
// event=session.reconnect venue=okx conn=0 reason="..."`), so operators can grep and machines
// can parse it. Rate-limited per event name: at most `burst` lines per `window_ms`, the rest
// are counted and the next line that passes says `suppressed=N` (a reconnect storm must not
// become a log storm). Thread-safe (a mutex): it is for the control path only; the data path
// never logs. Secrets never reach it: callers log names, counts and reasons, not payloads.
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace fh {

enum class LogLevel : std::uint8_t { Debug, Info, Warn, Error };

// "debug" | "info" | "warn" | "error"; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class N>
    requires std::is_arithmetic_v<N>
  LogField(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
};

class ControlLog {
public:
  explicit ControlLog(LogLevel min_level = LogLevel::Info, std::FILE* out = stderr,
                      std::uint32_t burst = 10, std::int64_t window_ms = 10'000)
      : min_(min_level), out_(out), burst_(burst), window_ns_(window_ms * 1'000'000) {}

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Error, event, fields);
  }

  std::uint64_t lines() const;
  std::uint64_t suppressed() const;

private:
  struct Window {
    std::int64_t start_ns = 0;
    std::uint32_t count = 0;
    std::uint64_t suppressed = 0;
  };
  LogLevel min_;
  std::FILE* out_;
  std::uint32_t burst_;
  std::int64_t window_ns_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::uint64_t lines_ = 0, suppressed_ = 0;
};

} // namespace fh
