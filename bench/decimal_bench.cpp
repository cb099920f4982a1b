// parse_decimal vs std::strtod vs std::from_chars(double) on real price/size strings: every
// quoted number of the first depth events of the hftbacktest Binance USD-M capture. The
// doubles are the naive baseline (and are not even exact); parse_decimal gives the exact
// int64 mantissa. Each benchmark walks the same string list; items = strings parsed.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "book/decimal.hpp"

namespace {

std::vector<std::string> load_strings() {
  const std::string path =
      std::string(FH_DATA_DIR) + "/binance/hftbacktest/usdm_btcusdt_20240808.gz";
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<std::string> out;
  if (f == nullptr)
    return out;
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0 && all.size() < (8U << 20))
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  std::size_t i = 0;
  while (out.size() < 200000 && (i = all.find("[\"", i)) != std::string::npos) {
    // ["price","qty"] pairs of depth levels.
    const std::size_t p_end = all.find('"', i + 2);
    const std::size_t q_begin = all.find('"', p_end + 1);
    const std::size_t q_end = all.find('"', q_begin + 1);
    if (q_end == std::string::npos)
      break;
    out.push_back(all.substr(i + 2, p_end - i - 2));
    out.push_back(all.substr(q_begin + 1, q_end - q_begin - 1));
    i = q_end;
  }
  return out;
}

const std::vector<std::string> &strings() {
  static const std::vector<std::string> s = load_strings();
  return s;
}

void BM_ParseDecimal(benchmark::State &state) {
  const auto &s = strings();
  std::int64_t sum = 0;
  for (auto _ : state) {
    for (const auto &x : s) {
      fh::book::ParsedDecimal p{};
      if (fh::book::parse_decimal(x, 8, p) == fh::book::DecimalError::Ok)
        sum += p.mantissa;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.size()));
}
BENCHMARK(BM_ParseDecimal);

void BM_Strtod(benchmark::State &state) {
  const auto &s = strings();
  double sum = 0;
  for (auto _ : state) {
    for (const auto &x : s)
      sum += std::strtod(x.c_str(), nullptr);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.size()));
}
BENCHMARK(BM_Strtod);

void BM_FromCharsDouble(benchmark::State &state) {
  const auto &s = strings();
  double sum = 0;
  for (auto _ : state) {
    for (const auto &x : s) {
      double v = 0;
      std::from_chars(x.data(), x.data() + x.size(), v);
      sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.size()));
}
BENCHMARK(BM_FromCharsDouble);

void BM_FormatDecimal(benchmark::State &state) {
  // Rebuilding the wire text (what the checksums do per level).
  const auto &s = strings();
  std::vector<fh::book::ParsedDecimal> parsed;
  for (const auto &x : s) {
    fh::book::ParsedDecimal p{};
    if (fh::book::parse_decimal(x, 8, p) == fh::book::DecimalError::Ok)
      parsed.push_back(p);
  }
  char buf[fh::book::kDecimalBufferSize];
  std::size_t total = 0;
  for (auto _ : state) {
    for (const auto &p : parsed)
      total += fh::book::format_decimal(p.mantissa, 8, p.text_decimals, buf);
    benchmark::DoNotOptimize(total);
    benchmark::DoNotOptimize(buf);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(parsed.size()));
}
BENCHMARK(BM_FormatDecimal);

} // namespace

BENCHMARK_MAIN();
