// fh-inspect: reads a feedhandler shm segment (live, closed, or a copy on disk) and shows its
// instruments, books, journal, counters, error log and writer liveness. Argument parsing,
// attach and dispatch live here; each command is its own file (inspect.hpp).
// Exit status: 0 ok, 1 a book slot stayed locked, 2 usage or attach failure, 3 no such
// instrument.
#include <charconv>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shm/reader.hpp"
#include "tools/fh-inspect/inspect.hpp"

namespace {

using fh::inspect::Command;
using fh::inspect::Options;

void usage(std::FILE* out) {
  std::fputs(
      "usage: fh-inspect [--shm NAME] [--timeout MS] [--json] COMMAND [ARGS]\n"
      "commands:\n"
      "  list                       instruments: id, venue, symbols, status, seq, best bid/ask,\n"
      "                             book updates\n"
      "  book INSTRUMENT [--depth N] [--watch [--interval MS] [--frames N]]\n"
      "                             top N levels per side (default: the segment's depth);\n"
      "                             --watch redraws in place until Ctrl-C\n"
      "  tail [--instrument X] [--from-oldest] [--count N] [--follow [--interval MS]]\n"
      "                             journal records, one line each, from now (or the oldest\n"
      "                             retained); drains and exits unless --follow; a lap is\n"
      "                             reported with the number of records lost\n"
      "  stats                      writer liveness, counters per venue and instrument, error\n"
      "                             log, journal head/tail and reader lag\n"
      "  top [--interval MS] [--frames N]\n"
      "                             live full-screen table of every instrument (Ctrl-C quits)\n"
      "options:\n"
      "  --shm NAME      segment name or path (default: $FH_SHM, else fh-main)\n"
      "  --timeout MS    wait up to MS for the segment to appear and its writer to start\n"
      "                  (default 0: fail at once)\n"
      "  --json          machine-readable output (tail and book --watch: one object per line)\n"
      "  --stale-ms MS   a running writer whose heartbeat is older is reported stale\n"
      "                  (default 2000)\n"
      "INSTRUMENT: venue:CANONICAL (binance-usdm:BTC-USDT-PERP), venue:NATIVE, a symbol that is\n"
      "unique over all venues, or a numeric instrument id.\n"
      "exit status: 0 ok, 1 a book slot stayed locked (writer died mid-write?), 2 usage or\n"
      "attach failure, 3 instrument not found or ambiguous\n",
      out);
}

[[noreturn, gnu::format(printf, 1, 2)]] void usage_error(const char* fmt, ...) {
  std::fputs("fh-inspect: ", stderr);
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputs("\n(fh-inspect --help for usage)\n", stderr);
  std::exit(fh::inspect::kExitUsage);
}

// Strict unsigned decimal: digits only, whole string, at most `max`.
std::uint64_t parse_count(const char* option, const char* text, std::uint64_t min,
                          std::uint64_t max) {
  std::uint64_t v = 0;
  const std::string_view s(text);
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc{} || ptr != end || v < min || v > max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    std::fprintf(stderr, "fh-inspect: %s needs an integer in %s, got '%s'\n", option,
                 range.c_str(), text);
    std::fputs("(fh-inspect --help for usage)\n", stderr);
    std::exit(fh::inspect::kExitUsage);
  }
  return v;
}

Command command_of(std::string_view word) {
  if (word == "list") return Command::List;
  if (word == "book") return Command::Book;
  if (word == "tail") return Command::Tail;
  if (word == "stats") return Command::Stats;
  if (word == "top") return Command::Top;
  return Command::None;
}

// Which command-specific options each command accepts.
bool accepts(Command c, std::string_view option) {
  if (option == "--depth" || option == "--watch")
    return c == Command::Book;
  if (option == "--instrument" || option == "--from-oldest" || option == "--count" ||
      option == "--follow")
    return c == Command::Tail;
  if (option == "--frames")
    return c == Command::Book || c == Command::Top;
  if (option == "--interval")
    return c == Command::Book || c == Command::Top || c == Command::Tail;
  if (option == "--json")
    return c != Command::Top;
  return true; // global
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("FH_SHM"); env != nullptr && env[0] != '\0')
    o.shm = env;
  else
    o.shm = "fh-main";
  std::vector<std::string_view> positional;
  std::vector<std::string_view> specific; // options to check against the command
  bool interval_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc)
        usage_error("%s needs a value", argv[i]);
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      std::exit(fh::inspect::kExitOk);
    } else if (a == "--shm") {
      o.shm = value();
      if (o.shm.empty())
        usage_error("--shm needs a non-empty name");
    } else if (a == "--timeout") {
      o.timeout_ms = static_cast<std::int64_t>(parse_count("--timeout", value(), 0, 86'400'000));
    } else if (a == "--stale-ms") {
      o.stale_ms = static_cast<std::int64_t>(parse_count("--stale-ms", value(), 1, 86'400'000));
    } else if (a == "--json") {
      o.json = true;
      specific.push_back(a);
    } else if (a == "--depth") {
      o.depth = static_cast<std::uint32_t>(parse_count("--depth", value(), 1, fh::shm::kMaxDepth));
      specific.push_back(a);
    } else if (a == "--watch") {
      o.watch = true;
      specific.push_back(a);
    } else if (a == "--interval") {
      o.interval_ms = static_cast<std::int64_t>(parse_count("--interval", value(), 1, 3'600'000));
      interval_given = true;
      specific.push_back(a);
    } else if (a == "--frames") {
      o.frames = parse_count("--frames", value(), 1, UINT64_MAX);
      specific.push_back(a);
    } else if (a == "--instrument") {
      o.instrument = value();
      specific.push_back(a);
    } else if (a == "--from-oldest") {
      o.from_oldest = true;
      specific.push_back(a);
    } else if (a == "--count") {
      o.count = parse_count("--count", value(), 1, UINT64_MAX);
      specific.push_back(a);
    } else if (a == "--follow" || a == "-f") {
      o.follow = true;
      specific.push_back("--follow");
    } else if (a.size() > 1 && a[0] == '-') {
      usage_error("unknown option %s", argv[i]);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty())
    usage_error("no command given (list, book, tail, stats, top)");
  o.command = command_of(positional[0]);
  if (o.command == Command::None)
    usage_error("unknown command '%s' (list, book, tail, stats, top)",
                std::string(positional[0]).c_str());
  const std::string cmd(positional[0]);
  if (o.command == Command::Book) {
    if (positional.size() < 2)
      usage_error("book needs an instrument (venue:SYMBOL, a symbol or an id)");
    o.instrument = positional[1];
    if (positional.size() > 2)
      usage_error("book takes one instrument, got extra argument '%s'",
                  std::string(positional[2]).c_str());
  } else if (positional.size() > 1) {
    usage_error("%s takes no argument '%s'", cmd.c_str(), std::string(positional[1]).c_str());
  }
  for (const std::string_view s : specific)
    if (!accepts(o.command, s))
      usage_error("%s does not take %s", cmd.c_str(), std::string(s).c_str());
  if (o.frames != 0 && o.command == Command::Book && !o.watch)
    usage_error("--frames needs --watch");
  if (interval_given && o.command == Command::Book && !o.watch)
    usage_error("--interval needs --watch");
  if (o.command == Command::Tail && !interval_given)
    o.interval_ms = 5; // idle poll period of tail --follow
  return o;
}

} // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);

  fh::shm::Reader reader;
  const fh::shm::AttachError e = reader.attach(options.shm, options.timeout_ms * 1'000'000);
  if (e != fh::shm::AttachError::Ok) {
    std::fprintf(stderr, "fh-inspect: %s: %s\n", fh::shm::to_cstring(e), reader.error_message());
    return fh::inspect::kExitUsage;
  }

  switch (options.command) {
  case Command::List: return fh::inspect::run_list(reader, options);
  case Command::Book: return fh::inspect::run_book(reader, options);
  case Command::Tail: return fh::inspect::run_tail(reader, options);
  case Command::Stats: return fh::inspect::run_stats(reader, options);
  case Command::Top: return fh::inspect::run_top(reader, options);
  case Command::None: break;
  }
  return fh::inspect::kExitUsage;
}
