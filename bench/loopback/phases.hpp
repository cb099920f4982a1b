#pragma once
// The two feed-path measurements of the loopback bench, each against its own fh-venue process:
//   latency:    one connection at recorded pace (or scaled), per-frame stamps matched with
//               fh-venue's --send-log by frame number;
//   throughput: N connections at flat pace, all on one reactor thread (one ingest core).
#include <cstdint>
#include <string>
#include <vector>

#include "bench/loopback/latency_stats.hpp"
#include "bench/loopback/setup.hpp"
#include "feedhandler/book_builder.hpp"

namespace fh::bench::loopback {

struct LatencyResult {
  std::string pace;
  std::uint64_t received = 0;  // text messages on the connection
  std::uint64_t send_log = 0;  // frames fh-venue logged for connection 1
  bool counts_match = false;   // received == send_log == capture frames, frame numbers 1..n
  std::string mismatch;        // why not
  std::uint64_t parse_errors = 0;
  BookCounters books;
  Percentiles end_to_end, wire, ours;          // every frame
  Percentiles book_end_to_end, book_wire, book_ours; // book frames only
  std::uint64_t batches = 0, recv_completions = 0;
  std::string reactor; // receive mode and whether DEFER_TASKRUN is on (what the kernel gave)
};

struct ThroughputResult {
  std::uint32_t connections = 0;
  std::uint64_t frames = 0;    // received over all connections
  std::uint64_t send_log = 0;  // frames fh-venue logged over all connections
  bool counts_match = false;   // per connection: received == logged == capture frames
  std::string mismatch;
  std::uint64_t checksum_ok = 0, checksum_fail = 0, parse_errors = 0;
  double wall_s = 0;           // our subscribes sent -> last frame received
  double cpu_s = 0;            // ingest thread CPU over the same run (user + sys)
  double user_s = 0, sys_s = 0;
  double frames_per_s = 0, frames_per_cpu_s = 0;
  std::uint64_t batches = 0, recv_completions = 0, enobufs = 0;
};

struct PhaseContext {
  const CaptureInfo* cap;
  const test::TestCerts* certs;
  std::string work_dir;   // send logs and fh-venue logs
  double timeout_s = 120; // per phase, from the first connect
};

bool run_latency(const PhaseContext& ctx, const std::string& pace, LatencyResult& out, std::string& error);
bool run_throughput(const PhaseContext& ctx, std::uint32_t connections, ThroughputResult& out,
                    std::string& error);

} // namespace fh::bench::loopback
