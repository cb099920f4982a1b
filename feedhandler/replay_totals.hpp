#pragma once
// What a run saw, message by message: filled by the offline replay (Replay) and by live
// sessions (LiveEngine), printed by summary_json().
#include <array>
#include <cstdint>
#include <string>

#include "feedhandler/parse_status.hpp"
#include "feedhandler/venue.hpp"

namespace fh {

struct VenueTotals {
  std::uint64_t messages = 0; // frames + REST snapshots of this venue's inputs
  std::uint64_t bytes = 0;    // their payload bytes
  std::uint64_t parse_errors = 0;
};

struct ReplayTotals {
  std::uint64_t messages = 0;  // received frames + REST snapshots replayed
  std::uint64_t events = 0;    // normalized events produced
  std::uint64_t ignored = 0;   // frames without market data (acks, heartbeats, klines)
  std::uint64_t parse_errors = 0;
  std::uint64_t unknown_instruments = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(ParseStatus::kCount)> by_status{};
  std::uint64_t metadata_instruments = 0;
  std::uint64_t binary_frames = 0; // binary frames (no venue here sends book data that way)
  double elapsed_s = 0;
  std::uint64_t ring_full_spins = 0;
  std::string pin_error;
  std::array<VenueTotals, static_cast<std::size_t>(Venue::kCount)> by_venue{};
};

} // namespace fh
