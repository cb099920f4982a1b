// OkxParser against its baselines on the real OKX book frames of
// data/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz (3,679 books-l2-tbt messages, 20 of
// them 400-level snapshots). All four walk the same frames in the same order per iteration;
// compare the ns/frame of one run (DESIGN.md section 5: ratios, not absolute times):
//   OkxParser         the production parser: on-demand, document order, exact decimals, events
//   SimdjsonDom       simdjson DOM parse, then the same fields to the same events
//   NlohmannJson      nlohmann::json::parse, then the same fields to the same events
//   OnDemandFloor     simdjson on-demand visiting every field and element, converting nothing:
//                     the floor any on-demand parser of these frames pays
// The baselines use book::parse_decimal too, so the differences are the JSON layer.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define FH_HAVE_NLOHMANN 1
#endif

#include "bench/capture_frames.hpp"
#include "book/decimal.hpp"
#include "feedhandler/capture.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/okx.hpp"

namespace {

using fh::Event;
using fh::EventBatch;
using fh::EventType;
using fh::Instrument;
using fh::InstrumentRegistry;

struct Corpus {
  fh::bench::CaptureFrames books; // the books-l2-tbt messages
  fh::capture::CaptureFile meta;
  InstrumentRegistry registry;
};

Corpus &corpus() {
  static Corpus *c = [] {
    auto *k = new Corpus{
        fh::bench::load_frames("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                               [](std::string_view payload) {
                                 return payload.substr(0, 32) ==
                                        R"({"arg":{"channel":"books-l2-tbt")";
                               }),
        fh::bench::open_capture_or_exit("okx/cryptofeed/instruments_2022-02-27_http.txt.gz"),
        {}};
    for (const auto &r : k->meta.records())
      if (r.kind == fh::capture::RecordKind::Http)
        (void)fh::venues::load_okx_instruments(r.payload, k->registry);
    return k;
  }();
  return *c;
}

void report(benchmark::State &state, const Corpus &c) {
  const auto frames = static_cast<double>(c.books.views.size());
  state.counters["frames"] = frames;
  // Seconds per frame, printed with an SI prefix ("444n" = 444 ns/frame).
  state.counters["time/frame"] = benchmark::Counter(
      frames, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(c.books.bytes));
}

// ---- production parser ----------------------------------------------------------------------
void OkxParser(benchmark::State &state) {
  Corpus &c = corpus();
  fh::venues::OkxParser parser(c.registry);
  EventBatch out;
  for (auto _ : state) {
    for (const std::string_view frame : c.books.views) {
      out.clear();
      if (parser.parse(frame, 1, out) != fh::ParseStatus::Ok)
        state.SkipWithError("parse");
      benchmark::DoNotOptimize(out.size());
    }
  }
  report(state, c);
}
BENCHMARK(OkxParser);

// ---- shared by the baselines: text -> event ----------------------------------------------
bool push_level(EventBatch &out, const Instrument &inst, fh::book::Side side, std::string_view px,
                std::string_view sz, std::string_view orders) {
  fh::book::ParsedDecimal p{};
  fh::book::ParsedDecimal q{};
  if (fh::book::parse_decimal(px, inst.price_decimals, p) != fh::book::DecimalError::Ok ||
      fh::book::parse_decimal(sz, inst.qty_decimals, q) != fh::book::DecimalError::Ok)
    return false;
  Event *e = out.push();
  if (e == nullptr)
    return false;
  *e = fh::make_event(EventType::BookLevel, fh::Venue::Okx, inst.id, 1);
  e->side = side;
  e->level.price = p.mantissa;
  e->level.qty = q.mantissa;
  e->level.price_text_dp = p.text_decimals;
  e->level.qty_text_dp = q.text_decimals;
  std::uint32_t n = 0;
  for (const char ch : orders)
    n = n * 10U + static_cast<std::uint32_t>(ch - '0');
  e->level.orders = n;
  return true;
}

void finish_book(EventBatch &out, std::size_t begin, std::int64_t ts_ms, std::int64_t checksum,
                 bool snapshot, const Instrument &inst) {
  Event *end = out.push();
  if (end == nullptr)
    return;
  *end = fh::make_event(EventType::BookEnd, fh::Venue::Okx, inst.id, 1);
  end->end.checksum = checksum;
  end->flags = checksum != 0 ? fh::kFlagHasChecksum : 0;
  Event &b = out[begin];
  b.exch_ts_ns = ts_ms * 1000000;
  b.flags = snapshot ? fh::kFlagSnapshot : 0;
  b.begin.levels = static_cast<std::uint32_t>(out.size() - begin - 2);
}

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  for (const char ch : s)
    v = v * 10 + (ch - '0');
  return v;
}

// ---- simdjson DOM -----------------------------------------------------------------------------
// At -O3 g++ 12 reports a possible null dereference inside simdjson's DOM tape accessors
// (unique_ptr::get of the tape of a default-constructed dom::array before it is assigned);
// the values are always assigned (errors skip the benchmark) before use.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
void SimdjsonDom(benchmark::State &state) {
  Corpus &c = corpus();
  simdjson::dom::parser dom;
  EventBatch out;
  for (auto _ : state) {
    for (const std::string_view frame : c.books.views) {
      out.clear();
      simdjson::dom::element msg;
      std::string_view inst_id;
      std::string_view action;
      simdjson::dom::array data;
      if (dom.parse(frame.data(), frame.size(), false).get(msg) ||
          msg["arg"]["instId"].get_string().get(inst_id) ||
          msg["action"].get_string().get(action) || msg["data"].get_array().get(data)) {
        state.SkipWithError("dom");
        break;
      }
      const Instrument *inst = c.registry.find(fh::Venue::Okx, inst_id);
      if (inst == nullptr) {
        state.SkipWithError("instrument");
        break;
      }
      for (const simdjson::dom::element entry : data) {
        const std::size_t begin = out.size();
        out.push(fh::make_event(EventType::BookBegin, fh::Venue::Okx, inst->id, 1));
        for (const auto &[key, side] :
             {std::pair{"asks", fh::book::Side::Ask}, std::pair{"bids", fh::book::Side::Bid}}) {
          simdjson::dom::array levels;
          if (entry[key].get_array().get(levels))
            state.SkipWithError("levels");
          for (const simdjson::dom::element lv : levels) {
            std::string_view px;
            std::string_view sz;
            std::string_view orders;
            if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(sz) ||
                lv.at(3).get_string().get(orders) || !push_level(out, *inst, side, px, sz, orders))
              state.SkipWithError("level");
          }
        }
        std::string_view ts;
        std::int64_t checksum = 0;
        if (entry["ts"].get_string().get(ts) || entry["checksum"].get_int64().get(checksum))
          state.SkipWithError("ts");
        finish_book(out, begin, to_int(ts), checksum, action == "snapshot", *inst);
      }
      benchmark::DoNotOptimize(out.size());
    }
  }
  report(state, c);
}
BENCHMARK(SimdjsonDom);
#pragma GCC diagnostic pop

#ifdef FH_HAVE_NLOHMANN
// ---- nlohmann::json -------------------------------------------------------------------------
void NlohmannJson(benchmark::State &state) {
  Corpus &c = corpus();
  EventBatch out;
  for (auto _ : state) {
    for (const std::string_view frame : c.books.views) {
      out.clear();
      const nlohmann::json msg = nlohmann::json::parse(frame, nullptr, false);
      if (msg.is_discarded()) {
        state.SkipWithError("nlohmann");
        break;
      }
      const Instrument *inst =
          c.registry.find(fh::Venue::Okx, msg["arg"]["instId"].get_ref<const std::string &>());
      if (inst == nullptr) {
        state.SkipWithError("instrument");
        break;
      }
      const bool snapshot = msg["action"].get_ref<const std::string &>() == "snapshot";
      for (const nlohmann::json &entry : msg["data"]) {
        const std::size_t begin = out.size();
        out.push(fh::make_event(EventType::BookBegin, fh::Venue::Okx, inst->id, 1));
        for (const auto &[key, side] :
             {std::pair{"asks", fh::book::Side::Ask}, std::pair{"bids", fh::book::Side::Bid}})
          for (const nlohmann::json &lv : entry[key])
            if (!push_level(out, *inst, side, lv[0].get_ref<const std::string &>(),
                            lv[1].get_ref<const std::string &>(),
                            lv[3].get_ref<const std::string &>()))
              state.SkipWithError("level");
        finish_book(out, begin, to_int(entry["ts"].get_ref<const std::string &>()),
                    entry["checksum"].get<std::int64_t>(), snapshot, *inst);
      }
      benchmark::DoNotOptimize(out.size());
    }
  }
  report(state, c);
}
BENCHMARK(NlohmannJson);
#endif

// ---- the floor: on-demand visiting everything, converting nothing ---------------------------
namespace od = simdjson::ondemand;

bool visit(od::value v, std::size_t &tokens) noexcept {
  od::json_type type{};
  if (v.type().get(type))
    return false;
  if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a))
      return false;
    for (auto element : a) {
      od::value e;
      if (element.get(e) || !visit(e, tokens))
        return false;
    }
    return true;
  }
  if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o))
      return false;
    for (auto field_result : o) {
      od::field f;
      if (std::move(field_result).get(f) || !visit(f.value(), tokens))
        return false;
    }
    return true;
  }
  tokens += v.raw_json_token().size(); // touch the scalar, convert nothing
  return true;
}

void OnDemandFloor(benchmark::State &state) {
  Corpus &c = corpus();
  od::parser parser;
  std::size_t tokens = 0;
  for (auto _ : state) {
    for (const std::string_view frame : c.books.views) {
      od::document doc;
      od::value root;
      if (parser
              .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                    frame.size() + simdjson::SIMDJSON_PADDING))
              .get(doc) ||
          doc.get_value().get(root) || !visit(root, tokens)) {
        state.SkipWithError("floor");
        break;
      }
    }
    benchmark::DoNotOptimize(tokens);
  }
  report(state, c);
}
BENCHMARK(OnDemandFloor);

// Which simdjson kernel the header-only on-demand code was compiled for (depends on -march).
void print_kernel() {
  std::fprintf(stderr, "simdjson on-demand kernel: %s; runtime (DOM) kernel: %s\n",
               simdjson::builtin_implementation()->name().c_str(),
               simdjson::get_active_implementation()->name().c_str());
}

} // namespace

int main(int argc, char **argv) {
  print_kernel();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  std::fprintf(stderr, "frames: %zu, bytes: %zu\n", corpus().books.views.size(),
               corpus().books.bytes);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
