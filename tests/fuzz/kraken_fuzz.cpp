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
// The driver and the checks are shared with the other venues: tests/support/fuzz_parser_target.hpp.
#include <cstddef>
#include <cstdint>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/kraken.hpp"
#include "tests/support/fuzz_parser_target.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
    "kraken/cryptofeed/trade_2021-04-17_ws.txt.gz", "kraken/cryptofeed/ticker_2021-04-17_ws.txt.gz",
    nullptr};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fh::test::fuzz_with_and_without_metadata<fh::venues::KrakenParser>(
      fh::Venue::Kraken,
      [](fh::InstrumentRegistry &registry) {
        fh::test::load_metadata({"kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"}, registry,
                                fh::venues::load_kraken_asset_pairs);
      },
      data, size);
  return 0;
}
