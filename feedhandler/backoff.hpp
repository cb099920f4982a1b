#pragma once
// Reconnect delays: exponential backoff with "full jitter" (delay uniform in
// [0, min(cap, base * 2^attempt)]) so that many connections dropped together (a venue
// restart, a network blip) do not come back in lockstep and trip the venue's connection rate
// limit: the reconnect storm that peers' issue trackers are full of. A connection that stayed
// healthy for `healthy_after_ms` resets the attempt count. The random source is a small
// seeded generator (splitmix64) so tests are deterministic and nothing allocates.
#include <algorithm>
#include <cstdint>

namespace fh {

struct BackoffPolicy {
  std::int64_t base_ms = 250;
  std::int64_t cap_ms = 30'000;
  std::int64_t min_ms = 50;            // never reconnect faster than this
  std::int64_t healthy_after_ms = 60'000;
};

class Backoff {
public:
  explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = 0x9e3779b97f4a7c15ull) noexcept
      : policy_(policy), state_(seed) {}

  // Delay before the next attempt; counts the attempt.
  std::int64_t next_delay_ms() noexcept {
    const int shift = std::min(attempt_, 30);
    const std::int64_t ceiling =
        std::min(policy_.cap_ms, policy_.base_ms * (std::int64_t{1} << shift));
    ++attempt_;
    const auto span = static_cast<std::uint64_t>(std::max<std::int64_t>(ceiling, 1));
    const auto jittered = static_cast<std::int64_t>(random() % (span + 1));
    return std::max(policy_.min_ms, jittered);
  }

  // The connection has been up for `up_ms`: after a healthy stretch the next failure starts
  // from the base delay again.
  void on_connected_for(std::int64_t up_ms) noexcept {
    if (up_ms >= policy_.healthy_after_ms) attempt_ = 0;
  }
  void reset() noexcept { attempt_ = 0; }
  int attempts() const noexcept { return attempt_; }
  const BackoffPolicy& policy() const noexcept { return policy_; }

private:
  std::uint64_t random() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  BackoffPolicy policy_;
  std::uint64_t state_;
  int attempt_ = 0;
};

// Paces outgoing requests (subscribe messages, new connections) to a venue's limit: at most
// one per `interval_ms`, with no burst. A token bucket with a burst lets a reconnect flush
// several subscribes at once and trip limits counted over a rolling second.
class Pacer {
public:
  explicit Pacer(std::int64_t interval_ms) noexcept : interval_ns_(interval_ms * 1'000'000) {}
  // Earliest time (ns, caller's clock) the next request may go; reserve it when `now` allows.
  bool try_acquire(std::int64_t now_ns) noexcept {
    if (now_ns < next_ns_) return false;
    next_ns_ = now_ns + interval_ns_;
    return true;
  }
  std::int64_t next_allowed_ns() const noexcept { return next_ns_; }

private:
  std::int64_t interval_ns_;
  std::int64_t next_ns_ = 0;
};

} // namespace fh
