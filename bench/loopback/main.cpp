// fh_loopback_bench: the feed path's latency and ingest throughput over loopback against
// fh-venue (a separate process on the same host) serving the real OKX books-l2-tbt capture
// over TLS + WebSocket, next to the kernel's loopback TCP one-way latency measured in the
// same run.
//   fh_loopback_bench [--quick] [--pace flat|recorded|scale=X] [--connections 8,32] [--rounds R]
//                     [--oneway-messages N --oneway-interval-us U] [--keep-dir DIR]
//                     [--ws FILE --http FILE]
// The kernel one-way baselines send one message per capture frame at the capture's own times
// (at the latency phase's pace), unless --oneway-messages/--oneway-interval-us ask for an even
// spacing (always so with --pace flat).
// Prints a table, then one JSON line (last line of stdout; field names are stable).
// Exit status: 0 measured and every count matched, 1 a count or checksum did not match,
// 2 bad arguments or the run could not be set up.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/loopback/kernel_oneway.hpp"
#include "bench/loopback/phases.hpp"

namespace {

using namespace fh::bench::loopback;

struct Args {
  bool quick = false;
  std::string pace = "scale=1.5"; // the 30 s capture in ~20 s
  std::vector<std::uint32_t> connections{8, 32};
  int rounds = 3; // throughput: each (connections, round) against a fresh fh-venue
  OnewayOptions oneway;
  bool oneway_even = false; // evenly spaced instead of the capture's schedule
  std::string keep_dir;
  std::string ws = std::string(FH_DATA_DIR) + "/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
  std::string http = std::string(FH_DATA_DIR) + "/okx/cryptofeed/instruments_2022-02-27_http.txt.gz";
};

[[noreturn]] void usage_exit() {
  std::fputs("usage: fh_loopback_bench [--quick] [--pace flat|recorded|scale=X] [--connections N,M,...]\n"
             "                         [--rounds R] [--oneway-messages N --oneway-interval-us U]\n"
             "                         [--keep-dir DIR]\n"
             "                         [--ws FILE --http FILE]\n",
             stderr);
  std::exit(2);
}

long to_long(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0) usage_exit();
  return v;
}

Args parse(int argc, char** argv) {
  Args a;
  bool pace_set = false, conns_set = false, rounds_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view s = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_exit();
      return argv[++i];
    };
    if (s == "--quick") a.quick = true;
    else if (s == "--pace") {
      a.pace = value();
      pace_set = true;
    } else if (s == "--connections") {
      a.connections.clear();
      std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        a.connections.push_back(static_cast<std::uint32_t>(to_long(list.substr(at, comma - at).c_str())));
        at = comma + 1;
      }
      conns_set = true;
    } else if (s == "--oneway-messages") {
      a.oneway.messages = static_cast<std::size_t>(to_long(value()));
      a.oneway_even = true;
    } else if (s == "--oneway-interval-us") {
      a.oneway.interval = std::chrono::microseconds(to_long(value()));
      a.oneway_even = true;
    } else if (s == "--rounds") {
      a.rounds = static_cast<int>(to_long(value()));
      rounds_set = true;
    }
    else if (s == "--keep-dir") a.keep_dir = value();
    else if (s == "--ws") a.ws = value();
    else if (s == "--http") a.http = value();
    else usage_exit();
  }
  if (a.quick) { // a few seconds: the smoke test
    if (!pace_set) a.pace = "scale=15";
    if (!conns_set) a.connections = {4};
    if (!rounds_set) a.rounds = 1;
  }
  return a;
}

// fh-venue's --pace as a speed factor; 0 for flat.
double pace_speed(const std::string& pace) {
  if (pace == "recorded") return 1;
  for (const char* prefix : {"scale=", "scaled:"})
    if (pace.rfind(prefix, 0) == 0) return std::strtod(pace.c_str() + std::strlen(prefix), nullptr);
  return 0;
}

double ratio(std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0; }

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::string error;
  const auto cap = read_capture(args.ws, args.http, error);
  if (!cap) {
    std::fprintf(stderr, "fh_loopback_bench: %s\n", error.c_str());
    return 2;
  }
  fh::test::TestCerts certs;
  if (!certs.error().empty()) {
    std::fprintf(stderr, "fh_loopback_bench: certificates: %s\n", certs.error().c_str());
    return 2;
  }
  PhaseContext ctx{&*cap, &certs, certs.file("work"), 0};
  if (!args.keep_dir.empty()) ctx.work_dir = args.keep_dir;
  std::filesystem::create_directories(ctx.work_dir);
  ctx.timeout_s = 60 + cap->seconds; // recorded pace, the slowest, takes the capture's length
  auto fail = [&](const char* phase) {
    std::fprintf(stderr, "fh_loopback_bench: %s: %s (work dir %s)\n", phase, error.c_str(), ctx.work_dir.c_str());
    return 2;
  };

  OnewayOptions oneway = args.oneway;
  const double speed = pace_speed(args.pace);
  if (!args.oneway_even && speed > 0)
    for (const std::int64_t t : cap->frame_offsets_ns)
      oneway.schedule_ns.push_back(static_cast<std::int64_t>(static_cast<double>(t) / speed));
  if (!oneway.schedule_ns.empty()) oneway.messages = oneway.schedule_ns.size();

  LatencyResult lat;
  if (!run_latency(ctx, args.pace, lat, error)) return fail("latency");
  auto kernel = tcp_oneway(oneway, OnewayReceiver::BlockingRecv);
  if (auto* e = std::get_if<std::string>(&kernel)) {
    error = *e;
    return fail("kernel one-way");
  }
  auto uring = tcp_oneway(oneway, OnewayReceiver::Uring);
  if (auto* e = std::get_if<std::string>(&uring)) {
    error = *e;
    return fail("io_uring one-way");
  }
  const Percentiles k = summarize(std::get<std::vector<std::int64_t>>(kernel));
  const Percentiles u = summarize(std::get<std::vector<std::int64_t>>(uring));
  std::vector<ThroughputResult> thr;
  for (const std::uint32_t n : args.connections)
    for (int r = 0; r < args.rounds; ++r) {
      ThroughputResult t;
      if (!run_throughput(ctx, n, t, error)) return fail("throughput");
      thr.push_back(t);
    }

  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  const std::string cpu = cpu_model(), kernel_rel = kernel_release();
  std::printf("fh_loopback_bench: %ld cores (%s), kernel %s; fh-venue runs on the same host and shares them;\n"
              "  nothing pinned. Capture %s: %zu frames, %.1f s recorded.\n",
              cores, cpu.c_str(), kernel_rel.c_str(), cap->ws_path.c_str(), cap->frames, cap->seconds);
  std::printf("\nLatency, one connection, --pace %s: %llu frames received, %llu in fh-venue's send log%s\n",
              lat.pace.c_str(), static_cast<unsigned long long>(lat.received),
              static_cast<unsigned long long>(lat.send_log), lat.counts_match ? " (match)" : "");
  if (!lat.counts_match) std::printf("  COUNT MISMATCH: %s\n", lat.mismatch.c_str());
  std::printf("  reactor: %s\n", lat.reactor.c_str());
  std::printf("  checksums %llu ok / %llu failed; %llu completion batches for %llu data completions\n",
              static_cast<unsigned long long>(lat.books.checksum_ok),
              static_cast<unsigned long long>(lat.books.checksum_fail), static_cast<unsigned long long>(lat.batches),
              static_cast<unsigned long long>(lat.recv_completions));
  print_header();
  print_row("venue write -> book updated (all frames)", lat.end_to_end);
  print_row("  venue write -> reactor receive", lat.wire);
  print_row("  reactor receive -> book updated", lat.ours);
  print_row("venue write -> book updated (book frames)", lat.book_end_to_end);
  print_row("  venue write -> reactor receive", lat.book_wire);
  print_row("  reactor receive -> book updated", lat.book_ours);
  if (oneway.schedule_ns.empty())
    std::printf("\nKernel loopback TCP one-way, same run: %zu messages of %zu B, one every %lld us\n",
                oneway.messages, oneway.bytes, static_cast<long long>(oneway.interval.count()));
  else
    std::printf("\nKernel loopback TCP one-way, same run: %zu messages of %zu B at the capture's frame times,\n"
                "  --pace %s (same bursts and gaps as the latency phase)\n",
                oneway.messages, oneway.bytes, args.pace.c_str());
  print_header();
  print_row("send -> blocking recv() returns", k);
  print_row("send -> io_uring reactor receive (no TLS)", u);
  const double r_e2e = ratio(lat.end_to_end.p50, k.p50), r_ours = ratio(lat.ours.p50, k.p50),
               r_wire = ratio(lat.wire.p50, u.p50);
  std::printf("  p50 ratios: end-to-end / kernel one-way %.2fx; our processing / kernel one-way %.2fx;\n"
              "              venue write -> reactor receive (TLS) / same without TLS %.2fx\n",
              r_e2e, r_ours, r_wire);
  std::printf("\nIngest throughput, --pace flat, all connections on ONE reactor thread:\n");
  std::printf("  %5s %9s %9s %8s %8s %8s %11s %13s %9s\n", "conns", "frames", "logged", "wall s", "cpu s",
              "sys s", "frames/s", "frames/cpu-s", "checksums");
  for (const auto& t : thr) {
    std::printf("  %5u %9llu %9llu %8.3f %8.3f %8.3f %11.0f %13.0f %5llu/%llu%s\n", t.connections,
                static_cast<unsigned long long>(t.frames), static_cast<unsigned long long>(t.send_log), t.wall_s,
                t.cpu_s, t.sys_s, t.frames_per_s, t.frames_per_cpu_s, static_cast<unsigned long long>(t.checksum_ok),
                static_cast<unsigned long long>(t.checksum_fail), t.counts_match ? "" : "  COUNT MISMATCH");
    if (!t.counts_match) std::printf("    %s\n", t.mismatch.c_str());
  }

  bool ok = lat.counts_match && lat.books.checksum_fail == 0 && lat.parse_errors == 0;
  std::string tj;
  for (const auto& t : thr) {
    ok = ok && t.counts_match && t.checksum_fail == 0 && t.parse_errors == 0;
    char buf[768];
    std::snprintf(buf, sizeof buf,
                  "%s{\"connections\":%u,\"frames\":%llu,\"send_log\":%llu,\"counts_match\":%s,\"wall_s\":%.4f,"
                  "\"cpu_s\":%.4f,\"user_s\":%.4f,\"sys_s\":%.4f,\"frames_per_s\":%.0f,\"frames_per_cpu_s\":%.0f,"
                  "\"checksum_ok\":%llu,\"checksum_fail\":%llu,\"batches\":%llu,\"recv_completions\":%llu,"
                  "\"enobufs\":%llu}",
                  tj.empty() ? "" : ",", t.connections, static_cast<unsigned long long>(t.frames),
                  static_cast<unsigned long long>(t.send_log), t.counts_match ? "true" : "false", t.wall_s, t.cpu_s,
                  t.user_s, t.sys_s, t.frames_per_s, t.frames_per_cpu_s,
                  static_cast<unsigned long long>(t.checksum_ok), static_cast<unsigned long long>(t.checksum_fail),
                  static_cast<unsigned long long>(t.batches), static_cast<unsigned long long>(t.recv_completions),
                  static_cast<unsigned long long>(t.enobufs));
    tj += buf;
  }
  std::printf("{\"mode\":\"loopback\",\"capture_frames\":%zu,\"latency\":{\"pace\":\"%s\",\"received\":%llu,"
              "\"send_log\":%llu,\"counts_match\":%s,\"checksum_ok\":%llu,\"checksum_fail\":%llu,"
              "\"end_to_end_ns\":%s,\"wire_ns\":%s,\"ours_ns\":%s,\"book_end_to_end_ns\":%s,"
              "\"book_wire_ns\":%s,\"book_ours_ns\":%s},\"kernel_tcp_oneway_ns\":%s,\"uring_tcp_oneway_ns\":%s,"
              "\"oneway_bytes\":%zu,\"oneway_schedule\":\"%s\",\"ratios_p50\":{\"end_to_end_over_kernel\":%.3f,\"ours_over_kernel\":%.3f,"
              "\"wire_over_uring_no_tls\":%.3f},\"throughput\":[%s],\"host\":{\"cores\":%ld,\"cpu\":\"%s\","
              "\"kernel\":\"%s\",\"reactor\":\"%s\",\"venue_same_host\":true,\"pinned\":false},\"ok\":%s}\n",
              cap->frames, json_escape(lat.pace).c_str(), static_cast<unsigned long long>(lat.received),
              static_cast<unsigned long long>(lat.send_log), lat.counts_match ? "true" : "false",
              static_cast<unsigned long long>(lat.books.checksum_ok),
              static_cast<unsigned long long>(lat.books.checksum_fail), to_json(lat.end_to_end).c_str(),
              to_json(lat.wire).c_str(), to_json(lat.ours).c_str(), to_json(lat.book_end_to_end).c_str(),
              to_json(lat.book_wire).c_str(), to_json(lat.book_ours).c_str(), to_json(k).c_str(),
              to_json(u).c_str(), oneway.bytes, oneway.schedule_ns.empty() ? "even" : "capture", r_e2e, r_ours, r_wire, tj.c_str(), cores,
              json_escape(cpu).c_str(), json_escape(kernel_rel).c_str(), json_escape(lat.reactor).c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}
