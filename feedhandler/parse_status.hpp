#pragma once
// Outcome of parsing one venue frame. Data-path errors are codes, counted by the caller
// (per venue, in shm later), never thrown and never formatted on the hot path.
#include <cstdint>

namespace fh {

enum class ParseStatus : std::uint8_t {
  Ok = 0,            // market events were appended to the batch
  Ignored,           // well-formed but carries no market data we use (acks, heartbeats, klines)
  Malformed,         // not valid JSON / not the venue's shape / a required field missing
  BadNumber,         // a price or size failed exact decimal parsing (see book::DecimalError)
  UnknownInstrument, // symbol not in the loaded metadata
  BatchOverflow,     // more events than the batch holds
  kCount
};

inline constexpr const char* to_cstring(ParseStatus s) noexcept {
  switch (s) {
  case ParseStatus::Ok: return "ok";
  case ParseStatus::Ignored: return "ignored";
  case ParseStatus::Malformed: return "malformed";
  case ParseStatus::BadNumber: return "bad_number";
  case ParseStatus::UnknownInstrument: return "unknown_instrument";
  case ParseStatus::BatchOverflow: return "batch_overflow";
  case ParseStatus::kCount: break;
  }
  return "?";
}

inline constexpr bool is_error(ParseStatus s) noexcept {
  return s != ParseStatus::Ok && s != ParseStatus::Ignored;
}

} // namespace fh
