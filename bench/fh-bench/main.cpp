// fh-bench: the latency and throughput harness a user runs on their own host.
//   fh-bench pipeline [--venue V] [--passes N] [--quick] [--core C] [--book-core C] [--json]
//                     [--input] FILE...
// Last line of stdout: one JSON object (book_frames, ns_per_book_frame: median over passes,
// fused, one core; messages_per_s; stage costs; cores). Field names are stable.
// Exit status: 0 measured, 2 bad arguments or unusable input.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/fh-bench/e2e_mode.hpp"
#include "bench/fh-bench/limits_mode.hpp"
#include "bench/fh-bench/pipeline_mode.hpp"

namespace {

void usage(FILE* out) {
  std::fputs("usage: fh-bench pipeline [--venue V] [--passes N] [--quick] [--core C]\n"
             "                         [--book-core C] [--json] [--input] FILE...\n"
             "  replays real captures from memory through parse -> book -> shm and reports\n"
             "  ns per book frame per stage next to a bare simdjson walk of the same frames\n"
             "       fh-bench limits [--quick] [--json] [--core C] [--peer-core C] [--noise-seconds S]\n"
             "  the host's floor: clock cost, cache-line round trip, loopback TCP, memcpy, noise\n"
             "       fh-bench e2e [--pace P]... [--quick] [--pipelined] [--plot FILE] [--json] [WS HTTP]\n"
             "  fh-venue -> feed handler -> shm -> a reader process: latency per stage\n",
             out);
}

int to_int(const char* s, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0') {
    std::fprintf(stderr, "fh-bench: %s needs a number, got '%s'\n", what, s);
    std::exit(2);
  }
  return static_cast<int>(v);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::string_view(argv[1]) == "limits") return fh::bench::limits_main(argc - 2, argv + 2);
  if (std::string_view(argv[1]) == "e2e") return fh::bench::e2e_main(argc - 2, argv + 2);
  if (std::string_view(argv[1]) != "pipeline") {
    std::fprintf(stderr, "fh-bench: unknown mode '%s' (this build has: pipeline, limits, e2e)\n", argv[1]);
    return 2;
  }
  fh::bench::PipelineArgs a;
  for (int i = 2; i < argc; ++i) {
    const std::string_view s = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fh-bench: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (s == "--input") a.inputs.emplace_back(value("--input"));
    else if (s == "--venue") {
      const char* v = value("--venue");
      a.venue = fh::venue_from_name(v);
      if (!a.venue) {
        std::fprintf(stderr, "fh-bench: unknown venue '%s'\n", v);
        return 2;
      }
    } else if (s == "--passes") a.passes = to_int(value("--passes"), "--passes");
    else if (s == "--quick") a.passes = 3;
    else if (s == "--core") a.core = to_int(value("--core"), "--core");
    else if (s == "--book-core") a.book_core = to_int(value("--book-core"), "--book-core");
    else if (s == "--json") a.json = true;
    else if (!s.empty() && s[0] == '-') {
      std::fprintf(stderr, "fh-bench: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else a.inputs.emplace_back(s);
  }
  if (a.inputs.empty() || a.passes < 1) {
    usage(stderr);
    return 2;
  }
  return fh::bench::run_pipeline(a);
}
