#include "bench/fh-bench/latency_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fh::bench {
namespace {

constexpr double kWidth = 900, kHeight = 520, kLeft = 80, kRight = 260, kTop = 40, kBottom = 60;
constexpr double kMaxNines = 4; // up to p99.99
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                               "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

} // namespace

bool write_latency_plot(const std::string& path, const std::string& title,
                        const std::vector<PlotSeries>& series) {
  // y range: decades around every series' p0..max.
  double lo = 1e12, hi = 1;
  for (const auto& s : series) {
    if (s.histogram.count() == 0) continue;
    lo = std::min(lo, static_cast<double>(std::max<std::int64_t>(1, s.histogram.at(0.0))));
    hi = std::max(hi, static_cast<double>(std::max<std::int64_t>(1, s.histogram.max())));
  }
  if (lo > hi) return false;
  const double y0 = std::floor(std::log10(lo)), y1 = std::ceil(std::log10(hi)) + (hi == lo ? 1 : 0);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](double nines) { return kLeft + plot_w * nines / kMaxNines; };
  auto y_of = [&](double ns) {
    return kTop + plot_h * (1 - (std::log10(std::max(ns, 1.0)) - y0) / (y1 - y0));
  };
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
               "fill=\"white\"/>\n<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s</text>\n",
               kWidth, kHeight, kLeft, escape(title).c_str());
  // Axes and grid: decades on y, nines on x.
  for (double d = y0; d <= y1; d += 1) {
    const double y = y_of(std::pow(10.0, d));
    const double us = std::pow(10.0, d) / 1e3;
    std::fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", kLeft, y,
                 kLeft + plot_w, y);
    std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g us</text>\n", kLeft - 6, y + 4, us);
  }
  const char* labels[] = {"p0", "p90", "p99", "p99.9", "p99.99"};
  for (int n = 0; n <= static_cast<int>(kMaxNines); ++n) {
    const double x = x_of(n);
    std::fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x, kTop, x,
                 kTop + plot_h);
    std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                 kTop + plot_h + 18, labels[n]);
  }
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">percentile</text>\n",
               kLeft + plot_w / 2, kHeight - 15);
  // One curve per series: latency at q = 1 - 10^-nines.
  std::size_t k = 0;
  for (const auto& s : series) {
    if (s.histogram.count() == 0) continue;
    const char* color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    std::fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"", color);
    for (double nines = 0; nines <= kMaxNines + 1e-9; nines += 0.02) {
      const double q = 1 - std::pow(10.0, -nines);
      std::fprintf(f, "%.1f,%.1f ", x_of(nines), y_of(static_cast<double>(s.histogram.at(q))));
    }
    std::fprintf(f, "\"/>\n");
    const double ly = kTop + 16 + 18 * static_cast<double>(k);
    std::fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
                 kLeft + plot_w + 12, ly - 4, kLeft + plot_w + 32, ly - 4, color);
    std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", kLeft + plot_w + 38, ly,
                 escape(s.name).c_str());
    ++k;
  }
  std::fprintf(f, "</svg>\n");
  return std::fclose(f) == 0;
}

} // namespace fh::bench
