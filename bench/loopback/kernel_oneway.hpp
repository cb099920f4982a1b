#pragma once
// The physical limit the feed path is compared with, measured in the same run: one-way latency
// of a small message over a plain TCP connection on 127.0.0.1 (no TLS, no WebSocket, no JSON).
// A sender thread writes `bytes`-byte messages every `interval`, each carrying CLOCK_REALTIME
// taken right before send(); the receiver stamps CLOCK_REALTIME when it has the message:
//   kernel: a blocking recv() (the textbook receiver),
//   uring:  the same UringReactor setup the feed client uses, raw TCP; its stamp is the one the
//           reactor hands to on_data (completion batch reaped), so it is directly comparable
//           with the feed path's "venue write -> reactor receive" split.
// Both sides sleep between messages, as fh-venue and the client do at recorded pace. With a
// schedule, message i leaves at start + schedule_ns[i]: the capture's own frame times at the
// latency phase's pace, so bursts and idle gaps (and the wake-ups they cost) are the same.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace fh::bench::loopback {

struct OnewayOptions {
  std::size_t messages = 4000;
  std::size_t bytes = 300; // about one TLS record of a median OKX frame (272 B + WS/TLS overhead)
  std::chrono::microseconds interval{2000};
  std::vector<std::int64_t> schedule_ns; // non-empty: send offsets, one per message (overrides both)
};

enum class OnewayReceiver { BlockingRecv, Uring };

// Latencies in ns (one per message), or the error text.
std::variant<std::vector<std::int64_t>, std::string> tcp_oneway(const OnewayOptions& options,
                                                                 OnewayReceiver receiver);

} // namespace fh::bench::loopback
