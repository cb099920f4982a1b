// Hyperliquid frame parser (hot path). See hyperliquid.hpp for the channels and the events.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; the public entry points remove a failed message's events.
#include "feedhandler/venues/hyperliquid.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Trades };

Channel classify(std::string_view name) noexcept {
  if (name == "l2Book")
    return Channel::Book;
  if (name == "trades")
    return Channel::Trades;
  return Channel::Unknown;
}

// Hyperliquid times are Unix milliseconds (JSON integers).
bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

bool parse_positive_price(std::string_view t, const Instrument &inst,
                          book::ParsedDecimal &d) noexcept {
  return parse_price(t, inst, d) && d.mantissa > 0;
}
bool parse_non_negative_qty(std::string_view t, const Instrument &inst,
                            book::ParsedDecimal &d) noexcept {
  return parse_qty(t, inst, d) && d.mantissa >= 0;
}

// State of one frame being parsed; kept across passes (rewinds).
struct Frame {
  EventBatch &out;
  InstrumentRegistry &registry;
  const Instrument *inst; // the book's coin, once read
  std::int64_t recv_ts_ns;
  std::uint8_t snapshot_flags; // kFlagSnapshot, plus kFlagRest for the REST l2Book
  bool deferred;               // something was skipped that needs the coin: read again
  int book_reads;              // times the book object was entered (it is read at most twice)

  Event *push(EventType type, std::uint32_t instrument) noexcept {
    return push_event(out, type, Venue::Hyperliquid, instrument, recv_ts_ns);
  }

  ParseStatus resolve(od::value &v, const Instrument *&inst_out) noexcept {
    std::string_view coin;
    if (!string_text(v, coin) || coin.empty())
      return ParseStatus::Malformed;
    inst_out = registry.resolve(Venue::Hyperliquid, coin, &hyperliquid_default_instrument);
    return inst_out == nullptr ? ParseStatus::UnknownInstrument : ParseStatus::Ok;
  }
};

// One side: [{"n":5,"px":"105055.0","sz":"3.03622"}, ...] in wire order.
ParseStatus parse_side(od::value &side_value, book::Side side, Frame &f,
                       std::uint32_t &count) noexcept {
  od::array levels;
  if (side_value.get_array().get(levels))
    return ParseStatus::Malformed;
  for (auto level_result : levels) {
    od::object level;
    if (level_result.get_object().get(level))
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::BookLevel, f.inst->id);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    e->side = side;
    unsigned seen = 0;
    for (auto field_result : level) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      book::ParsedDecimal d{};
      if (key == "px") {
        if (!parse_positive_price(scalar_text(v), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.price = d.mantissa;
        e->level.price_text_dp = d.text_decimals;
        seen |= 1U;
      } else if (key == "sz") {
        if (!parse_non_negative_qty(scalar_text(v), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.qty = d.mantissa;
        e->level.qty_text_dp = d.text_decimals;
        seen |= 2U;
      } else if (key == "n") {
        std::uint64_t orders = 0;
        if (!parse_u64(scalar_text(v), orders) || orders > 0xffffffffULL)
          return ParseStatus::BadNumber;
        e->level.orders = static_cast<std::uint32_t>(orders);
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    if (seen != 3U)
      return ParseStatus::Malformed;
    ++count;
  }
  return ParseStatus::Ok;
}

// "levels": exactly [bids, asks].
ParseStatus parse_levels(od::value &levels_value, Frame &f, std::uint32_t &count) noexcept {
  od::array sides;
  if (levels_value.get_array().get(sides))
    return ParseStatus::Malformed;
  unsigned index = 0;
  for (auto side_result : sides) {
    od::value side;
    if (side_result.get(side) || index > 1)
      return ParseStatus::Malformed;
    const ParseStatus st =
        parse_side(side, index == 0 ? book::Side::Bid : book::Side::Ask, f, count);
    if (st != ParseStatus::Ok)
      return st;
    ++index;
  }
  return index == 2 ? ParseStatus::Ok : ParseStatus::Malformed;
}

// {coin, levels, time}: the l2Book data object, and the REST l2Book body. When "levels" comes
// before "coin" it is skipped and f.deferred set; the caller rewinds and calls again with
// the coin known (the second read takes only levels and time).
ParseStatus parse_book(od::value &book_value, Frame &f) noexcept {
  const int pass = f.book_reads++;
  od::object object;
  if (book_value.get_object().get(object))
    return ParseStatus::Malformed;
  std::size_t begin_index = 0;
  bool levels_seen = false;
  std::uint32_t count = 0;
  std::int64_t ts_ns = 0;
  for (auto field_result : object) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "levels") {
      if (f.inst == nullptr) {
        f.deferred = true;
        continue;
      }
      if (levels_seen)
        return ParseStatus::Malformed;
      levels_seen = true;
      begin_index = f.out.size();
      if (f.push(EventType::BookBegin, f.inst->id) == nullptr)
        return ParseStatus::BatchOverflow;
      const ParseStatus st = parse_levels(v, f, count);
      if (st != ParseStatus::Ok)
        return st;
    } else if (key == "time") {
      if (!parse_ms_to_ns(scalar_text(v), ts_ns))
        return ParseStatus::BadNumber;
    } else if (pass > 0) {
      continue; // checked on the first pass
    } else if (key == "coin") {
      if (f.inst != nullptr)
        return ParseStatus::Malformed;
      const ParseStatus st = f.resolve(v, f.inst);
      if (st != ParseStatus::Ok)
        return st;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (f.deferred && !levels_seen)
    return f.inst == nullptr ? ParseStatus::Malformed : ParseStatus::Ok; // read again
  if (!levels_seen)
    return ParseStatus::Malformed;
  f.deferred = false;
  Event *end = f.push(EventType::BookEnd, f.inst->id);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = f.out[begin_index];
  begin.flags = f.snapshot_flags;
  begin.exch_ts_ns = ts_ns;
  begin.begin.levels = count;
  return ParseStatus::Ok;
}

// One trade. Its fields are kept as text until the object ends, so their order (coin first on
// the wire) does not matter.
ParseStatus parse_trade(od::value &trade_value, Frame &f) noexcept {
  od::object trade;
  if (trade_value.get_object().get(trade))
    return ParseStatus::Malformed;
  std::string_view px;
  std::string_view sz;
  std::string_view tid;
  std::string_view time;
  const Instrument *inst = nullptr;
  std::uint8_t flags = 0;
  bool side_seen = false;
  for (auto field_result : trade) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "px") {
      px = scalar_text(v);
    } else if (key == "sz") {
      sz = scalar_text(v);
    } else if (key == "tid") {
      tid = scalar_text(v);
    } else if (key == "time") {
      time = scalar_text(v);
    } else if (key == "side") {
      std::string_view side;
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      if (side == "A")
        flags = kFlagBuyerIsMaker; // the seller hit the bid
      else if (side != "B")
        return ParseStatus::Malformed;
      side_seen = true;
    } else if (key == "coin") {
      if (inst != nullptr)
        return ParseStatus::Malformed;
      const ParseStatus st = f.resolve(v, inst);
      if (st != ParseStatus::Ok)
        return st;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (inst == nullptr || px.empty() || sz.empty() || !side_seen)
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Trade, inst->id);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->flags = flags;
  book::ParsedDecimal d{};
  if (!parse_positive_price(px, *inst, d))
    return ParseStatus::BadNumber;
  e->trade.price = d.mantissa;
  if (!parse_non_negative_qty(sz, *inst, d))
    return ParseStatus::BadNumber;
  e->trade.qty = d.mantissa;
  if ((!tid.empty() && !parse_u64(tid, e->trade.trade_id)) ||
      (!time.empty() && !parse_ms_to_ns(time, e->exch_ts_ns)))
    return ParseStatus::BadNumber;
  return ParseStatus::Ok;
}

ParseStatus parse_trades(od::value &data_value, Frame &f) noexcept {
  od::array data;
  if (data_value.get_array().get(data))
    return ParseStatus::Malformed;
  for (auto trade_result : data) {
    od::value trade;
    if (trade_result.get(trade))
      return ParseStatus::Malformed;
    const ParseStatus st = parse_trade(trade, f);
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

od::document iterate_or_error(od::parser &parser, std::string_view text, bool &ok) noexcept {
  od::document doc;
  ok = !parser
            .iterate(simdjson::padded_string_view(text.data(), text.size(),
                                                  text.size() + simdjson::SIMDJSON_PADDING))
            .get(doc);
  return doc;
}

// At most three passes: "data" may precede "channel", and "levels" may precede "coin".
constexpr int kMaxPasses = 3;

ParseStatus parse_frame(od::parser &parser, InstrumentRegistry &registry, std::string_view frame,
                        std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  bool ok = false;
  od::document doc = iterate_or_error(parser, frame, ok);
  if (!ok)
    return ParseStatus::Malformed;
  Frame f{out, registry, nullptr, recv_ts_ns, kFlagSnapshot, false, 0};
  Channel channel = Channel::Unknown;
  bool channel_seen = false;
  bool data_seen = false;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    f.deferred = false;
    od::object root;
    if (doc.get_object().get(root))
      return ParseStatus::Malformed;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      if (key == "data") {
        if (!channel_seen) {
          f.deferred = true; // skipped by the iterator, read once the channel is known
          continue;
        }
        if (channel == Channel::Unknown) {
          if (!walk(v, kWalkDepth))
            return ParseStatus::Malformed;
          continue;
        }
        if (data_seen && pass == 0)
          return ParseStatus::Malformed;
        data_seen = true;
        const ParseStatus st = channel == Channel::Book ? parse_book(v, f) : parse_trades(v, f);
        if (st != ParseStatus::Ok)
          return st;
      } else if (pass > 0) {
        continue; // checked on the first pass
      } else if (key == "channel") {
        std::string_view name;
        if (channel_seen || !string_text(v, name))
          return ParseStatus::Malformed;
        channel_seen = true;
        channel = classify(name);
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (!f.deferred || !channel_seen)
      break;
    doc.rewind();
  }
  if (!channel_seen)
    return ParseStatus::Malformed;
  if (channel == Channel::Unknown)
    return ParseStatus::Ignored; // subscriptionResponse, pong, error, channels we do not use
  return data_seen && !f.deferred ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_rest_book(od::parser &parser, InstrumentRegistry &registry, std::string_view body,
                            std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  bool ok = false;
  od::document doc = iterate_or_error(parser, body, ok);
  if (!ok)
    return ParseStatus::Malformed;
  Frame f{
      out,   registry, nullptr, recv_ts_ns, static_cast<std::uint8_t>(kFlagSnapshot | kFlagRest),
      false, 0};
  for (int pass = 0; pass < 2; ++pass) {
    od::value root;
    if (doc.get_value().get(root))
      return ParseStatus::Malformed;
    const ParseStatus st = parse_book(root, f);
    if (st != ParseStatus::Ok)
      return st;
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (!f.deferred)
      return ParseStatus::Ok;
    doc.rewind();
  }
  return ParseStatus::Malformed;
}

} // namespace

HyperliquidParser::HyperliquidParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus HyperliquidParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                     EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

ParseStatus HyperliquidParser::parse_rest_l2book(std::string_view body, std::int64_t recv_ts_ns,
                                                 EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_rest_book(parser_, *registry_, body, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
