// feedhandler: the live feed handler. Reads a TOML config (docs/config/*.toml), loads each
// venue's symbol metadata over REST, holds the venue sessions on one ingest thread, builds
// the books (fused or on a book thread) and publishes them into shared memory.
//
//   feedhandler --config FILE [--check] [--duration S] [--log-level L] [--summary]
//
// Exit: 0 after a clean shutdown (SIGINT/SIGTERM or --duration), 1 when it cannot start
// (metadata, shm, TLS), 2 for a bad config or arguments. Logs: structured lines on stderr.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "feedhandler/config.hpp"
#include "feedhandler/control_log.hpp"
#include "feedhandler/live_engine.hpp"

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

void usage(std::FILE* out) {
  std::fputs(
      "usage: feedhandler --config FILE [options]\n"
      "  --config FILE     TOML configuration (examples: docs/config/*.toml)\n"
      "  --check           validate the config, print the connection plan, exit\n"
      "  --duration S      stop after S seconds (default: until SIGINT/SIGTERM)\n"
      "  --log-level L     debug|info|warn|error (overrides the config's log_level)\n"
      "  --summary         print the run's summary JSON on stdout at exit\n",
      out);
}

void print_plan(const fh::EngineOptions& o) {
  for (std::size_t i = 0; i < o.sessions.size(); ++i) {
    const auto& s = o.sessions[i];
    std::printf("connection %zu: %s %s, %zu instruments, %zu subscribe requests\n", i,
                std::string(fh::venue_name(s.venue)).c_str(), s.plan.url.c_str(),
                s.plan.natives.size(), s.plan.subscribe_messages.size());
  }
}

} // namespace

int main(int argc, char** argv) {
  std::string config_path, log_level;
  bool check = false, summary = false;
  double duration_s = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "feedhandler: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config") config_path = value();
    else if (a == "--check") check = true;
    else if (a == "--summary") summary = true;
    else if (a == "--duration") duration_s = std::atof(value());
    else if (a == "--log-level") log_level = value();
    else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "feedhandler: unknown argument %s\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    usage(stderr);
    return 2;
  }
  auto loaded = fh::load_config(config_path);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    std::fprintf(stderr, "feedhandler: %s\n", err->c_str());
    return 2;
  }
  const fh::Config& config = std::get<fh::Config>(loaded);
  fh::LogLevel level = fh::LogLevel::Info;
  if (!fh::parse_log_level(log_level.empty() ? config.log_level : log_level, level)) {
    std::fprintf(stderr, "feedhandler: unknown log level '%s'\n", log_level.c_str());
    return 2;
  }
  fh::ControlLog log(level);
  fh::EngineOptions options = fh::engine_options(config);
  if (check) {
    print_plan(options);
    return 0;
  }

  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto created = fh::LiveEngine::create(std::move(options), log);
  if (auto* err = std::get_if<std::string>(&created)) {
    log.error("start.failed", {{"error", *err}});
    return 1;
  }
  auto& engine = *std::get<std::unique_ptr<fh::LiveEngine>>(created);
  std::string error;
  if (!engine.load_metadata(error)) {
    log.error("metadata.failed", {{"error", error}});
    return 1;
  }
  log.info("start", {{"config", config_path}, {"mode", config.pipelined ? "pipelined" : "fused"},
                     {"ingest_core", config.ingest_core}, {"book_core", config.book_core}});
  const auto started = std::chrono::steady_clock::now();
  engine.run([&] {
    if (g_signal.load() != 0) return true;
    return duration_s > 0 && std::chrono::steady_clock::now() - started >=
                                 std::chrono::duration<double>(duration_s);
  });
  const auto& c = engine.counters();
  log.info("stop", {{"signal", g_signal.load()}, {"messages", c.sessions.messages},
                    {"reconnects", c.reconnects}, {"parse_errors", c.sessions.parse_errors},
                    {"recorded", c.recorded}, {"recorder_dropped", c.recorder_dropped}});
  if (summary) std::printf("%s\n", engine.summary_json().c_str());
  return 0;
}
