// Bybit legacy orderBookL2_25 (hot path): the order-id table and the book message handlers.
// See bybit_legacy.hpp for why the parser tracks ids and how its verdict reaches the builder.
#include "feedhandler/venues/bybit_legacy.hpp"

#include <utility>

#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {

namespace {

constexpr std::size_t kMask = BybitOrderIds::kCapacity - 1;
static_assert((BybitOrderIds::kCapacity & kMask) == 0, "capacity is a power of two");
constexpr unsigned kHashShift = [] {
  unsigned bits = 0;
  while ((std::size_t{1} << bits) < BybitOrderIds::kCapacity)
    ++bits;
  return 64U - bits;
}();
// Probes stay short below three quarters full; a topic needing more is refused, not grown.
constexpr std::size_t kMaxLive = BybitOrderIds::kCapacity / 4 * 3;

} // namespace

std::size_t BybitOrderIds::home(std::uint64_t id) noexcept {
  // Ids are prices times a power of ten (10543000 for 1054.30): multiplicative hashing spreads
  // their low-entropy low bits.
  return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ULL) >> kHashShift);
}

std::size_t BybitOrderIds::find(std::uint64_t id) const noexcept {
  std::size_t i = home(id);
  for (std::size_t probes = 0; probes < kCapacity; ++probes, i = (i + 1) & kMask) {
    if (!slots_[i].used)
      return kCapacity;
    if (slots_[i].id == id)
      return i;
  }
  return kCapacity;
}

void BybitOrderIds::clear() noexcept {
  if (size_ == 0)
    return;
  for (Slot &s : slots_)
    s.used = false;
  size_ = 0;
}

BybitOrderIds::Result BybitOrderIds::insert(std::uint64_t id, std::int64_t price,
                                            book::Side side) noexcept {
  if (find(id) != kCapacity)
    return Result::Exists;
  if (size_ >= kMaxLive)
    return Result::Full;
  std::size_t i = home(id);
  while (slots_[i].used)
    i = (i + 1) & kMask;
  slots_[i] = Slot{id, price, side, true};
  ++size_;
  return Result::Ok;
}

BybitOrderIds::Result BybitOrderIds::check(std::uint64_t id, std::int64_t price,
                                           book::Side side) const noexcept {
  const std::size_t i = find(id);
  if (i == kCapacity)
    return Result::Unknown;
  return slots_[i].price == price && slots_[i].side == side ? Result::Ok : Result::Mismatch;
}

BybitOrderIds::Result BybitOrderIds::erase(std::uint64_t id, std::int64_t price,
                                           book::Side side) noexcept {
  std::size_t i = find(id);
  if (i == kCapacity)
    return Result::Unknown;
  if (slots_[i].price != price || slots_[i].side != side)
    return Result::Mismatch;
  // Backward shift: move each later entry of the run into the hole unless its home lies
  // cyclically in (hole, entry], where it must stay to remain findable.
  for (std::size_t j = (i + 1) & kMask; slots_[j].used; j = (j + 1) & kMask) {
    const std::size_t k = home(slots_[j].id);
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i].used = false;
  --size_;
  return Result::Ok;
}

BybitLegacyTopic &BybitLegacyBooks::topic(std::uint32_t instrument) {
  if (instrument >= topics_.size())
    topics_.resize(static_cast<std::size_t>(instrument) + 1);
  auto &slot = topics_[instrument];
  if (!slot)
    slot = std::make_unique<BybitLegacyTopic>();
  return *slot;
}

namespace bybit_legacy {
namespace {

enum class Action : std::uint8_t { Snapshot, Delete, Update, Insert };

bool side_of(od::value &v, book::Side &side) noexcept {
  std::string_view s;
  if (!string_text(v, s))
    return false;
  if (s == "Buy")
    side = book::Side::Bid;
  else if (s == "Sell")
    side = book::Side::Ask;
  else
    return false;
  return true;
}

// One entry {"price","symbol","id","side"[,"size"]} -> one BookLevel, and its id checked
// against (and applied to) the topic's table.
ParseStatus parse_entry(od::value &entry_value, Action action, BookMessage &m) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  Event *e = push_event(m.out, EventType::BookLevel, m.venue, m.inst.id, m.recv_ts_ns);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  constexpr unsigned kPrice = 1U, kId = 2U, kSide = 4U, kSize = 8U;
  unsigned seen = 0;
  std::uint64_t id = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    if (key == "price") {
      if (!parse_price(scalar_text(v), m.inst, d))
        return ParseStatus::BadNumber;
      e->level.price = d.mantissa;
      e->level.price_text_dp = d.text_decimals;
      seen |= kPrice;
    } else if (key == "size") {
      if (!parse_qty(scalar_text(v), m.inst, d))
        return ParseStatus::BadNumber;
      e->level.qty = d.mantissa;
      e->level.qty_text_dp = d.text_decimals;
      seen |= kSize;
    } else if (key == "id") {
      if (!parse_u64(scalar_text(v), id))
        return ParseStatus::BadNumber;
      seen |= kId;
    } else if (key == "side") {
      if (!side_of(v, e->side))
        return ParseStatus::Malformed;
      seen |= kSide;
    } else if (key == "symbol") {
      std::string_view symbol;
      if (!string_text(v, symbol) || symbol != m.inst.native)
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if ((seen & (kPrice | kId | kSide)) != (kPrice | kId | kSide))
    return ParseStatus::Malformed;
  if (action == Action::Delete) {
    e->level.qty = 0; // deletes carry no size
    e->level.qty_text_dp = 0;
  } else if ((seen & kSize) == 0) {
    return ParseStatus::Malformed;
  }

  BybitOrderIds &ids = m.topic.ids;
  BybitOrderIds::Result r = BybitOrderIds::Result::Ok;
  switch (action) {
  case Action::Snapshot:
    r = ids.insert(id, e->level.price, e->side);
    if (r == BybitOrderIds::Result::Exists)
      return ParseStatus::Malformed; // a snapshot listing an id twice is no book
    if (r == BybitOrderIds::Result::Full)
      return ParseStatus::BatchOverflow;
    break;
  case Action::Insert:
    r = ids.insert(id, e->level.price, e->side);
    break;
  case Action::Update:
    r = ids.check(id, e->level.price, e->side);
    break;
  case Action::Delete:
    r = ids.erase(id, e->level.price, e->side);
    break;
  }
  if (r != BybitOrderIds::Result::Ok)
    m.consistent = false;
  ++m.levels;
  return ParseStatus::Ok;
}

ParseStatus parse_entries(od::value &list_value, Action action, BookMessage &m) noexcept {
  od::array list;
  if (list_value.get_array().get(list))
    return ParseStatus::Malformed;
  for (auto entry_result : list) {
    od::value entry;
    if (entry_result.get(entry))
      return ParseStatus::Malformed;
    const ParseStatus st = parse_entry(entry, action, m);
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

} // namespace

ParseStatus parse_book_data(od::value &data, BookMessage &m) noexcept {
  od::object lists;
  if (data.get_object().get(lists))
    return ParseStatus::Malformed;
  m.begin_index = m.out.size();
  if (push_event(m.out, EventType::BookBegin, m.venue, m.inst.id, m.recv_ts_ns) == nullptr)
    return ParseStatus::BatchOverflow;
  bool delta = false;
  for (auto field_result : lists) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    Action action = Action::Snapshot;
    if (key == "order_book") {
      if (m.snapshot || delta)
        return ParseStatus::Malformed;
      m.snapshot = true;
      // Whatever the table held is replaced; until this snapshot completes the topic is
      // untrusted.
      m.topic.broken = true;
      m.topic.ids.clear();
    } else if (key == "delete") {
      action = Action::Delete;
    } else if (key == "update") {
      action = Action::Update;
    } else if (key == "insert") {
      action = Action::Insert;
    } else {
      if (!walk(v, kWalkDepth))
        return ParseStatus::Malformed;
      continue;
    }
    if (action != Action::Snapshot) {
      if (m.snapshot)
        return ParseStatus::Malformed;
      delta = true;
    }
    const ParseStatus st = parse_entries(v, action, m);
    if (st != ParseStatus::Ok)
      return st;
  }
  return m.snapshot || delta ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus finish_book(BookMessage &m, bool type_snapshot, std::uint64_t cross_seq,
                        std::int64_t exch_ts_ns) noexcept {
  if (type_snapshot != m.snapshot)
    return ParseStatus::Malformed;
  Event *end = push_event(m.out, EventType::BookEnd, m.venue, m.inst.id, m.recv_ts_ns);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = exch_ts_ns;

  Event &begin = m.out[m.begin_index];
  begin.exch_ts_ns = exch_ts_ns;
  begin.begin.levels = m.levels;
  begin.begin.first_seq = cross_seq;
  begin.begin.last_seq = cross_seq;
  BybitLegacyTopic &t = m.topic;
  if (m.snapshot) {
    begin.flags = kFlagSnapshot | kFlagHasSeq;
    t.last_cross_seq = cross_seq;
    t.broken = false;
    return ParseStatus::Ok;
  }
  begin.flags = kFlagHasSeq;
  const bool in_order = !t.broken && m.consistent && cross_seq > t.last_cross_seq;
  begin.begin.prev_seq = in_order ? t.last_cross_seq : kBybitLegacyBroken;
  if (in_order)
    t.last_cross_seq = cross_seq;
  else
    t.broken = true;
  return ParseStatus::Ok;
}

} // namespace bybit_legacy
} // namespace fh::venues
