// Whole per-frame cost on real book frames: parse -> normalize -> validate (sequence /
// checksum) -> apply, fused on one thread, next to the floor measured in the same binary:
// simdjson on-demand merely walking every value of the same frames. Frames are the
// recorded Binance USD-M depth frames (+ the inline REST snapshot) and the OKX books-l2-tbt
// frames (snapshots and updates). Counters: ns_per_frame, frames_per_s; the ratio
// ours/floor is the figure bench/RESULTS.md reports. BM_PipelineShm is BM_Pipeline with the
// shm publisher (slots + journal in /dev/shm): the difference is the cost of publishing.
// Uses 1 core.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/support/json_walk.hpp"
#include "feedhandler/replay.hpp"
#include "feedhandler/shm_output.hpp"

namespace {

struct Dataset {
  std::unique_ptr<fh::Replay> replay;
  std::vector<std::string_view> frames; // the book frames, in replay order
};

// Keeps only the records that carry book data (depth frames, snapshots) plus metadata.
Dataset load(const std::vector<std::string>& rel, std::string_view book_marker) {
  Dataset d;
  std::vector<std::string> paths;
  for (const auto& p : rel) paths.push_back(std::string(FH_DATA_DIR) + "/" + p);
  fh::ReplayOptions o;
  o.progress = false;
  auto opened = fh::Replay::open(paths, o);
  if (auto* err = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "%s\n", err->c_str());
    std::exit(1);
  }
  d.replay = std::move(std::get<std::unique_ptr<fh::Replay>>(opened));
  auto& order = d.replay->order();
  std::vector<fh::capture::Record> kept;
  for (const auto& r : order) {
    const bool book = r.payload.find(book_marker) != std::string_view::npos ||
                      r.payload.find("\"lastUpdateId\"") != std::string_view::npos;
    if (book && (r.kind == fh::capture::RecordKind::WsText || r.kind == fh::capture::RecordKind::Http)) {
      kept.push_back(r);
      d.frames.push_back(r.payload);
    }
  }
  order = std::move(kept);
  return d;
}

Dataset& binance_usdm() {
  static Dataset d = load({"binance/hftbacktest/usdm_btcusdt_20240808.gz"}, "\"e\":\"depthUpdate\"");
  return d;
}
Dataset& okx() {
  static Dataset d = load({"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                           "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"},
                          "\"channel\":\"books-l2-tbt\"");
  return d;
}

void report(benchmark::State& state, std::size_t frames) {
  const auto total = static_cast<double>(state.iterations()) * static_cast<double>(frames);
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  // kIsRate|kInvert yields seconds per unit; scaling the count by 1e-9 makes it ns/frame.
  state.counters["ns_per_frame"] =
      benchmark::Counter(total * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Pipeline(benchmark::State& state, Dataset& (*dataset)()) {
  Dataset& d = dataset();
  fh::NullPublisher pub;
  const std::size_t n = d.replay->order().size();
  for (auto _ : state) {
    state.PauseTiming();
    d.replay->reset();
    state.ResumeTiming();
    d.replay->run_range(0, n, pub);
  }
  if (d.replay->totals().parse_errors != 0) state.SkipWithError("parse errors");
  report(state, n);
}

void BM_PipelineShm(benchmark::State& state, Dataset& (*dataset)()) {
  Dataset& d = dataset();
  const std::size_t n = d.replay->order().size();
  fh::ShmOutputOptions o;
  o.name = "fh-bench-pipeline-" + std::to_string(::getpid());
  o.journal_capacity = 1u << state.range(0); // 2^14 records stay in L2; 2^20 (64 MiB) do not
  o.remove_on_close = true;
  std::uint64_t records = 0, publishes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    d.replay->reset();
    // A fresh segment per pass: the publisher holds pointers into the builder's books.
    auto opened = fh::ShmOutput::open(o);
    if (auto* err = std::get_if<std::string>(&opened)) {
      state.SkipWithError(err->c_str());
      return;
    }
    auto out = std::move(std::get<std::unique_ptr<fh::ShmOutput>>(opened));
    state.ResumeTiming();
    d.replay->run_range(0, n, out->publisher());
    state.PauseTiming();
    records += out->publisher().counters().journal_records;
    publishes += out->publisher().counters().book_publishes;
    out.reset();
    state.ResumeTiming();
  }
  if (d.replay->totals().parse_errors != 0) state.SkipWithError("parse errors");
  report(state, n);
  const auto iters = static_cast<double>(state.iterations());
  state.counters["journal_records_per_pass"] = static_cast<double>(records) / iters;
  state.counters["book_publishes_per_pass"] = static_cast<double>(publishes) / iters;
}

void BM_Floor(benchmark::State& state, Dataset& (*dataset)()) {
  Dataset& d = dataset();
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    std::size_t sum = 0;
    for (auto f : d.frames) sum += fh::bench::walk_frame(parser, f);
    benchmark::DoNotOptimize(sum);
  }
  report(state, d.frames.size());
}

BENCHMARK_CAPTURE(BM_Pipeline, binance_usdm, binance_usdm)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PipelineShm, binance_usdm, binance_usdm)->Arg(14)->Arg(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Floor, binance_usdm, binance_usdm)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Pipeline, okx, okx)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PipelineShm, okx, okx)->Arg(14)->Arg(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Floor, okx, okx)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
