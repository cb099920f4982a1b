#pragma once
// Why a book stopped being trusted. Stored in status events and per-instrument counters.
#include <cstdint>

namespace fh {

enum class BookError : std::uint8_t {
  None = 0,
  SequenceGap,      // an update id is missing between two messages
  SnapshotTooOld,   // the REST snapshot is older than every buffered update (refetch)
  ChecksumMismatch, // venue checksum disagrees with our book
  BboMismatch,      // venue top-of-book (bookTicker) disagrees with our book at the same update id
  BufferOverflow,   // too many updates buffered while waiting for a snapshot
  SnapshotTooLarge, // more levels than the book can hold
  Disconnected,     // the connection carrying the book was lost: updates were missed
  kCount
};

inline constexpr const char* to_cstring(BookError e) noexcept {
  switch (e) {
  case BookError::None: return "none";
  case BookError::SequenceGap: return "sequence_gap";
  case BookError::SnapshotTooOld: return "snapshot_too_old";
  case BookError::ChecksumMismatch: return "checksum_mismatch";
  case BookError::BboMismatch: return "bbo_mismatch";
  case BookError::BufferOverflow: return "buffer_overflow";
  case BookError::SnapshotTooLarge: return "snapshot_too_large";
  case BookError::Disconnected: return "disconnected";
  case BookError::kCount: break;
  }
  return "?";
}

} // namespace fh
