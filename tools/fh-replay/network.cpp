#include "tools/fh-replay/network.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "feedhandler/capture.hpp"
#include "feedhandler/replay.hpp"
#include "tools/fh-replay/loopback_venue.hpp"
#include "feedhandler/replay_subscriptions.hpp"

namespace fh::replay {
namespace {

// fh-venue next to fh-replay in the build tree (tools/fh-replay/ and tools/fh-venue/) or in
// the same directory (installed side by side).
std::string default_venue_bin() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "fh-venue";
  for (const auto& candidate : {self.parent_path().parent_path() / "fh-venue" / "fh-venue",
                                self.parent_path() / "fh-venue"})
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  return "fh-venue";
}

} // namespace

std::variant<NetworkResult, std::string>
run_network(const std::vector<std::string>& inputs, const NetworkOptions& o, ControlLog& log) {
  // The offline loader says which venue each input is (and refuses unusable ones).
  ReplayOptions ro;
  ro.venue = o.venue;
  ro.progress = false;
  auto opened = Replay::open(inputs, ro);
  if (auto* err = std::get_if<std::string>(&opened)) return *err;
  const Replay& offline = *std::get<std::unique_ptr<Replay>>(opened);
  const Venue venue = offline.venue_of(0);
  for (std::uint32_t i = 1; i < inputs.size(); ++i)
    if (offline.venue_of(i) != venue)
      return std::string("--network serves one venue at a time (fh-venue): ") + inputs[0] +
             " and " + inputs[i] + " are different venues";

  std::vector<std::string> venue_args;
  if (o.speed > 0) venue_args.push_back("scale=" + std::to_string(o.speed));
  else venue_args.emplace_back("flat");
  venue_args.insert(venue_args.begin(), "--pace");
  for (const auto& f : o.faults) {
    venue_args.emplace_back("--fault");
    venue_args.push_back(f);
  }
  LoopbackVenue server;
  if (auto err = server.start(o.venue_bin.empty() ? default_venue_bin() : o.venue_bin, venue_args,
                              inputs);
      !err.empty())
    return err;
  log.info("venue.ready", {{"wss", server.wss_url()}, {"https", server.https_base()}});

  EngineOptions eo;
  for (const auto& path : inputs) {
    auto f = capture::CaptureFile::open(path);
    if (auto* err = std::get_if<capture::Error>(&f)) return err->message;
    const auto& file = std::get<capture::CaptureFile>(f);
    bool stream = false;
    for (const auto& r : file.records())
      if (r.kind == capture::RecordKind::WsText) {
        stream = true;
        break;
      }
    if (!stream) continue; // REST responses: fh-venue serves them
    std::string why;
    auto subs = recorded_subscriptions(venue, file, why);
    if (!subs) return why;
    const std::string base = is_binance(venue) ? server.wss_base() : server.wss_url();
    for (auto& plan : venues::plan_connections(venue, *subs, base)) {
      venues::SessionOptions so;
      so.venue = venue;
      so.plan = std::move(plan);
      so.rest_base = server.https_base();
      so.backoff.base_ms = 50; // loopback: reconnect fast, still jittered and capped
      so.backoff.min_ms = 20;
      so.backoff.cap_ms = 2000;
      so.backoff_seed = eo.sessions.size() + 1;
      eo.sessions.push_back(std::move(so));
    }
  }
  if (eo.sessions.empty()) return std::string("no WebSocket capture among the inputs");
  eo.metadata.emplace_back(venue, server.https_base());
  eo.tls.ca_file = server.ca_file();
  eo.pipelined = o.threaded;
  eo.ingest_core = o.parse_core;
  eo.book_core = o.book_core;
  eo.shm = o.shm;
  eo.record.directory = o.record_dir;

  auto created = LiveEngine::create(std::move(eo), log);
  if (auto* err = std::get_if<std::string>(&created)) return *err;
  auto engine = std::move(std::get<std::unique_ptr<LiveEngine>>(created));
  std::string error;
  if (!engine->load_metadata(error)) return error;

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(o.timeout_s);
  std::uint64_t last_seen = 0;
  auto quiet_since = Clock::now();
  std::string failure;
  engine->run([&] {
    const auto now = Clock::now();
    if (const std::uint64_t seen = engine->messages_seen(); seen != last_seen) {
      last_seen = seen;
      quiet_since = now;
    }
    if (server.done() && now - quiet_since >= std::chrono::milliseconds(o.quiet_ms)) return true;
    if (server.exited() >= 0) {
      failure = "fh-venue exited before the run ended";
      return true;
    }
    if (now > deadline) {
      failure = "timed out before fh-venue sent every recorded frame";
      return true;
    }
    return false;
  });
  server.stop();
  if (!failure.empty()) log.error("network.incomplete", {{"reason", failure}});
  return NetworkResult{std::move(engine), failure};
}

} // namespace fh::replay
