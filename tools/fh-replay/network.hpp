#pragma once
// `fh-replay --network`: the capture the long way. fh-venue serves the inputs on loopback
// over TLS + WebSocket (with --fault SPECs), and the real live engine (sessions, REST
// metadata and snapshots, reconnects, pipeline, shm, recording) connects to it with the
// subscriptions the recorded session made. The run ends once fh-venue has written every
// recorded frame and the feed has gone quiet.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "feedhandler/control_log.hpp"
#include "feedhandler/live_engine.hpp"

namespace fh::replay {

struct NetworkOptions {
  std::vector<std::string> faults;  // fh-venue --fault SPECs
  double speed = 0;                 // 0: flat out; else X times the recorded rate
  bool threaded = false;            // book builder on its own thread
  int parse_core = -1, book_core = -1;
  std::optional<ShmOutputOptions> shm;
  std::string record_dir;           // record what the session received (fhrec)
  std::string venue_bin;            // fh-venue; "" = next to this fh-replay
  double timeout_s = 600;
  std::int64_t quiet_ms = 300;      // after fh-venue is done: no new message for this long
  std::optional<Venue> venue;
};

struct NetworkResult {
  std::unique_ptr<LiveEngine> engine; // after its run: books, counters, summary
  std::string incomplete;             // why the run ended before fh-venue was done ("" if not)
};

// The run, or why it could not start.
std::variant<NetworkResult, std::string>
run_network(const std::vector<std::string>& inputs, const NetworkOptions& options, ControlLog& log);

} // namespace fh::replay
