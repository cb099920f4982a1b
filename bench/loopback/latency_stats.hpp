#pragma once
// Percentiles of one latency series, from a vector of samples that was sized before the
// measurement (the measured path only stores into it) and is sorted afterwards, so every
// percentile is an exact order statistic (nearest rank), not a bucket edge.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace fh::bench::loopback {

struct Percentiles {
  std::size_t n = 0;
  std::int64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, min = 0;
};

// Sorts `v` in place (control path, after the run).
inline Percentiles summarize(std::vector<std::int64_t>& v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size(), std::max<std::size_t>(r, 1)) - 1];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.p999 = rank(0.999);
  p.max = v.back();
  p.min = v.front();
  return p;
}

// {"n":..,"p50":..,...} in ns.
inline std::string to_json(const Percentiles& p) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "{\"n\":%zu,\"min\":%lld,\"p50\":%lld,\"p90\":%lld,\"p99\":%lld,\"p999\":%lld,\"max\":%lld}",
                p.n, static_cast<long long>(p.min), static_cast<long long>(p.p50), static_cast<long long>(p.p90),
                static_cast<long long>(p.p99), static_cast<long long>(p.p999), static_cast<long long>(p.max));
  return buf;
}

// One table row in microseconds.
inline void print_row(const char* what, const Percentiles& p) {
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf("  %-44s %7zu %9.1f %9.1f %9.1f %9.1f %10.1f\n", what, p.n, us(p.p50), us(p.p90), us(p.p99),
              us(p.p999), us(p.max));
}
inline void print_header() {
  std::printf("  %-44s %7s %9s %9s %9s %9s %10s\n", "(microseconds)", "n", "p50", "p90", "p99", "p99.9",
              "max");
}

} // namespace fh::bench::loopback
