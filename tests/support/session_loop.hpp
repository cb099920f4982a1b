#pragma once
// Drives one VenueSession from a test thread, the way an ingest thread does (reactor.run_once
// then session.on_tick), until the test's condition holds and the venue has been quiet for a
// while. fh-venue sends its capture and then waits, so "quiet" is how a test knows the stream
// (and any resync it triggered) is over; the deadline keeps a broken run from hanging.
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "shm/segment_file.hpp"
#include "tests/support/live_helpers.hpp"

namespace fh::test {

// True when `done()` held after `quiet` without a received message, keep-alive or REST
// snapshot; false when `limit` passed first.
template <class Session, class Done>
bool run_session_until(net::UringReactor& reactor, Session& session, Done done,
                       std::chrono::milliseconds quiet = std::chrono::milliseconds(500),
                       std::chrono::seconds limit = std::chrono::seconds(60)) {
  using Clock = std::chrono::steady_clock;
  Dispatch<std::remove_reference_t<decltype(session.connection())>> d{&session.connection()};
  const auto deadline = Clock::now() + limit;
  std::uint64_t last = ~std::uint64_t{0};
  auto quiet_since = Clock::now();
  while (Clock::now() < deadline) {
    reactor.run_once(d, std::chrono::milliseconds(5));
    session.on_tick(shm::realtime_ns());
    const auto& c = session.counters();
    const std::uint64_t seen = c.messages + c.keepalives_received + c.snapshots_fetched;
    const auto now = Clock::now();
    if (seen != last) {
      last = seen;
      quiet_since = now;
    } else if (now - quiet_since > quiet && done()) {
      return true;
    }
  }
  return false;
}

} // namespace fh::test
