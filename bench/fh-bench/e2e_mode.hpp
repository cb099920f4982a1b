#pragma once
// fh-bench e2e: the whole live path on one host. fh-venue serves a real OKX capture over TLS +
// WebSocket on loopback (with --send-log), the feed handler's LiveEngine receives it and
// publishes into a shm segment, and a separate reader process follows the segment's journal.
// Every book message is followed from the venue's write to the reader seeing it:
//
//   venue write -> socket completion (journal recv_ts) -> decrypted (TLS + WebSocket framing
//   done; the session's stage stamp) -> parsed (events made) -> published (journal
//   publish_ts: book applied and shm written) -> read (the reader process's clock)
//
// Every clock is CLOCK_REALTIME. The decrypted/parsed stamps exist only because the bench
// hands the session a StageLog (feedhandler/stage_log.hpp); production sessions take no
// per-stage clock reads. "socket -> decrypted" includes the messages decrypted and handled
// before this one in the same receive (a burst shares one socket completion).
// Coordinated omission: at a paced rate every latency is also reported from the frame's
// *intended* send time (the schedule fh-venue paces to), so a stall that delays later frames
// is charged to them. Flat out has no schedule; there the actual write time is used.
#include <string>
#include <vector>

namespace fh::bench {

struct E2eArgs {
  std::vector<std::string> paces;  // fh-venue --pace values, one phase each
  std::string ws, http;            // the OKX capture and its instruments file
  bool pipelined = false;          // book builder on its own thread
  std::string plot;                // SVG file of the latency distribution ("" = none)
};

int run_e2e(const E2eArgs& args);

// `fh-bench e2e [--pace P]... [--quick] [--pipelined] [--plot FILE] [--json] [WS HTTP]`
// (argv after the mode). Default paces: recorded, scale=10, flat; --quick: scale=4, flat.
int e2e_main(int argc, char** argv);

} // namespace fh::bench
