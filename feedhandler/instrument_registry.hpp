#pragma once
// The instrument table. Filled on the control path (metadata loaders, first sight of a
// symbol); looked up on the hot path by (venue, native symbol) without allocating.
#include <array>
#include <cstdint>
#include <vector>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "feedhandler/instrument.hpp"

namespace fh {

class InstrumentRegistry {
public:
  // Storage is reserved once and never moves, so a book thread may read an instrument
  // (published to it through a ring) while the parser thread registers new ones.
  static constexpr std::size_t kMaxInstruments = 1u << 16;

  InstrumentRegistry() { instruments_.reserve(kMaxInstruments); }
  InstrumentRegistry(const InstrumentRegistry&) = delete;
  InstrumentRegistry& operator=(const InstrumentRegistry&) = delete;

  // Adds or updates (same venue + native symbol keeps its id). Returns the id, or
  // kNoInstrument when the table is full.
  std::uint32_t add(Instrument inst);

  // Hot path. nullptr when unknown.
  [[nodiscard]] const Instrument* find(Venue v, std::string_view native) const noexcept;
  [[nodiscard]] const Instrument* find_canonical(Venue v, std::string_view canonical) const noexcept;
  [[nodiscard]] const Instrument& at(std::uint32_t id) const noexcept { return instruments_[id]; }
  [[nodiscard]] std::size_t size() const noexcept { return instruments_.size(); }

  // Forgets every instrument (control path: only when no thread is reading).
  void clear();

  // True once a metadata loader registered instruments for the venue: unknown symbols are
  // then errors (counted), not auto-registered.
  [[nodiscard]] bool has_metadata(Venue v) const noexcept {
    return has_metadata_[static_cast<std::size_t>(v)];
  }
  void mark_metadata_loaded(Venue v) noexcept { has_metadata_[static_cast<std::size_t>(v)] = true; }

  // Builds the instrument a venue's adapter assumes for a symbol it has no metadata for
  // (canonical name guessed from the symbol, decimals = kDefaultDecimals).
  using DefaultFactory = Instrument (*)(Venue, std::string_view native);

  // Find, or register via `make_default` when the venue has no metadata. Control-path cost
  // (allocation) on first sight only. Returns nullptr for a symbol unknown to loaded
  // metadata, or when make_default is null.
  const Instrument* resolve(Venue v, std::string_view native, DefaultFactory make_default);

  // Binance sends every price and quantity with at most 8 decimals; this default is exact
  // for it. Venues whose text can be finer need metadata (unknown symbols then fail parsing
  // with TooManyDecimals, counted, never a wrong number).
  static constexpr std::uint8_t kDefaultDecimals = 8;

private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>>;

  std::vector<Instrument> instruments_; // reserved: stable addresses across add()
  std::array<Index, static_cast<std::size_t>(Venue::kCount)> by_native_{};
  std::array<Index, static_cast<std::size_t>(Venue::kCount)> by_canonical_{};
  std::array<bool, static_cast<std::size_t>(Venue::kCount)> has_metadata_{};
};

} // namespace fh
