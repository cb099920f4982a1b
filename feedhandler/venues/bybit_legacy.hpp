#pragma once
// Bybit legacy (2021, pre-v5) orderBookL2_25: the per-topic state the parser keeps and the
// handlers bybit.cpp calls for that topic.
//
// Why this shape: the legacy book is keyed by order-book entry id ("id":"10543000" for price
// 1054.30) with delete/update/insert lists, and its only venue oracle is that `cross_seq`
// increases per topic (VENUE_RULES.md); it is not +1 per message, so a lost message cannot be
// seen in it. Every entry in our capture carries its price (deletes too), so levels need no
// lookup. What the ids add is a second oracle: an update or delete must name an id the book
// holds, at the same price and side, and an insert a new one (our capture: 0 violations in
// 3,252 deltas). A lost insert or delete shows up at the next message touching that id. So the
// parser keeps, per topic, the live ids in a fixed open-addressing table (allocated on the
// topic's first sight, never resized) plus the last cross_seq, and tells the builder its verdict
// through the StreamSnapshot chain: BookBegin has kFlagHasSeq, first_seq = last_seq =
// cross_seq and prev_seq = the topic's previous cross_seq, which the builder applies; or
// prev_seq = kBybitLegacyBroken, which no sequence can follow (the builder counts a gap and
// marks the book stale until the next snapshot), when cross_seq did not increase, an id
// contradicts the book, or a message of the topic could not be parsed since the snapshot.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <simdjson.h>

#include "book/types.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

// prev_seq of a legacy delta that must not apply: greater than any cross_seq, so the builder's
// chain (which takes a sequence below its prev as a reset) reports a gap.
inline constexpr std::uint64_t kBybitLegacyBroken =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// Live entry ids of one topic -> (price mantissa, side). Fixed capacity, linear probing with
// backward-shift deletion (no tombstones, so a long session never degrades it).
class BybitOrderIds {
public:
  // orderBookL2_25 holds 50 ids; 512 slots also fit the 400 of the legacy orderBook_200.
  static constexpr std::size_t kCapacity = 512;
  enum class Result : std::uint8_t { Ok, Unknown, Exists, Mismatch, Full };

  void clear() noexcept;
  [[nodiscard]] Result insert(std::uint64_t id, std::int64_t price, book::Side side) noexcept;
  // An update: the id must be live at this price and side.
  [[nodiscard]] Result check(std::uint64_t id, std::int64_t price, book::Side side) const noexcept;
  [[nodiscard]] Result erase(std::uint64_t id, std::int64_t price, book::Side side) noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  struct Slot {
    std::uint64_t id;
    std::int64_t price;
    book::Side side;
    bool used;
  };
  static std::size_t home(std::uint64_t id) noexcept;
  // Slot holding `id`, or kCapacity.
  std::size_t find(std::uint64_t id) const noexcept;

  std::array<Slot, kCapacity> slots_{};
  std::size_t size_ = 0;
};

struct BybitLegacyTopic {
  BybitOrderIds ids;
  std::uint64_t last_cross_seq = 0;
  bool broken = true; // no snapshot yet, or the book cannot be trusted until the next one
};

// The topics of one parser, indexed by instrument id.
class BybitLegacyBooks {
public:
  // The topic of an instrument, created on its first sight (the one allocation per topic).
  BybitLegacyTopic &topic(std::uint32_t instrument);
  // The topic if it was ever seen, else nullptr. Never allocates.
  [[nodiscard]] BybitLegacyTopic *find(std::uint32_t instrument) const noexcept {
    return instrument < topics_.size() ? topics_[instrument].get() : nullptr;
  }

private:
  std::vector<std::unique_ptr<BybitLegacyTopic>> topics_;
};

namespace bybit_legacy {

// One orderBookL2_25 message while it is walked. `begin_index` is the BookBegin pushed by
// parse_book_data, patched by finish_book.
struct BookMessage {
  EventBatch &out;
  const Instrument &inst;
  Venue venue;
  std::int64_t recv_ts_ns;
  BybitLegacyTopic &topic;
  std::size_t begin_index = 0;
  std::uint32_t levels = 0;
  bool snapshot = false;  // the data held "order_book"
  bool consistent = true; // every id agreed with the topic's table
};

// `data` of the message: {"order_book":[...]} (snapshot) or {"delete":[...],"update":[...],
// "insert":[...]} (delta), entries {"price","symbol","id","side"[,"size"]}, applied in wire
// order. Pushes the BookBegin and one BookLevel per entry (delete: size 0).
[[nodiscard]] ParseStatus parse_book_data(simdjson::ondemand::value &data, BookMessage &m) noexcept;

// After the whole message: its `type` ("snapshot"/"delta", must match the data), `cross_seq`
// and engine time. Sets the BookBegin's flags and sequence ids, updates the topic and pushes
// the BookEnd.
[[nodiscard]] ParseStatus finish_book(BookMessage &m, bool type_snapshot, std::uint64_t cross_seq,
                                      std::int64_t exch_ts_ns) noexcept;

} // namespace bybit_legacy
} // namespace fh::venues
