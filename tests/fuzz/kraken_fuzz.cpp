// Fuzz target for the Kraken WS v1 parser (feedhandler/venues/kraken.hpp). Each input is
// parsed as a received frame twice: by a parser whose registry holds the recorded Kraken
// AssetPairs (real decimals, unknown pairs refused) and by one that registers pairs on first
// sight with default decimals. The input is copied into a buffer padded as the parser
// contract says (padding filled with '}' so a cut frame cannot be completed by it). Checks,
// besides no crash under ASan/UBSan:
//  - an error or Ignored leaves the batch exactly as it was (events of earlier frames kept);
//  - Ok output is well framed: groups of BookBegin, exactly `levels` BookLevels, BookEnd, or
//    single Bbo/Trade events; every event of Kraken and a registered instrument.
// Metadata is read from $FH_DATA_DIR, else ./data (CTest runs from the repository root).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kraken.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
    "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz", "kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz",
    nullptr};

namespace {

using fh::EventType;
using fh::ParseStatus;

void require(bool ok) {
  if (!ok)
    std::abort();
}

std::string data_dir() {
  const char *env = std::getenv("FH_DATA_DIR");
  return env != nullptr ? env : "data";
}

void load_metadata(fh::InstrumentRegistry &registry) {
  for (const char *file : {"kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"}) {
    auto opened = fh::capture::CaptureFile::open(data_dir() + "/" + file);
    if (auto *f = std::get_if<fh::capture::CaptureFile>(&opened))
      for (const auto &r : f->records())
        if (r.kind == fh::capture::RecordKind::Http)
          (void)fh::venues::load_kraken_asset_pairs(r.payload, registry);
  }
}

struct State {
  State() { load_metadata(with_metadata); }
  fh::InstrumentRegistry with_metadata;
  fh::InstrumentRegistry with_defaults;
  fh::venues::KrakenParser metadata_parser{with_metadata};
  fh::venues::KrakenParser default_parser{with_defaults};
  fh::EventBatch batch;
};

void check(ParseStatus st, const fh::EventBatch &b, const fh::InstrumentRegistry &registry,
           std::size_t before) {
  require(st < ParseStatus::kCount);
  if (st != ParseStatus::Ok) {
    require(b.size() == before);
    return;
  }
  require(b.size() > before);
  for (std::size_t i = before; i < b.size(); ++i) {
    require(b[i].venue == fh::Venue::Kraken);
    require(b[i].instrument < registry.size());
    require(b[i].recv_ts_ns == 1);
  }
  for (std::size_t i = before; i < b.size();) {
    const fh::Event &first = b[i];
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
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  static std::unique_ptr<State> state;
  if (!state || state->with_defaults.size() > 4096)
    state = std::make_unique<State>();
  State &s = *state;

  std::vector<char> buf(size + simdjson::SIMDJSON_PADDING, '}');
  if (size != 0)
    std::memcpy(buf.data(), data, size);
  const std::string_view frame(buf.data(), size);

  // Keep a few events of an earlier frame in the batch so "unchanged" is a real check.
  if (s.batch.size() > 8192)
    s.batch.clear();
  std::size_t before = s.batch.size();
  check(s.metadata_parser.parse(frame, 1, s.batch), s.batch, s.with_metadata, before);
  before = s.batch.size();
  check(s.default_parser.parse(frame, 1, s.batch), s.batch, s.with_defaults, before);
  return 0;
}
