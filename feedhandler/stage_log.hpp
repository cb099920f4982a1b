#pragma once
// Optional per-message stage times for benchmarks (fh-bench e2e). Production sessions have
// none (a null pointer: one predictable branch per message, no clock read). When a bench hands
// a session one, the session stamps CLOCK_REALTIME when a message leaves the WebSocket layer
// (decrypted and framed) and when the parser is done; the socket completion and publish times
// are already in every journal record. Stamps go into storage the bench sized beforehand:
// nothing is allocated on the measured path, and messages beyond the capacity are not stamped.
#include <cstdint>
#include <vector>

namespace fh {

struct StageStamp {
  std::int64_t decrypted_ns = 0; // the WebSocket layer handed the message over
  std::int64_t parsed_ns = 0;    // the parser produced its events
};

struct StageLog {
  std::vector<StageStamp> stamps; // one per received text message, in order (sized by the bench)
  std::size_t count = 0;          // messages stamped so far
};

} // namespace fh
