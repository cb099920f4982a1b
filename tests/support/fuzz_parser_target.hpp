#pragma once
// Shared by the venue parser fuzz targets (tests/fuzz/*_fuzz.cpp): the padded copy of an input,
// the invariants every parser's output must keep, and the driver that runs one input through
// a parser with recorded metadata and one with default instruments. No GoogleTest: a broken
// invariant aborts, which libFuzzer and the corpus driver both report.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::test {

inline void require(bool ok) {
  if (!ok)
    std::abort();
}

// The input copied into a buffer padded as the parser contract says, the padding filled with
// '}' so a cut frame cannot be completed by it.
class PaddedInput {
public:
  PaddedInput(const std::uint8_t *data, std::size_t size)
      : buf_(size + simdjson::SIMDJSON_PADDING, '}'), size_(size) {
    if (size != 0)
      std::memcpy(buf_.data(), data, size);
  }
  [[nodiscard]] std::string_view frame() const { return {buf_.data(), size_}; }

private:
  std::vector<char> buf_;
  std::size_t size_;
};

// How many event groups one parsed message may produce: Binance messages carry one book update
// or one Bbo/Trade; OKX and Kraken messages carry a list of them.
enum class Framing : std::uint8_t { OneGroup, Groups };

// An error or Ignored leaves the batch exactly as it was (events of earlier frames kept); Ok
// output is well framed: groups of BookBegin, exactly `levels` BookLevels, BookEnd, or single
// Bbo/Trade events; every event of `venue`, of a registered instrument, with recv_ts 1.
inline void check_output(ParseStatus st, const EventBatch &b, Venue venue,
                         const InstrumentRegistry &registry, std::size_t before, Framing framing) {
  require(st < ParseStatus::kCount);
  if (st != ParseStatus::Ok) {
    require(b.size() == before);
    return;
  }
  require(b.size() > before);
  for (std::size_t i = before; i < b.size(); ++i) {
    require(b[i].venue == venue);
    require(b[i].instrument < registry.size());
    require(b[i].recv_ts_ns == 1);
  }
  std::size_t groups = 0;
  for (std::size_t i = before; i < b.size(); ++groups) {
    const Event &first = b[i];
    if (first.type == EventType::BookBegin) {
      const std::size_t end = i + first.begin.levels + 1;
      require(end < b.size());
      for (std::size_t j = i + 1; j < end; ++j)
        require(b[j].type == EventType::BookLevel);
      require(b[end].type == EventType::BookEnd);
      i = end + 1;
    } else {
      require(first.type == EventType::Bbo || first.type == EventType::Trade);
      ++i;
    }
  }
  require(framing == Framing::Groups || groups == 1);
}

// $FH_DATA_DIR, else ./data (CTest runs from the repository root).
inline std::string fuzz_data_dir() {
  const char *env = std::getenv("FH_DATA_DIR");
  return env != nullptr ? env : "data";
}

// Calls load(body, registry) for every REST response body of the captures `rel_paths`; a file
// that cannot be read is skipped (the target then runs with fewer instruments).
template <class Load>
void load_metadata(std::initializer_list<const char *> rel_paths, InstrumentRegistry &registry,
                   Load load) {
  for (const char *rel : rel_paths) {
    auto opened = capture::CaptureFile::open(fuzz_data_dir() + "/" + rel);
    if (auto *f = std::get_if<capture::CaptureFile>(&opened))
      for (const auto &r : f->records())
        if (r.kind == capture::RecordKind::Http)
          (void)load(r.payload, registry);
  }
}

// Parses one input as a received frame twice: by a parser whose registry holds the venue's
// recorded metadata (filled by load_venue_metadata: real decimals, unknown symbols refused) and
// by one that registers symbols on first sight with default decimals. Both registries are
// renewed when the second grows large, so a long fuzzing run stays bounded.
template <class Parser, class LoadVenueMetadata>
void fuzz_with_and_without_metadata(Venue venue, LoadVenueMetadata load_venue_metadata,
                                    const std::uint8_t *data, std::size_t size) {
  struct State {
    explicit State(LoadVenueMetadata &load) { load(with_metadata); }
    InstrumentRegistry with_metadata;
    InstrumentRegistry with_defaults;
    Parser metadata_parser{with_metadata};
    Parser default_parser{with_defaults};
    EventBatch batch;
  };
  static std::unique_ptr<State> state;
  if (!state || state->with_defaults.size() > 4096)
    state = std::make_unique<State>(load_venue_metadata);
  State &s = *state;

  const PaddedInput input(data, size);
  // Keep a few events of an earlier frame in the batch so "unchanged" is a real check.
  if (s.batch.size() > 8192)
    s.batch.clear();
  std::size_t before = s.batch.size();
  check_output(s.metadata_parser.parse(input.frame(), 1, s.batch), s.batch, venue, s.with_metadata,
               before, Framing::Groups);
  before = s.batch.size();
  check_output(s.default_parser.parse(input.frame(), 1, s.batch), s.batch, venue, s.with_defaults,
               before, Framing::Groups);
}

} // namespace fh::test
