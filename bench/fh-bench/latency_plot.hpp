#pragma once
// The latency distribution as an SVG image (no plotting library needed to read a result):
// one curve per series, latency on a log axis against the percentile on the usual
// "nines" axis (p50, p90, p99, p99.9, p99.99), as HdrHistogram plots show it.
#include <string>
#include <vector>

#include "bench/support/latency_histogram.hpp"

namespace fh::bench {

struct PlotSeries {
  std::string name;
  LatencyHistogram histogram;
};

// False when the file cannot be written.
bool write_latency_plot(const std::string& path, const std::string& title,
                        const std::vector<PlotSeries>& series);

} // namespace fh::bench
