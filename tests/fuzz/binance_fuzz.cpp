// Fuzz target for the Binance parser (feedhandler/venues/binance.hpp). Each input is parsed
// as a stream frame by a spot and a USD-M parser and as a REST depth snapshot, with the
// input copied into a buffer padded as the parser contract says (padding filled with '}' so
// a cut frame cannot be completed by it). Checks, besides no crash under ASan/UBSan:
//  - an error or Ignored leaves the batch exactly as it was (events of earlier frames kept);
//  - Ok output is well framed: BookBegin, exactly `levels` BookLevels, BookEnd; or a single
//    Bbo/Trade event; every event of the venue and a registered instrument.
// Symbols are registered with default instruments; the registry is renewed now and then so
// a long fuzzing run does not grow it without bound. The checks are shared with the other
// venues: tests/support/fuzz_parser_target.hpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/binance.hpp"
#include "tests/support/fuzz_parser_target.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "binance/cryptofeed/spot_2021-10-12_ws.txt.gz",
    "binance/cryptofeed/spot_2021-08-14_ws.txt.gz",
    "binance/cryptofeed/usdm_2021-07-22_ws.txt.gz",
    "binance/cryptofeed/coinm_2021-07-22_ws.txt.gz",
    "binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz",
    "binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz",
    "binance_us/cryptofeed/spot_2021-10-12_ws.txt.gz",
    "binance/hftbacktest/usdm_btcusdt_20240808.gz",
    "binance/hftbacktest/spot_btcusdt_20240808.gz",
    "binance/hftbacktest/coinm_btcusd_perp_20240808.gz",
    nullptr};

namespace {

using fh::test::check_output;
using fh::test::Framing;

struct State {
  fh::InstrumentRegistry registry;
  fh::venues::BinanceParser spot{fh::Venue::BinanceSpot, registry};
  fh::venues::BinanceParser usdm{fh::Venue::BinanceUsdm, registry};
  fh::EventBatch batch;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  static std::unique_ptr<State> state;
  if (!state || state->registry.size() > 4096)
    state = std::make_unique<State>();
  State &s = *state;

  const fh::test::PaddedInput input(data, size);
  const std::string_view frame = input.frame();

  // Keep a few events of an earlier frame in the batch so "unchanged" is a real check.
  if (s.batch.size() > 2048)
    s.batch.clear();
  std::size_t before = s.batch.size();
  check_output(s.spot.parse(frame, 1, s.batch, "BTCUSDT"), s.batch, fh::Venue::BinanceSpot,
               s.registry, before, Framing::OneGroup);
  before = s.batch.size();
  check_output(s.usdm.parse(frame, 1, s.batch), s.batch, fh::Venue::BinanceUsdm, s.registry, before,
               Framing::OneGroup);
  before = s.batch.size();
  check_output(s.usdm.parse_depth_snapshot(frame, "BTCUSDT", 1, s.batch), s.batch,
               fh::Venue::BinanceUsdm, s.registry, before, Framing::OneGroup);
  return 0;
}
