#pragma once
// Sequence-id trackers, one per venue rule (VENUE_RULES.md).
//
// Why this shape: each venue links its messages differently (Binance spot U == prev u + 1,
// Binance futures pu == prev u, OKX prevSeqId == prev seqId), and each has its own rule for
// the first message after a REST snapshot. A tracker is a few words of state and one inline
// check() per message returning a verdict: Apply (in sequence; `last` advances), Drop (older
// than the book or a duplicate: skip it, the book is still good) or Gap (the book can no
// longer be trusted: mark stale and resync). A Gap does not change the state; the caller
// resets or takes a new snapshot. Without a snapshot every message is a Gap, because the
// caller must buffer until it has one.
#include <cstdint>

namespace fh::book {

enum class SeqVerdict : std::uint8_t { Apply, Drop /*older than the book / duplicate*/, Gap };

inline constexpr const char *to_cstring(SeqVerdict v) noexcept {
  switch (v) {
  case SeqVerdict::Apply:
    return "apply";
  case SeqVerdict::Drop:
    return "drop";
  case SeqVerdict::Gap:
    return "gap";
  }
  return "?";
}

// Binance spot diff depth: U = first update id in the event, u = last.
// After on_snapshot(lastUpdateId): drop u <= lid; the first applied event must straddle
// lid + 1 (U <= lid + 1 <= u; U == lid + 1 is valid, see VENUE_RULES.md); U > lid + 1 is a
// Gap (snapshot too old). Then each event needs U == last u + 1; u <= last u is a Drop.
class BinanceSpotSequence {
public:
  void reset() noexcept { *this = BinanceSpotSequence{}; }
  void on_snapshot(std::uint64_t last_update_id) noexcept {
    last_ = last_update_id;
    has_snapshot_ = true;
    synced_ = false;
  }
  [[nodiscard]] SeqVerdict check(std::uint64_t first_U, std::uint64_t last_u) noexcept {
    if (!has_snapshot_) [[unlikely]]
      return SeqVerdict::Gap;
    if (synced_ && first_U == last_ + 1) [[likely]] {
      last_ = last_u;
      return SeqVerdict::Apply;
    }
    if (last_u <= last_)
      return SeqVerdict::Drop;
    if (!synced_ && first_U <= last_ + 1) {
      synced_ = true;
      last_ = last_u;
      return SeqVerdict::Apply;
    }
    return SeqVerdict::Gap;
  }
  std::uint64_t last() const noexcept { return last_; }
  bool has_snapshot() const noexcept { return has_snapshot_; }

private:
  std::uint64_t last_ = 0;
  bool has_snapshot_ = false;
  bool synced_ = false; // an event has been applied since the snapshot
};

// Binance USD-M / COIN-M futures: the `pu` chain. After on_snapshot(lid): drop u < lid; the
// first applied event must satisfy U <= lid <= u (no +1); U > lid is a Gap. Then pu == last u
// applies; u <= last u is a Drop; anything else is a Gap. U of consecutive events is NOT
// prev u + 1 (ids are shared across symbols), so U is never used after the first event.
class BinanceFuturesSequence {
public:
  void reset() noexcept { *this = BinanceFuturesSequence{}; }
  void on_snapshot(std::uint64_t last_update_id) noexcept {
    last_ = last_update_id;
    has_snapshot_ = true;
    synced_ = false;
  }
  [[nodiscard]] SeqVerdict check(std::uint64_t first_U, std::uint64_t last_u,
                                 std::uint64_t prev_u) noexcept {
    if (!has_snapshot_) [[unlikely]]
      return SeqVerdict::Gap;
    if (synced_) [[likely]] {
      if (prev_u == last_) [[likely]] {
        last_ = last_u;
        return SeqVerdict::Apply;
      }
      return last_u <= last_ ? SeqVerdict::Drop : SeqVerdict::Gap;
    }
    if (last_u < last_)
      return SeqVerdict::Drop;
    if (first_U <= last_) {
      synced_ = true;
      last_ = last_u;
      return SeqVerdict::Apply;
    }
    return SeqVerdict::Gap;
  }
  std::uint64_t last() const noexcept { return last_; }
  bool has_snapshot() const noexcept { return has_snapshot_; }

private:
  std::uint64_t last_ = 0;
  bool has_snapshot_ = false;
  bool synced_ = false;
};

// OKX seqId/prevSeqId (messages newer than our recordings). The snapshot has prevSeqId -1 and
// sets last = its seqId. An update applies when prevSeqId == last seqId (prevSeqId == seqId
// == last is the allowed "no change" message). seqId < prevSeqId means the venue reset its
// sequence: Gap. seqId <= last otherwise: Drop (old or duplicate). Anything else: Gap.
class OkxSequence {
public:
  void reset() noexcept { *this = OkxSequence{}; }
  void on_snapshot(std::int64_t seq_id) noexcept {
    last_ = seq_id;
    has_snapshot_ = true;
  }
  [[nodiscard]] SeqVerdict check(std::int64_t seq_id, std::int64_t prev_seq_id) noexcept {
    if (!has_snapshot_) [[unlikely]]
      return SeqVerdict::Gap;
    if (seq_id < prev_seq_id) [[unlikely]]
      return SeqVerdict::Gap;
    if (prev_seq_id == last_) [[likely]] {
      last_ = seq_id;
      return SeqVerdict::Apply;
    }
    return seq_id <= last_ ? SeqVerdict::Drop : SeqVerdict::Gap;
  }
  std::int64_t last() const noexcept { return last_; }
  bool has_snapshot() const noexcept { return has_snapshot_; }

private:
  std::int64_t last_ = 0;
  bool has_snapshot_ = false;
};

} // namespace fh::book
