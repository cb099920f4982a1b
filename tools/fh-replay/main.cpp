// fh-replay: drives recorded venue captures through the same parsers, sync rules and books
// as the live feed handler, prints the resulting books and, as the last line of stdout, one
// JSON summary object (field names are stable: other tools and checks read them).
// Exit status: 0 when the replay ran, whatever it found; 2 for unusable input or arguments.
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.hpp"
#include "feedhandler/replay.hpp"

namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: fh-replay [options] [--input] FILE...\n"
      "  --input FILE        a capture (cryptofeed raw, hftbacktest lines, gzip or plain);\n"
      "                      repeat for REST snapshot / metadata files of the same run\n"
      "  --venue NAME        binance|binance-usdm|binance-coinm|binance-us|okx|kraken\n"
      "                      (default: from the capture's URL, else the file name)\n"
      "  --threaded          parser and book builder on two threads (SPSC ring between)\n"
      "  --parse-core N      pin the parser thread; --book-core N pins the book thread\n"
      "  --depth N           levels per side to print for each book (default 5, 0 = none)\n"
      "  --no-progress       no progress lines on stderr\n",
      out);
}

void print_book(const fh::InstrumentBook& b, std::size_t depth) {
  const auto& inst = b.instrument();
  const auto& book = b.book();
  std::printf("%s:%s (%s) %s, %zu bids / %zu asks\n", std::string(fh::venue_name(inst.venue)).c_str(),
              inst.canonical.c_str(), inst.native.c_str(), fh::to_cstring(b.status()),
              book.depth(fh::book::Side::Bid), book.depth(fh::book::Side::Ask));
  const std::size_t rows = std::max(std::min(depth, book.depth(fh::book::Side::Bid)),
                                    std::min(depth, book.depth(fh::book::Side::Ask)));
  for (std::size_t i = 0; i < rows; ++i) {
    std::string bid, ask;
    if (i < book.depth(fh::book::Side::Bid)) {
      const auto& l = book.at(fh::book::Side::Bid, i);
      bid = fh::book::to_string(l.qty, inst.qty_decimals) + " @ " +
            fh::book::to_string(l.price, inst.price_decimals);
    }
    if (i < book.depth(fh::book::Side::Ask)) {
      const auto& l = book.at(fh::book::Side::Ask, i);
      ask = fh::book::to_string(l.price, inst.price_decimals) + " x " +
            fh::book::to_string(l.qty, inst.qty_decimals);
    }
    std::printf("  %32s | %-32s\n", bid.c_str(), ask.c_str());
  }
}

} // namespace

int main(int argc, char** argv) {
  fh::ReplayOptions options;
  std::vector<std::string> inputs;
  std::size_t depth = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fh-replay: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--input") inputs.emplace_back(value("--input"));
    else if (a == "--venue") {
      const char* v = value("--venue");
      options.venue = fh::venue_from_name(v);
      if (!options.venue) {
        std::fprintf(stderr, "fh-replay: unknown venue '%s'\n", v);
        return 2;
      }
    } else if (a == "--threaded") options.threaded = true;
    else if (a == "--parse-core") options.parse_core = std::atoi(value("--parse-core"));
    else if (a == "--book-core") options.book_core = std::atoi(value("--book-core"));
    else if (a == "--depth") depth = static_cast<std::size_t>(std::atoi(value("--depth")));
    else if (a == "--no-progress") options.progress = false;
    else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "fh-replay: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else inputs.emplace_back(a);
  }
  if (inputs.empty()) {
    usage(stderr);
    return 2;
  }

  auto opened = fh::Replay::open(inputs, options);
  if (auto* err = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
    return 2;
  }
  auto& replay = *std::get<std::unique_ptr<fh::Replay>>(opened);
  replay.run();
  if (!replay.totals().pin_error.empty())
    std::fprintf(stderr, "fh-replay: %s\n", replay.totals().pin_error.c_str());

  if (depth > 0) {
    for (std::uint32_t id = 0; id < replay.builder().instrument_slots(); ++id) {
      const auto* b = replay.builder().book(id);
      if (b != nullptr && b->counters().book_messages != 0) print_book(*b, depth);
    }
  }
  std::printf("%s\n", replay.summary_json().c_str());
  return 0;
}
