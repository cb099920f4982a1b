// fh-replay: drives recorded venue captures through the same parsers, sync rules and books
// as the live feed handler, prints the resulting books and, as the last line of stdout, one
// JSON summary object (field names are stable: other tools and checks read them).
// With --shm NAME it also publishes books, trades, BBOs, statuses and the event journal into
// a shared-memory segment that stays readable after the replay ends (fh-inspect, strategies).
// With --network the capture goes the long way: fh-venue serves it on loopback over TLS +
// WebSocket (optionally with --fault SPECs) and the live session code receives it; the summary
// then also has reconnects, resubscribes and snapshots_fetched.
// Exit status: 0 when the replay ran, whatever it found; 2 for unusable input or arguments;
// 3 when a --network run ended before fh-venue had sent everything (timeout, venue died).
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.hpp"
#include "feedhandler/replay.hpp"
#include "feedhandler/shm_output.hpp"
#include "tools/fh-replay/network.hpp"
#include "tools/fh-replay/pcap_mode.hpp"

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
      "  --no-progress       no progress lines on stderr\n"
      "  --speed X           pace frames at X times their recorded rate (default: flat out)\n"
      "  --shm NAME          publish into shm segment NAME (/dev/shm/NAME, or a path); it\n"
      "                      replaces a segment of that name and stays after the run\n"
      "  --shm-depth N       levels per side in each book slot (default 10, max 64)\n"
      "  --shm-journal N     journal records, power of two (default 1048576 = 64 MiB)\n"
      "  --shm-instruments N instrument slots (default 1024)\n"
      "  --shm-mode OCTAL    segment file mode (default 0640)\n"
      "  --shm-huge          NAME is a path on hugetlbfs (file sized in 2 MiB pages)\n"
      "  --network           serve the inputs with fh-venue on loopback (TLS + WebSocket)\n"
      "                      and receive them with the live session code\n"
      "  --fault SPEC        (--network) fh-venue fault: close-after=N, stall=MS, refuse=MS,\n"
      "                      corrupt-at=N, drop-at=N, reject-subscribe (repeatable)\n"
      "  --record DIR        (--network) record what the session received (fhrec files)\n"
      "  --venue-bin PATH    (--network) the fh-venue binary (default: next to fh-replay)\n"
      "  --timeout S         (--network) give up after S seconds (default 600)\n"
      "  --log-level L       (--network) session logs on stderr: debug|info|warn|error\n"
      "  --pcap FILE         an IEX DEEP/TOPS multicast capture (pcap or pcapng, gzip or\n"
      "                      plain) through the UDP packet path; the summary adds packets,\n"
      "                      messages_by_type and seq_gaps (IEX-TP continuity breaks)\n"
      "  --strict-udp-checksum (--pcap) reject transmit-offload checksum placeholders\n",
      out);
}

std::uint32_t parse_u32(const char* text, int base) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, base);
  if (end == text || *end != '\0' || v > 0xffffffffUL) {
    std::fprintf(stderr, "fh-replay: bad number '%s'\n", text);
    std::exit(2);
  }
  return static_cast<std::uint32_t>(v);
}

// Frames, bytes and parse errors per venue, as seen by the replay (the book counters come
// from the publisher).
void set_venue_counters(fh::shm::Writer& w, const fh::ReplayTotals& t) {
  for (std::size_t v = 0; v < t.by_venue.size(); ++v) {
    const auto& vt = t.by_venue[v];
    if (vt.messages == 0) continue;
    const auto id = static_cast<std::uint8_t>(v);
    (void)w.set_venue_name(id, fh::venue_name(static_cast<fh::Venue>(v)));
    w.set_counter(id, fh::shm::VenueCounter::Messages, vt.messages);
    w.set_counter(id, fh::shm::VenueCounter::Bytes, vt.bytes);
    w.set_counter(id, fh::shm::VenueCounter::ParseErrors, vt.parse_errors);
  }
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

void print_books(const fh::BookBuilder& builder, std::size_t depth) {
  if (depth == 0) return;
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const auto* b = builder.book(id);
    if (b != nullptr && b->counters().book_messages != 0) print_book(*b, depth);
  }
}

std::string with_shm(std::string summary, fh::ShmOutput* shm, const fh::ShmPublisherCounters& c) {
  if (shm == nullptr) return summary;
  summary.pop_back(); // '}'
  summary += ",\"shm\":{\"segment\":\"" + shm->writer().path() +
             "\",\"book_publishes\":" + std::to_string(c.book_publishes) +
             ",\"journal_records\":" + std::to_string(c.journal_records) +
             ",\"images\":" + std::to_string(c.images) +
             ",\"unpublished_events\":" + std::to_string(c.unpublished_events) + "}}";
  return summary;
}

int run_network(const std::vector<std::string>& inputs, const fh::ReplayOptions& options,
                const fh::ShmOutputOptions& shm_options, fh::replay::NetworkOptions net,
                fh::LogLevel log_level, std::size_t depth) {
  net.venue = options.venue;
  net.threaded = options.threaded;
  net.parse_core = options.parse_core;
  net.book_core = options.book_core;
  net.speed = options.speed;
  if (!shm_options.name.empty()) net.shm = shm_options;
  fh::ControlLog log(log_level);
  auto result = fh::replay::run_network(inputs, net, log);
  if (auto* err = std::get_if<std::string>(&result)) {
    std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
    return 2;
  }
  auto& r = std::get<fh::replay::NetworkResult>(result);
  print_books(r.engine->builder(), depth);
  std::printf("%s\n", r.engine->summary_json().c_str());
  if (!r.incomplete.empty()) {
    std::fprintf(stderr, "fh-replay: %s\n", r.incomplete.c_str());
    return 3;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  fh::ReplayOptions options;
  std::vector<std::string> inputs;
  std::size_t depth = 5;
  fh::ShmOutputOptions shm_options;
  bool network = false;
  fh::replay::NetworkOptions net;
  fh::LogLevel log_level = fh::LogLevel::Warn;
  fh::replay::PcapModeOptions pcap;
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
    else if (a == "--speed") {
      options.speed = std::atof(value("--speed"));
      if (!(options.speed > 0)) {
        std::fprintf(stderr, "fh-replay: --speed needs a positive number\n");
        return 2;
      }
    }
    else if (a == "--network") network = true;
    else if (a == "--pcap") pcap.path = value("--pcap");
    else if (a == "--strict-udp-checksum") pcap.strict_udp_checksum = true;
    else if (a == "--fault") net.faults.emplace_back(value("--fault"));
    else if (a == "--record") net.record_dir = value("--record");
    else if (a == "--venue-bin") net.venue_bin = value("--venue-bin");
    else if (a == "--timeout") net.timeout_s = std::atof(value("--timeout"));
    else if (a == "--log-level") {
      if (!fh::parse_log_level(value("--log-level"), log_level)) {
        std::fprintf(stderr, "fh-replay: unknown log level\n");
        return 2;
      }
    }
    else if (a == "--shm") shm_options.name = value("--shm");
    else if (a == "--shm-depth") shm_options.depth = parse_u32(value("--shm-depth"), 10);
    else if (a == "--shm-journal") shm_options.journal_capacity = parse_u32(value("--shm-journal"), 10);
    else if (a == "--shm-instruments")
      shm_options.max_instruments = parse_u32(value("--shm-instruments"), 10);
    else if (a == "--shm-huge") shm_options.huge_pages = true;
    else if (a == "--shm-mode") shm_options.mode = parse_u32(value("--shm-mode"), 8);
    else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "fh-replay: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else inputs.emplace_back(a);
  }
  if (!pcap.path.empty()) {
    if (!inputs.empty() || network) {
      std::fprintf(stderr, "fh-replay: --pcap takes no other inputs and no --network\n");
      return 2;
    }
    pcap.depth = depth;
    pcap.threaded = options.threaded;
    pcap.parse_core = options.parse_core;
    pcap.book_core = options.book_core;
    pcap.progress = options.progress;
    pcap.shm = shm_options;
    return fh::replay::run_pcap(pcap, print_books);
  }
  if (inputs.empty()) {
    usage(stderr);
    return 2;
  }

  if (network) return run_network(inputs, options, shm_options, net, log_level, depth);
  if (!net.faults.empty() || !net.record_dir.empty()) {
    std::fprintf(stderr, "fh-replay: --fault and --record need --network\n");
    return 2;
  }

  auto opened = fh::Replay::open(inputs, options);
  if (auto* err = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
    return 2;
  }
  auto& replay = *std::get<std::unique_ptr<fh::Replay>>(opened);
  std::unique_ptr<fh::ShmOutput> shm;
  if (!shm_options.name.empty()) {
    auto out = fh::ShmOutput::open(shm_options);
    if (auto* err = std::get_if<std::string>(&out)) {
      std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
      return 2;
    }
    shm = std::move(std::get<std::unique_ptr<fh::ShmOutput>>(out));
  }
  if (shm) {
    replay.run(shm->publisher());
    set_venue_counters(shm->writer(), replay.totals());
    shm->close();
  } else {
    replay.run();
  }
  if (!replay.totals().pin_error.empty())
    std::fprintf(stderr, "fh-replay: %s\n", replay.totals().pin_error.c_str());

  print_books(replay.builder(), depth);
  const std::string summary = with_shm(replay.summary_json(), shm.get(),
                                       shm ? shm->publisher().counters() : fh::ShmPublisherCounters{});
  std::printf("%s\n", summary.c_str());
  return 0;
}
