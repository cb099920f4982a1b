#include "bench/fh-bench/e2e_mode.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "bench/fh-bench/latency_plot.hpp"
#include "bench/loopback/setup.hpp"
#include "bench/support/latency_histogram.hpp"
#include "feedhandler/live_engine.hpp"
#include "feedhandler/replay.hpp"
#include "feedhandler/stage_log.hpp"
#include "shm/reader.hpp"

namespace fh::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A received frame of the capture that yields a book message, in the order fh-venue serves.
struct BookFrame {
  std::size_t frame;   // 0-based among the received text frames
  std::int64_t exch_ts; // the venue's time in it: checks the journal match
};

std::optional<std::vector<BookFrame>> book_frames(const E2eArgs& a, std::string& error) {
  ReplayOptions ro;
  ro.progress = false;
  auto opened = Replay::open({a.ws, a.http}, ro);
  if (auto* e = std::get_if<std::string>(&opened)) {
    error = *e;
    return std::nullopt;
  }
  Replay& replay = *std::get<std::unique_ptr<Replay>>(opened);
  std::vector<BookFrame> out;
  std::size_t frame = 0;
  for (const auto& rec : replay.order()) {
    if (rec.kind != capture::RecordKind::WsText) continue;
    if (replay.parse_record(rec) == ParseStatus::Ok)
      for (const Event& e : replay.batch())
        if (e.type == EventType::BookBegin) {
          out.push_back({frame, e.exch_ts_ns});
          break;
        }
    ++frame;
  }
  return out;
}

// The reader process: follows the journal from its oldest record and stamps the moment it
// sees each book message's first record. Spins, yielding to the other threads now and then
// (this host has fewer cores than busy threads).
int reader_process(const std::string& segment, std::size_t expected, const std::string& out,
                   std::int64_t timeout_s) {
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  shm::Reader r;
  while (r.attach(segment) != shm::AttachError::Ok) {
    if (Clock::now() > deadline) return 3;
    ::usleep(500);
  }
  auto journal = r.journal(shm::JournalStart::Oldest);
  std::vector<std::int64_t> stamps(expected, 0);
  std::size_t n = 0;
  unsigned idle = 0;
  while (n < expected && Clock::now() < deadline) {
    const auto got = journal.poll(64, [&](const shm::JournalRecord& rec, std::uint64_t) {
      if (rec.type == static_cast<std::uint8_t>(shm::RecordType::BookBegin) && n < expected)
        stamps[n++] = shm::realtime_ns();
    });
    if (got.delivered != 0) {
      idle = 0;
    } else if ((++idle & 63) == 0) {
      ::sched_yield();
    } else {
      shm::seqlock::cpu_relax();
    }
  }
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(stamps.data()),
          static_cast<std::streamsize>(n * sizeof(std::int64_t)));
  return n == expected ? 0 : 4;
}

struct JournalBook {
  std::int64_t exch_ts, recv_ts, publish_ts;
};

std::vector<JournalBook> journal_books(const std::string& segment, std::string& error) {
  std::vector<JournalBook> out;
  shm::Reader r;
  if (r.attach(segment) != shm::AttachError::Ok) {
    error = r.error_message();
    return out;
  }
  auto journal = r.journal(shm::JournalStart::Oldest);
  for (;;) {
    const auto got = journal.poll(4096, [&](const shm::JournalRecord& rec, std::uint64_t) {
      if (rec.type == static_cast<std::uint8_t>(shm::RecordType::BookBegin))
        out.push_back({rec.exch_ts_ns, rec.recv_ts_ns, rec.publish_ts_ns});
    });
    if (got.lost != 0) error = "journal lapped: size it larger";
    if (got.delivered == 0) break;
  }
  return out;
}

// "recorded" -> 1, "scale=X" -> X, "flat" -> 0 (no schedule).
double pace_scale(const std::string& pace) {
  if (pace == "recorded") return 1;
  if (pace.rfind("scale=", 0) == 0) return std::atof(pace.c_str() + 6);
  return 0;
}

struct Stages {
  LatencyHistogram venue_to_socket, socket_to_decrypted, decrypted_to_parsed, parsed_to_published,
      socket_to_published, published_to_read, end_to_end, end_to_end_intended;
};

std::string percentiles_json(const LatencyHistogram& h) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"n\":%llu,\"p50\":%lld,\"p90\":%lld,\"p99\":%lld,\"p999\":%lld,\"max\":%lld}",
                static_cast<unsigned long long>(h.count()), static_cast<long long>(h.at(0.5)),
                static_cast<long long>(h.at(0.9)), static_cast<long long>(h.at(0.99)),
                static_cast<long long>(h.at(0.999)), static_cast<long long>(h.max()));
  return buf;
}

void print_row(const char* name, const LatencyHistogram& h) {
  std::printf("  %-28s %9.1f %9.1f %9.1f %9.1f %10.1f\n", name, static_cast<double>(h.at(0.5)) / 1e3,
              static_cast<double>(h.at(0.9)) / 1e3, static_cast<double>(h.at(0.99)) / 1e3,
              static_cast<double>(h.at(0.999)) / 1e3, static_cast<double>(h.max()) / 1e3);
}

struct PhaseResult {
  std::string json;
  Stages stages;
  bool ok = false;
};

PhaseResult run_phase(const E2eArgs& a, const std::string& pace, const loopback::CaptureInfo& cap,
                      const std::vector<BookFrame>& books, int index) {
  PhaseResult result;
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(index);
  const std::string segment = "fh-bench-e2e-" + tag;
  const std::string dir = "/tmp/fh-bench-e2e-" + tag;
  std::filesystem::create_directories(dir);
  const std::string stamps_path = dir + "/reader.bin", send_log = dir + "/send.log";
  const double scale = pace_scale(pace);
  const std::int64_t timeout_s =
      60 + static_cast<std::int64_t>(scale > 0 ? cap.seconds / scale : 0);

  // The reader first, before this process has threads: it waits for the segment.
  const pid_t reader = ::fork();
  if (reader == 0) ::_exit(reader_process(segment, books.size(), stamps_path, timeout_s));

  test::TestCerts certs;
  test::VenueProcess venue;
  std::string error = certs.error();
  if (error.empty())
    error = loopback::start_venue(venue, certs, cap, {pace, false, send_log, dir + "/venue.log"});
  std::optional<venues::ConnectionPlan> plan;
  if (error.empty()) plan = loopback::okx_plan(cap, venue.port(), error);
  std::unique_ptr<LiveEngine> engine;
  ControlLog log(LogLevel::Warn);
  StageLog stages;
  stages.stamps.resize(cap.frames + 64); // every served frame is one text message
  if (error.empty()) {
    EngineOptions eo;
    venues::SessionOptions so;
    so.venue = Venue::Okx;
    so.plan = std::move(*plan);
    const std::string https = "https://127.0.0.1:" + std::to_string(venue.port());
    so.rest_base = https;
    so.stage_log = &stages;
    eo.sessions.push_back(std::move(so));
    eo.metadata.emplace_back(Venue::Okx, https);
    eo.tls.ca_file = certs.ca();
    eo.pipelined = a.pipelined;
    ShmOutputOptions shm;
    shm.name = segment;
    shm.journal_capacity = 1u << 18;
    shm.mode = 0600;
    eo.shm = shm;
    auto created = LiveEngine::create(std::move(eo), log);
    if (auto* e = std::get_if<std::string>(&created)) error = *e;
    else engine = std::move(std::get<std::unique_ptr<LiveEngine>>(created));
  }
  if (engine && !engine->load_metadata(error)) engine.reset();
  if (engine) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    std::uint64_t last = 0;
    auto quiet_since = Clock::now();
    engine->run([&] {
      const auto now = Clock::now();
      if (const auto seen = engine->messages_seen(); seen != last) {
        last = seen;
        quiet_since = now;
      }
      return (last >= cap.frames && now - quiet_since > std::chrono::milliseconds(300)) ||
             now > deadline;
    });
  }
  venue.stop();
  int status = 0;
  if (!error.empty()) ::kill(reader, SIGTERM);
  ::waitpid(reader, &status, 0);
  if (error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    error = "the reader process did not see every book message (status " + std::to_string(status) + ")";

  std::vector<JournalBook> journal;
  if (error.empty()) journal = journal_books(segment, error);
  std::vector<std::int64_t> read_ns(books.size(), 0);
  if (error.empty()) {
    std::ifstream in(stamps_path, std::ios::binary);
    in.read(reinterpret_cast<char*>(read_ns.data()),
            static_cast<std::streamsize>(read_ns.size() * sizeof(std::int64_t)));
  }
  std::vector<std::int64_t> sent(cap.frames, 0);
  if (error.empty()) {
    auto log_records = loopback::read_send_log(send_log, error);
    if (log_records)
      for (const auto& r : *log_records)
        if (r.connection == 1 && r.frame >= 1 && r.frame <= sent.size()) sent[r.frame - 1] = r.realtime_ns;
  }
  std::size_t mismatched = 0;
  if (error.empty() && stages.count != cap.frames)
    error = "the session received " + std::to_string(stages.count) + " messages, fh-venue serves " +
            std::to_string(cap.frames);
  if (error.empty() && journal.size() != books.size())
    error = "journal has " + std::to_string(journal.size()) + " book messages, the capture " +
            std::to_string(books.size());
  if (error.empty()) {
    // The schedule fh-venue paces to: frame k is due at anchor + offset_k / scale, and is
    // never written before it is due, so the anchor is the earliest one consistent with all.
    std::int64_t anchor = INT64_MAX;
    if (scale > 0)
      for (std::size_t k = 0; k < cap.frames; ++k)
        if (sent[k] != 0)
          anchor = std::min(anchor, sent[k] - static_cast<std::int64_t>(
                                                  static_cast<double>(cap.frame_offsets_ns[k]) / scale));
    for (std::size_t i = 0; i < books.size(); ++i) {
      const std::size_t k = books[i].frame;
      const JournalBook& j = journal[i];
      if (j.exch_ts != books[i].exch_ts) ++mismatched;
      const std::int64_t intended =
          scale > 0 ? anchor + static_cast<std::int64_t>(static_cast<double>(cap.frame_offsets_ns[k]) / scale)
                    : sent[k];
      const StageStamp& st = stages.stamps[k];
      result.stages.venue_to_socket.record(j.recv_ts - sent[k]);
      result.stages.socket_to_decrypted.record(st.decrypted_ns - j.recv_ts);
      result.stages.decrypted_to_parsed.record(st.parsed_ns - st.decrypted_ns);
      result.stages.parsed_to_published.record(j.publish_ts - st.parsed_ns);
      result.stages.socket_to_published.record(j.publish_ts - j.recv_ts);
      result.stages.published_to_read.record(read_ns[i] - j.publish_ts);
      result.stages.end_to_end.record(read_ns[i] - sent[k]);
      result.stages.end_to_end_intended.record(read_ns[i] - intended);
    }
    if (mismatched != 0)
      error = std::to_string(mismatched) + " journal book messages do not match the capture's order";
  }
  std::error_code ec;
  std::filesystem::remove("/dev/shm/" + segment, ec);
  std::filesystem::remove_all(dir, ec);

  const Stages& s = result.stages;
  result.ok = error.empty();
  result.json = "{\"pace\":\"" + pace + "\",\"frames\":" + std::to_string(cap.frames) +
                ",\"book_frames\":" + std::to_string(books.size()) +
                ",\"matched\":" + std::to_string(result.ok ? books.size() : 0) +
                ",\"ok\":" + (result.ok ? "true" : "false");
  if (!result.ok) {
    std::fprintf(stderr, "fh-bench e2e (%s): %s\n", pace.c_str(), error.c_str());
    result.json += "}";
    return result;
  }
  result.json += ",\"stages_ns\":{\"venue_to_socket\":" + percentiles_json(s.venue_to_socket) +
                 ",\"socket_to_decrypted\":" + percentiles_json(s.socket_to_decrypted) +
                 ",\"decrypted_to_parsed\":" + percentiles_json(s.decrypted_to_parsed) +
                 ",\"parsed_to_published\":" + percentiles_json(s.parsed_to_published) +
                 ",\"socket_to_published\":" + percentiles_json(s.socket_to_published) +
                 ",\"published_to_read\":" + percentiles_json(s.published_to_read) +
                 ",\"end_to_end\":" + percentiles_json(s.end_to_end) +
                 ",\"end_to_end_from_intended\":" + percentiles_json(s.end_to_end_intended) + "}}";
  return result;
}

} // namespace

int run_e2e(const E2eArgs& a) {
  std::string error;
  auto cap = loopback::read_capture(a.ws, a.http, error);
  if (!cap) {
    std::fprintf(stderr, "fh-bench e2e: %s\n", error.c_str());
    return 2;
  }
  auto books = book_frames(a, error);
  if (!books || books->empty()) {
    std::fprintf(stderr, "fh-bench e2e: %s\n", error.empty() ? "no book messages" : error.c_str());
    return 2;
  }
  const unsigned cores = std::thread::hardware_concurrency();
  std::printf("fh-bench e2e: %s, %zu frames (%zu book messages), %s mode; %u cores shared by "
              "fh-venue, the feed handler and the reader process; nothing pinned\n",
              a.ws.c_str(), cap->frames, books->size(), a.pipelined ? "pipelined" : "fused", cores);
  std::string phases;
  std::vector<PlotSeries> plot;
  bool ok = true;
  int index = 0;
  for (const auto& pace : a.paces) {
    PhaseResult r = run_phase(a, pace, *cap, *books, index++);
    ok = ok && r.ok;
    if (!phases.empty()) phases += ',';
    phases += r.json;
    if (!r.ok) continue;
    std::printf("pace %s: us           p50       p90       p99     p99.9        max\n", pace.c_str());
    print_row("venue write -> socket", r.stages.venue_to_socket);
    print_row("socket -> decrypted (TLS+WS)", r.stages.socket_to_decrypted);
    print_row("decrypted -> parsed", r.stages.decrypted_to_parsed);
    print_row("parsed -> published (book+shm)", r.stages.parsed_to_published);
    print_row("socket -> published (shm)", r.stages.socket_to_published);
    print_row("published -> read (reader)", r.stages.published_to_read);
    print_row("venue write -> read", r.stages.end_to_end);
    print_row("intended send -> read", r.stages.end_to_end_intended);
    plot.push_back({pace + ": socket -> decrypted", r.stages.socket_to_decrypted});
    plot.push_back({pace + ": decrypted -> parsed", r.stages.decrypted_to_parsed});
    plot.push_back({pace + ": parsed -> published", r.stages.parsed_to_published});
    plot.push_back({pace + ": published -> read", r.stages.published_to_read});
    plot.push_back({pace + ": intended send -> read", r.stages.end_to_end_intended});
  }
  if (!a.plot.empty() && !plot.empty()) {
    if (write_latency_plot(a.plot, "fh-bench e2e: " + a.ws.substr(a.ws.find_last_of('/') + 1), plot))
      std::printf("plot: %s\n", a.plot.c_str());
    else
      std::fprintf(stderr, "fh-bench e2e: cannot write %s\n", a.plot.c_str());
  }
  std::printf("{\"mode\":\"e2e\",\"cores\":%u,\"cpu\":\"%s\",\"kernel\":\"%s\",\"pipelined\":%s,"
              "\"phases\":[%s],\"ok\":%s}\n",
              cores, loopback::cpu_model().c_str(), loopback::kernel_release().c_str(),
              a.pipelined ? "true" : "false", phases.c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}

int e2e_main(int argc, char** argv) {
  E2eArgs a;
  bool quick = false;
  std::vector<std::string> inputs;
  for (int i = 0; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fh-bench e2e: %s needs a value\n", s.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (s == "--pace") a.paces.push_back(value());
    else if (s == "--quick") quick = true;
    else if (s == "--pipelined") a.pipelined = true;
    else if (s == "--json") continue; // accepted like the other modes: the JSON line is always last
    else if (s == "--plot") a.plot = value();
    else if (!s.empty() && s[0] == '-') {
      std::fprintf(stderr, "fh-bench e2e: unknown option %s\n", s.c_str());
      return 2;
    } else inputs.push_back(s);
  }
  if (inputs.empty()) {
    inputs = {std::string(FH_DATA_DIR) + "/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
              std::string(FH_DATA_DIR) + "/okx/cryptofeed/instruments_2022-02-27_http.txt.gz"};
  }
  if (inputs.size() != 2) {
    std::fprintf(stderr, "fh-bench e2e: give the OKX ws capture and its instruments http file\n");
    return 2;
  }
  a.ws = inputs[0];
  a.http = inputs[1];
  if (a.paces.empty())
    a.paces = quick ? std::vector<std::string>{"scale=4", "flat"}
                    : std::vector<std::string>{"recorded", "scale=10", "flat"};
  return run_e2e(a);
}

} // namespace fh::bench
