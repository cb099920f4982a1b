// Fuzz target for the OKX parser (feedhandler/venues/okx.hpp). Each input is parsed as a
// received frame twice: by a parser whose registry holds the recorded OKX instrument metadata
// (data/okx/cryptofeed/instruments_*: real decimals, unknown symbols refused) and by one that
// registers symbols on first sight with default decimals. The input is copied into a buffer
// padded as the parser contract says (padding filled with '}' so a cut frame cannot be
// completed by it). Checks, besides no crash under ASan/UBSan:
//  - an error or Ignored leaves the batch exactly as it was (events of earlier frames kept);
//  - Ok output is well framed: groups of BookBegin, exactly `levels` BookLevels, BookEnd, or
//    single Bbo/Trade events; every event of OKX and a registered instrument.
// Metadata is read from $FH_DATA_DIR, else ./data (CTest runs from the repository root).
// The driver and the checks are shared with the other venues: tests/support/fuzz_parser_target.hpp.
#include <cstddef>
#include <cstdint>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/okx.hpp"
#include "tests/support/fuzz_parser_target.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
    "okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
    "okx/cryptofeed/instruments_2022-02-27_http.txt.gz", nullptr};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fh::test::fuzz_with_and_without_metadata<fh::venues::OkxParser>(
      fh::Venue::Okx,
      [](fh::InstrumentRegistry &registry) {
        fh::test::load_metadata({"okx/cryptofeed/instruments_2021-07-22_http.txt.gz",
                                 "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"},
                                registry, fh::venues::load_okx_instruments);
      },
      data, size);
  return 0;
}
