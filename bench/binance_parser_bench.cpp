// Binance depth parse cost per frame, on the real frames of one capture, four ways in one run:
//   ours     BinanceParser::parse (simdjson on-demand, one pass, fixed-point levels)
//   dom      simdjson DOM parse of the same frame, extracting the same fields and converting
//            the same decimals into the same events (the naive baseline)
//   nlohmann nlohmann::json::parse + the same extraction (the common C++ choice)
//   floor    simdjson on-demand merely visiting every field and array element (raw token
//            touched, nothing converted): what any on-demand parser has to pay
// Frames: every depthUpdate of data/binance/hftbacktest/usdm_btcusdt_20240808.gz (USD-M,
// depth@0ms, avg ~1 KB), read before timing (bench/capture_frames.hpp: in place, padded);
// plus the small spot depthUpdates of data/binance/cryptofeed/spot_2021-10-12_ws.txt.gz
// (~130-200 bytes).
// Each iteration parses the next frame (round robin), so time/iteration is ns per frame.
#include <benchmark/benchmark.h>

#include <simdjson.h>

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define FH_HAVE_NLOHMANN 1
#endif

#include <string>
#include <string_view>
#include <vector>

#include "bench/capture_frames.hpp"
#include "book/decimal.hpp"
#include "feedhandler/event.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/binance.hpp"

namespace {

using fh::Event;
using fh::EventBatch;
using fh::EventType;
using fh::Venue;

using Frames = fh::bench::CaptureFrames;

// The received frames of a capture that are depth updates (hftbacktest "<ns> <json>",
// cryptofeed "<t>: <json>").
Frames load(const char *rel) {
  return fh::bench::load_frames(rel, [](std::string_view payload) {
    return payload.find("\"depthUpdate\"") != std::string_view::npos;
  });
}

const Frames &usdm_frames() {
  static const Frames f = load("binance/hftbacktest/usdm_btcusdt_20240808.gz");
  return f;
}
const Frames &spot_frames() {
  static const Frames f = load("binance/cryptofeed/spot_2021-10-12_ws.txt.gz");
  return f;
}

void finish(benchmark::State &state, const Frames &f, std::size_t frames_done) {
  state.SetItemsProcessed(static_cast<std::int64_t>(frames_done));
  state.SetBytesProcessed(
      static_cast<std::int64_t>(f.bytes / f.views.size() * frames_done)); // average frame size
  state.counters["frames"] = static_cast<double>(f.views.size());
  state.counters["avg_bytes"] = static_cast<double>(f.bytes) / static_cast<double>(f.views.size());
}

// ---- (a) ours ----
void run_ours(benchmark::State &state, const Frames &f, Venue venue) {
  fh::InstrumentRegistry reg;
  fh::venues::BinanceParser parser(venue, reg);
  EventBatch out;
  std::size_t i = 0;
  std::size_t done = 0;
  for (auto _ : state) {
    out.clear();
    const fh::ParseStatus st = parser.parse(f.views[i], 1, out);
    if (st != fh::ParseStatus::Ok)
      state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(out.size());
    if (++i == f.views.size())
      i = 0;
    ++done;
  }
  finish(state, f, done);
}
void BM_ours_usdm(benchmark::State &state) {
  run_ours(state, usdm_frames(), Venue::BinanceUsdm);
}
void BM_ours_spot_small(benchmark::State &state) {
  run_ours(state, spot_frames(), Venue::BinanceSpot);
}

// A one-entry symbol cache, as ours has, so the baselines pay the same lookup.
struct SymbolCache {
  fh::InstrumentRegistry &reg;
  Venue venue;
  std::string last;
  const fh::Instrument *inst = nullptr;
  const fh::Instrument *get(std::string_view s) {
    if (inst == nullptr || s != last) {
      inst = reg.resolve(venue, s, &fh::venues::binance_default_instrument);
      last.assign(s);
    }
    return inst;
  }
};

bool push_level(EventBatch &out, const Event &proto, fh::book::Side side, std::string_view px,
                std::string_view qx, const fh::Instrument &inst) {
  fh::book::ParsedDecimal p{};
  fh::book::ParsedDecimal q{};
  if (fh::book::parse_decimal(px, inst.price_decimals, p) != fh::book::DecimalError::Ok ||
      fh::book::parse_decimal(qx, inst.qty_decimals, q) != fh::book::DecimalError::Ok)
    return false;
  Event *e = out.push();
  if (e == nullptr)
    return false;
  *e = proto;
  e->side = side;
  e->level.price = p.mantissa;
  e->level.qty = q.mantissa;
  e->level.price_text_dp = p.text_decimals;
  e->level.qty_text_dp = q.text_decimals;
  return true;
}

// ---- (b) simdjson DOM baseline ----
bool dom_parse(simdjson::dom::parser &dom, std::string_view frame, SymbolCache &cache,
               EventBatch &out) {
  simdjson::dom::element root;
  if (dom.parse(frame.data(), frame.size(), false).get(root) != simdjson::SUCCESS)
    return false;
  simdjson::dom::element d;
  std::string_view e;
  std::string_view s;
  std::uint64_t E = 0, U = 0, u = 0, pu = 0;
  simdjson::dom::array bids;
  simdjson::dom::array asks;
  if (root["data"].get(d) != simdjson::SUCCESS || d["e"].get(e) != simdjson::SUCCESS ||
      e != "depthUpdate" || d["E"].get(E) != simdjson::SUCCESS ||
      d["s"].get(s) != simdjson::SUCCESS || d["U"].get(U) != simdjson::SUCCESS ||
      d["u"].get(u) != simdjson::SUCCESS || d["b"].get(bids) != simdjson::SUCCESS ||
      d["a"].get(asks) != simdjson::SUCCESS)
    return false;
  const bool has_pu = d["pu"].get(pu) == simdjson::SUCCESS;
  const fh::Instrument *inst = cache.get(s);
  if (inst == nullptr)
    return false;
  const auto ts = static_cast<std::int64_t>(E * 1000000U);
  Event *begin = out.push();
  if (begin == nullptr)
    return false;
  *begin = fh::make_event(EventType::BookBegin, cache.venue, inst->id, 1);
  begin->exch_ts_ns = ts;
  begin->flags = static_cast<std::uint8_t>(fh::kFlagHasSeq | (has_pu ? fh::kFlagHasPrevSeq : 0));
  begin->begin.first_seq = U;
  begin->begin.last_seq = u;
  begin->begin.prev_seq = pu;
  Event proto = fh::make_event(EventType::BookLevel, cache.venue, inst->id, 1);
  proto.exch_ts_ns = ts;
  std::uint32_t n = 0;
  for (int side = 0; side < 2; ++side) {
    for (const simdjson::dom::element lv : side == 0 ? bids : asks) {
      simdjson::dom::array pair;
      std::string_view px;
      std::string_view qx;
      if (lv.get(pair) != simdjson::SUCCESS || pair.at(0).get(px) != simdjson::SUCCESS ||
          pair.at(1).get(qx) != simdjson::SUCCESS ||
          !push_level(out, proto, side == 0 ? fh::book::Side::Bid : fh::book::Side::Ask, px, qx,
                      *inst))
        return false;
      ++n;
    }
  }
  out[out.size() - n - 1].begin.levels = n;
  Event *end = out.push();
  if (end == nullptr)
    return false;
  *end = fh::make_event(EventType::BookEnd, cache.venue, inst->id, 1);
  end->exch_ts_ns = ts;
  return true;
}

void BM_dom_usdm(benchmark::State &state) {
  const Frames &f = usdm_frames();
  fh::InstrumentRegistry reg;
  SymbolCache cache{reg, Venue::BinanceUsdm, {}, nullptr};
  simdjson::dom::parser dom;
  EventBatch out;
  std::size_t i = 0;
  std::size_t done = 0;
  for (auto _ : state) {
    out.clear();
    if (!dom_parse(dom, f.views[i], cache, out))
      state.SkipWithError("dom parse failed");
    benchmark::DoNotOptimize(out.size());
    if (++i == f.views.size())
      i = 0;
    ++done;
  }
  finish(state, f, done);
}

#ifdef FH_HAVE_NLOHMANN
// ---- (c) nlohmann::json ----
bool nlohmann_parse(std::string_view frame, SymbolCache &cache, EventBatch &out) {
  const nlohmann::json j = nlohmann::json::parse(frame, nullptr, false);
  if (j.is_discarded())
    return false;
  const auto &d = j.at("data");
  if (d.at("e").get_ref<const std::string &>() != "depthUpdate")
    return false;
  const fh::Instrument *inst = cache.get(d.at("s").get_ref<const std::string &>());
  if (inst == nullptr)
    return false;
  const auto ts = static_cast<std::int64_t>(d.at("E").get<std::uint64_t>() * 1000000U);
  const auto pu_it = d.find("pu");
  Event *begin = out.push();
  if (begin == nullptr)
    return false;
  *begin = fh::make_event(EventType::BookBegin, cache.venue, inst->id, 1);
  begin->exch_ts_ns = ts;
  begin->flags =
      static_cast<std::uint8_t>(fh::kFlagHasSeq | (pu_it != d.end() ? fh::kFlagHasPrevSeq : 0));
  begin->begin.first_seq = d.at("U").get<std::uint64_t>();
  begin->begin.last_seq = d.at("u").get<std::uint64_t>();
  begin->begin.prev_seq = pu_it != d.end() ? pu_it->get<std::uint64_t>() : 0;
  Event proto = fh::make_event(EventType::BookLevel, cache.venue, inst->id, 1);
  proto.exch_ts_ns = ts;
  std::uint32_t n = 0;
  for (int side = 0; side < 2; ++side) {
    for (const auto &lv : d.at(side == 0 ? "b" : "a")) {
      if (!push_level(out, proto, side == 0 ? fh::book::Side::Bid : fh::book::Side::Ask,
                      lv.at(0).get_ref<const std::string &>(),
                      lv.at(1).get_ref<const std::string &>(), *inst))
        return false;
      ++n;
    }
  }
  out[out.size() - n - 1].begin.levels = n;
  Event *end = out.push();
  if (end == nullptr)
    return false;
  *end = fh::make_event(EventType::BookEnd, cache.venue, inst->id, 1);
  end->exch_ts_ns = ts;
  return true;
}

void BM_nlohmann_usdm(benchmark::State &state) {
  const Frames &f = usdm_frames();
  fh::InstrumentRegistry reg;
  SymbolCache cache{reg, Venue::BinanceUsdm, {}, nullptr};
  EventBatch out;
  std::size_t i = 0;
  std::size_t done = 0;
  for (auto _ : state) {
    out.clear();
    if (!nlohmann_parse(f.views[i], cache, out))
      state.SkipWithError("nlohmann parse failed");
    benchmark::DoNotOptimize(out.size());
    if (++i == f.views.size())
      i = 0;
    ++done;
  }
  finish(state, f, done);
}
#endif

// ---- (d) floor: on-demand visit of every field and element, nothing converted ----
namespace od = simdjson::ondemand;

simdjson::error_code visit(od::value v, std::size_t &touched) {
  od::json_type t;
  if (auto err = v.type().get(t))
    return err;
  switch (t) {
  case od::json_type::object: {
    od::object obj;
    if (auto err = v.get_object().get(obj))
      return err;
    for (auto field : obj) {
      od::field fl;
      if (auto err = std::move(field).get(fl))
        return err;
      touched += static_cast<std::size_t>(fl.key().raw()[0]);
      if (auto err = visit(fl.value(), touched))
        return err;
    }
    return simdjson::SUCCESS;
  }
  case od::json_type::array: {
    od::array arr;
    if (auto err = v.get_array().get(arr))
      return err;
    for (auto element : arr) {
      od::value x;
      if (auto err = std::move(element).get(x))
        return err;
      if (auto err = visit(x, touched))
        return err;
    }
    return simdjson::SUCCESS;
  }
  default:
    touched += v.raw_json_token().size();
    return simdjson::SUCCESS;
  }
}

void run_floor(benchmark::State &state, const Frames &f) {
  od::parser parser;
  std::size_t i = 0;
  std::size_t done = 0;
  for (auto _ : state) {
    std::size_t touched = 0;
    od::document doc;
    od::object root;
    bool ok =
        parser.iterate(simdjson::padded_string_view(f.views[i].data(), f.views[i].size(),
                                                    f.views[i].size() + simdjson::SIMDJSON_PADDING))
                .get(doc) == simdjson::SUCCESS &&
        doc.get_object().get(root) == simdjson::SUCCESS;
    if (ok) {
      for (auto field : root) {
        od::field fl;
        if (std::move(field).get(fl) != simdjson::SUCCESS ||
            visit(fl.value(), touched) != simdjson::SUCCESS) {
          ok = false;
          break;
        }
      }
    }
    if (!ok)
      state.SkipWithError("walk failed");
    benchmark::DoNotOptimize(touched);
    if (++i == f.views.size())
      i = 0;
    ++done;
  }
  finish(state, f, done);
}
void BM_floor_usdm(benchmark::State &state) {
  run_floor(state, usdm_frames());
}
void BM_floor_spot_small(benchmark::State &state) {
  run_floor(state, spot_frames());
}

} // namespace

BENCHMARK(BM_floor_usdm);
BENCHMARK(BM_ours_usdm);
BENCHMARK(BM_dom_usdm);
#ifdef FH_HAVE_NLOHMANN
BENCHMARK(BM_nlohmann_usdm);
#endif
BENCHMARK(BM_floor_spot_small);
BENCHMARK(BM_ours_spot_small);

BENCHMARK_MAIN();
