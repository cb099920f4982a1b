#pragma once
// Output helpers for fh-inspect: exact decimal text, times, names, writer liveness and a
// small JSON writer.
//
// Why a JSON writer of our own: the output is flat objects of strings and integers, and the
// one rule that matters (prices and sizes are exact decimal strings made from the mantissa,
// never a double) is easiest to keep when nothing converts numbers behind our back. It
// escapes strings per RFC 8259 and keeps the comma state on a small stack.
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shm/reader.hpp"

namespace fh::inspect {

// ErrorSlot::instrument of an error about no single instrument.
inline constexpr std::uint32_t kNoErrorInstrument = 0xffffffffu;

// Exact decimal text of mantissa * 10^-decimals, trailing fractional zeros stripped
// ("61800.2", "0.005", "5"). Decimals beyond what a mantissa can carry are shown raw
// ("12345e-40") rather than rounded.
std::string decimal(std::int64_t mantissa, std::uint8_t decimals);

// "binance-usdm:BTC-USDT-PERP".
std::string instrument_name(const shm::DirectoryEntry& e);
// The name of instrument `id`, or "#<id>" when the directory has no entry for it.
std::string instrument_name(const shm::Reader& reader, std::uint32_t id);

const char* status_name(std::uint8_t status);    // BookStatus value -> "synced", ...
const char* kind_name(std::uint8_t kind);        // InstrumentKind value -> "perpetual", ...
const char* record_type_name(std::uint8_t type); // RecordType value -> "trade", ...
const char* aggressor_name(std::uint8_t side);   // kAggressor* -> "buy" / "sell" / "unknown"

// "2024-08-08T00:00:01.123456789Z" (UTC, ns); "-" for 0.
std::string utc_time(std::int64_t ns);
// Human duration: "850 ns", "12.3 us", "4.56 ms", "2.00 s", "3.1 h" ("-" below 0).
std::string duration(std::int64_t ns);

// What a reader can conclude about the writer: "alive" (running, heartbeat fresh, process
// exists), "stale" (running, process exists, heartbeat older than stale_ns), "dead" (running
// but the process is gone), "closed", "superseded", "starting".
struct Liveness {
  const char* word;
  bool process_exists; // kill(pid, 0) found it (same host only)
};
Liveness writer_liveness(const shm::WriterStatus& s, std::int64_t stale_ns);

// Rows as aligned columns (two spaces apart). right[i]: column i is right-aligned (numbers);
// row 0 is the header.
std::vector<std::string> table_lines(const std::vector<std::vector<std::string>>& rows,
                                     const std::vector<bool>& right);
void print_table(std::FILE* out, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right);

class Json {
public:
  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(std::string_view k);
  Json& value(std::string_view s);
  Json& value(const char* s) { return value(std::string_view(s)); }
  Json& value(const std::string& s) { return value(std::string_view(s)); }
  Json& null();
  template <std::integral T> Json& value(T v) {
    separate();
    if constexpr (std::is_same_v<T, bool>)
      out_ += v ? "true" : "false";
    else
      out_ += std::to_string(v);
    return *this;
  }
  template <class T> Json& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  // A decimal string, or null for an empty side / missing value.
  Json& decimal_or_null(bool present, std::int64_t mantissa, std::uint8_t decimals);

  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  void clear();

private:
  void separate();
  void open(char c);
  void close(char c);

  std::string out_;
  std::vector<bool> first_{true}; // per open container: nothing written in it yet
  bool after_key_ = false;
};

} // namespace fh::inspect
