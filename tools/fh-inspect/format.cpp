#include "tools/fh-inspect/format.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <utility>

#include <signal.h>

#include "book/decimal.hpp"

namespace fh::inspect {

std::string decimal(std::int64_t mantissa, std::uint8_t decimals) {
  if (decimals > book::kMaxDecimals) // to_string would clamp, i.e. change the value
    return std::to_string(mantissa) + "e-" + std::to_string(unsigned{decimals});
  return book::to_string(mantissa, decimals);
}

std::string instrument_name(const shm::DirectoryEntry& e) {
  std::string s(e.venue);
  s += ':';
  s += e.canonical[0] != '\0' ? e.canonical : e.native;
  return s;
}

std::string instrument_name(const shm::Reader& reader, std::uint32_t id) {
  if (const shm::DirectoryEntry* e = reader.instrument(id))
    return instrument_name(*e);
  if (id == kNoErrorInstrument)
    return "-";
  return "#" + std::to_string(id);
}

const char* status_name(std::uint8_t status) {
  if (status > static_cast<std::uint8_t>(shm::BookStatus::Crossed))
    return "?";
  return shm::to_cstring(static_cast<shm::BookStatus>(status));
}

const char* kind_name(std::uint8_t kind) {
  switch (kind) {
  case 0: return "spot";
  case 1: return "perpetual";
  case 2: return "future";
  case 3: return "option";
  default: return "?";
  }
}

const char* record_type_name(std::uint8_t type) {
  switch (static_cast<shm::RecordType>(type)) {
  case shm::RecordType::None: return "none";
  case shm::RecordType::BookBegin: return "book_begin";
  case shm::RecordType::BookLevel: return "book_level";
  case shm::RecordType::BookEnd: return "book_end";
  case shm::RecordType::Trade: return "trade";
  case shm::RecordType::Bbo: return "bbo";
  case shm::RecordType::Status: return "status";
  }
  return "?";
}

const char* aggressor_name(std::uint8_t side) {
  switch (side) {
  case shm::kAggressorBuy: return "buy";
  case shm::kAggressorSell: return "sell";
  case shm::kAggressorUnknown: return "unknown";
  default: return "?";
  }
}

std::string utc_time(std::int64_t ns) {
  if (ns == 0)
    return "-";
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr)
    return std::to_string(ns);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09" PRId64 "Z", frac);
  return buf;
}

std::string duration(std::int64_t ns) {
  if (ns < 0)
    return "-";
  // Integer arithmetic: tenths/hundredths computed exactly, no floating point needed.
  char buf[48];
  auto scaled = [&](std::int64_t unit, int digits, const char* suffix) {
    const std::int64_t whole = ns / unit;
    std::int64_t part = ns % unit;
    const std::int64_t div = digits == 1 ? unit / 10 : unit / 100;
    part /= div;
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%0*" PRId64 " %s", whole, digits, part, suffix);
  };
  if (ns < 1'000)
    std::snprintf(buf, sizeof buf, "%" PRId64 " ns", ns);
  else if (ns < 1'000'000)
    scaled(1'000, 1, "us");
  else if (ns < 1'000'000'000)
    scaled(1'000'000, 2, "ms");
  else if (ns < 3'600 * std::int64_t{1'000'000'000})
    scaled(1'000'000'000, 2, "s");
  else
    scaled(3'600 * std::int64_t{1'000'000'000}, 1, "h");
  return buf;
}

Liveness writer_liveness(const shm::WriterStatus& s, std::int64_t stale_ns) {
  bool exists = false;
  if (s.pid > 0)
    exists = ::kill(s.pid, 0) == 0 || errno == EPERM;
  switch (s.state) {
  case shm::WriterState::Starting: return {"starting", exists};
  case shm::WriterState::Closed: return {"closed", exists};
  case shm::WriterState::Superseded: return {"superseded", exists};
  case shm::WriterState::Running:
    if (!exists)
      return {"dead", false};
    return {s.heartbeat_age_ns > stale_ns ? "stale" : "alive", true};
  }
  return {"?", exists};
}

std::vector<std::string> table_lines(const std::vector<std::vector<std::string>>& rows,
                                     const std::vector<bool>& right) {
  std::vector<std::string> lines;
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size())
      width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::size_t pad = width[c] - row[c].size();
      const bool r = c < right.size() && right[c];
      if (c != 0)
        line += "  ";
      if (r)
        line.append(pad, ' ');
      line += row[c];
      if (!r && c + 1 != row.size())
        line.append(pad, ' ');
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void print_table(std::FILE* out, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  for (const std::string& line : table_lines(rows, right))
    std::fprintf(out, "%s\n", line.c_str());
}

// ---- Json ---------------------------------------------------------------------------------------

void Json::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back())
    out_ += ',';
  first_.back() = false;
}

void Json::open(char c) {
  separate();
  out_ += c;
  first_.push_back(true);
}

void Json::close(char c) {
  out_ += c;
  if (first_.size() > 1)
    first_.pop_back();
}

Json& Json::begin_object() {
  open('{');
  return *this;
}
Json& Json::end_object() {
  close('}');
  return *this;
}
Json& Json::begin_array() {
  open('[');
  return *this;
}
Json& Json::end_array() {
  close(']');
  return *this;
}

Json& Json::key(std::string_view k) {
  value(k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

Json& Json::value(std::string_view s) {
  separate();
  out_ += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"': out_ += "\\\""; break;
    case '\\': out_ += "\\\\"; break;
    case '\n': out_ += "\\n"; break;
    case '\r': out_ += "\\r"; break;
    case '\t': out_ += "\\t"; break;
    default:
      if (c < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", unsigned{c});
        out_ += esc;
      } else {
        out_ += ch;
      }
    }
  }
  out_ += '"';
  return *this;
}

Json& Json::null() {
  separate();
  out_ += "null";
  return *this;
}

Json& Json::decimal_or_null(bool present, std::int64_t mantissa, std::uint8_t decimals) {
  return present ? value(decimal(mantissa, decimals)) : null();
}

void Json::clear() {
  out_.clear();
  first_.assign(1, true);
  after_key_ = false;
}

} // namespace fh::inspect
