// KuCoin spot frame and REST level-2 snapshot parser (hot path). See kucoin.hpp for the shape.
//
// Everything is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; KucoinParser::parse removes a failed message's events. Numbers are read from the
// raw JSON tokens: strings ("242.649", "1613277183889") and bare numbers (sequenceStart) alike.
#include "feedhandler/venues/kucoin.hpp"

#include <limits>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Ticker, Match };

// "/market/level2:BCHSV-USDT" -> Book, "BCHSV-USDT".
Channel classify_topic(std::string_view topic, std::string_view &symbol) noexcept {
  const std::size_t colon = topic.find(':');
  if (colon == std::string_view::npos)
    return Channel::Unknown;
  const std::string_view prefix = topic.substr(0, colon);
  symbol = topic.substr(colon + 1);
  if (prefix == "/market/level2")
    return Channel::Book;
  if (prefix == "/market/ticker")
    return Channel::Ticker;
  if (prefix == "/market/match")
    return Channel::Match;
  return Channel::Unknown;
}

// KuCoin times: milliseconds (13 digits: ticker, level2, REST), nanoseconds (19 digits: match).
bool time_to_ns(std::string_view t, std::int64_t &out) noexcept {
  std::uint64_t v = 0;
  if (!parse_u64(t, v))
    return false;
  if (t.size() == 13) {
    out = static_cast<std::int64_t>(v) * 1'000'000;
    return true;
  }
  if (t.size() == 19 && v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(v);
    return true;
  }
  return false;
}

// The text of a string or number field (quotes removed); false for an object, an array or a
// literal, which no price, size, sequence or time can be.
bool scalar_field(od::value &v, std::string_view &out) noexcept {
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && is_space(raw.back()))
    raw.remove_suffix(1);
  if (raw.empty())
    return false;
  if (raw.front() == '"')
    return string_text(v, out);
  if (raw.front() == '[' || raw.front() == '{' || !is_json_atom(raw))
    return false;
  out = raw;
  return true;
}

// Best bid/ask text: "" means the side is empty (0).
bool parse_optional(std::string_view t, std::uint8_t decimals, std::int64_t &out) noexcept {
  if (t.empty()) {
    out = 0;
    return true;
  }
  book::ParsedDecimal d{};
  if (book::parse_decimal(t, decimals, d) != book::DecimalError::Ok)
    return false;
  out = d.mantissa;
  return true;
}

struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Kucoin, inst->id, recv_ts_ns);
  }
};

const Instrument *resolve(InstrumentRegistry &registry, std::string_view symbol) {
  return registry.resolve(Venue::Kucoin, symbol, &kucoin_default_instrument);
}

// The fields of "data" we may use, as texts; which ones were present. Converted once the topic
// says what the message is.
enum DataField : unsigned {
  kSymbol = 1U << 0,
  kSequence = 1U << 1,
  kSequenceStart = 1U << 2,
  kSequenceEnd = 1U << 3,
  kTime = 1U << 4,
  kBestBid = 1U << 5,
  kBestBidSize = 1U << 6,
  kBestAsk = 1U << 7,
  kBestAskSize = 1U << 8,
  kPrice = 1U << 9,
  kSize = 1U << 10,
  kSide = 1U << 11,
  kChanges = 1U << 12,
};

struct Data {
  bool present = false;   // "data" was an object
  unsigned seen = 0;      // DataField bits
  std::string_view symbol, sequence, sequence_start, sequence_end, time;
  std::string_view best_bid, best_bid_size, best_ask, best_ask_size, price, size, side;
  bool changes_deferred = false; // "changes" came before anything naming the symbol
  std::size_t begin_index = 0;   // the BookBegin pushed for "changes"
  std::uint32_t levels = 0;
  std::uint64_t min_change_seq = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_change_seq = 0;
};

// One side of "changes": [[price, size, sequence], ...]. A change priced 0 is a sequence marker
// (["0","0",seq]): checked, counted in the sequence range, no BookLevel.
ParseStatus parse_changes_side(od::value &side_value, book::Side side, Frame &f,
                               Data &d) noexcept {
  od::array changes;
  if (side_value.get_array().get(changes))
    return ParseStatus::Malformed;
  for (auto change_result : changes) {
    od::array change;
    if (change_result.get_array().get(change))
      return ParseStatus::Malformed;
    std::string_view text[3];
    unsigned index = 0;
    for (auto element_result : change) {
      od::value element;
      if (element_result.get(element))
        return ParseStatus::Malformed;
      if (index < 3) {
        if (!scalar_field(element, text[index]))
          return ParseStatus::Malformed;
      } else if (!walk(element, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
      ++index;
    }
    if (index < 3)
      return ParseStatus::Malformed;
    std::uint64_t seq = 0;
    if (!parse_u64(text[2], seq))
      return ParseStatus::Malformed;
    d.min_change_seq = seq < d.min_change_seq ? seq : d.min_change_seq;
    d.max_change_seq = seq > d.max_change_seq ? seq : d.max_change_seq;
    book::ParsedDecimal px{};
    book::ParsedDecimal qty{};
    if (!parse_price(text[0], *f.inst, px) || !parse_qty(text[1], *f.inst, qty))
      return ParseStatus::BadNumber;
    if (px.mantissa == 0)
      continue; // sequence marker
    Event *e = f.push(EventType::BookLevel);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    e->side = side;
    e->level.price = px.mantissa;
    e->level.qty = qty.mantissa;
    e->level.price_text_dp = px.text_decimals;
    e->level.qty_text_dp = qty.text_decimals;
    ++d.levels;
  }
  return ParseStatus::Ok;
}

ParseStatus parse_changes(od::value &changes_value, Frame &f, Data &d) noexcept {
  od::object changes;
  if (changes_value.get_object().get(changes))
    return ParseStatus::Malformed;
  unsigned sides = 0;
  for (auto field_result : changes) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    ParseStatus st = ParseStatus::Ok;
    if (key == "asks") {
      st = parse_changes_side(field.value(), book::Side::Ask, f, d);
      sides |= 1U;
    } else if (key == "bids") {
      st = parse_changes_side(field.value(), book::Side::Bid, f, d);
      sides |= 2U;
    } else if (!walk(field.value(), kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return sides == 3U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// Keeps a scalar field's text; a container under a name we know is not used (walked) and its
// bit stays clear, so only a message that needs it fails.
bool keep(od::value &v, std::string_view &text, unsigned bit, Data &d) noexcept {
  if (scalar_field(v, text)) {
    d.seen |= bit;
    return true;
  }
  return walk(v, kWalkDepth);
}

// "data": scalar texts are kept; "changes" is converted at once when the symbol is known (from
// data.symbol before it, or `known` on a second pass), else deferred.
ParseStatus parse_data(od::value &data_value, Data &d, InstrumentRegistry &registry, Frame &f,
                       const Instrument *known) noexcept {
  od::json_type type{};
  if (data_value.type().get(type))
    return ParseStatus::Malformed;
  if (type != od::json_type::object) // e.g. an error message's text
    return walk(data_value, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
  od::object data;
  if (data_value.get_object().get(data))
    return ParseStatus::Malformed;
  d.present = true;
  for (auto field_result : data) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "symbol") {
      ok = string_text(v, d.symbol);
      d.seen |= kSymbol;
    } else if (key == "sequenceStart") {
      ok = keep(v, d.sequence_start, kSequenceStart, d);
    } else if (key == "sequenceEnd") {
      ok = keep(v, d.sequence_end, kSequenceEnd, d);
    } else if (key == "sequence") {
      ok = keep(v, d.sequence, kSequence, d);
    } else if (key == "time") {
      ok = keep(v, d.time, kTime, d);
    } else if (key == "bestBid") {
      ok = keep(v, d.best_bid, kBestBid, d);
    } else if (key == "bestBidSize") {
      ok = keep(v, d.best_bid_size, kBestBidSize, d);
    } else if (key == "bestAsk") {
      ok = keep(v, d.best_ask, kBestAsk, d);
    } else if (key == "bestAskSize") {
      ok = keep(v, d.best_ask_size, kBestAskSize, d);
    } else if (key == "price") {
      ok = keep(v, d.price, kPrice, d);
    } else if (key == "size") {
      ok = keep(v, d.size, kSize, d);
    } else if (key == "side") {
      ok = keep(v, d.side, kSide, d);
    } else if (key == "changes") {
      if (d.seen & kChanges)
        return ParseStatus::Malformed;
      d.seen |= kChanges;
      const Instrument *inst = known;
      if (inst == nullptr && !d.symbol.empty()) {
        inst = resolve(registry, d.symbol);
        if (inst == nullptr)
          return ParseStatus::UnknownInstrument;
      }
      if (inst == nullptr) {
        d.changes_deferred = true; // skipped; the second pass knows the symbol
        continue;
      }
      f.inst = inst;
      d.begin_index = f.out.size();
      if (f.push(EventType::BookBegin) == nullptr)
        return ParseStatus::BatchOverflow;
      if (const ParseStatus st = parse_changes(v, f, d); st != ParseStatus::Ok)
        return st;
    } else {
      ok = walk(v, kWalkDepth);
    }
    if (!ok)
      return ParseStatus::Malformed;
  }
  return ParseStatus::Ok;
}

struct Root {
  std::string_view type, topic, subject;
  bool has_type = false, has_topic = false, has_data = false;
  Data data;
};

// One walk over the root object. With `known` (second pass), "changes" use that instrument.
ParseStatus walk_root(od::document &doc, InstrumentRegistry &registry, Frame &f,
                      const Instrument *known, Root &r) noexcept {
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
      if (r.has_data)
        return ParseStatus::Malformed;
      r.has_data = true;
      if (const ParseStatus st = parse_data(v, r.data, registry, f, known); st != ParseStatus::Ok)
        return st;
    } else if (key == "type") {
      if (!string_text(v, r.type))
        return ParseStatus::Malformed;
      r.has_type = true;
    } else if (key == "topic") {
      if (!string_text(v, r.topic))
        return ParseStatus::Malformed;
      r.has_topic = true;
    } else if (key == "subject") {
      if (!string_text(v, r.subject))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  // The whole document must have been consumed (nothing after the root object).
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;
  return r.has_type ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus finish_book(const Data &d, Frame &f) noexcept {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if ((d.seen & (kSequenceStart | kSequenceEnd)) != (kSequenceStart | kSequenceEnd) ||
      !parse_u64(d.sequence_start, first) || !parse_u64(d.sequence_end, last) || first > last)
    return ParseStatus::Malformed; // ids that are not ids cannot be chained
  // Every change is numbered inside the message's range.
  if (d.min_change_seq <= d.max_change_seq &&
      (d.min_change_seq < first || d.max_change_seq > last))
    return ParseStatus::Malformed;
  std::int64_t ts_ns = 0;
  if ((d.seen & kTime) && !time_to_ns(d.time, ts_ns))
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = f.out[d.begin_index];
  begin.flags = kFlagHasSeq;
  begin.exch_ts_ns = ts_ns;
  begin.begin.first_seq = first;
  begin.begin.last_seq = last;
  begin.begin.levels = d.levels;
  return ParseStatus::Ok;
}

// /market/ticker data: {"sequence":"..","bestAsk":..,"size":..,"bestBidSize":..,"price":..,
// "time":ms,"bestAskSize":..,"bestBid":..}. The sequence is the level-2 sequence the ticker
// was taken at: update_id, for the top-of-book cross-check.
ParseStatus finish_ticker(const Data &d, Frame &f) noexcept {
  constexpr unsigned kNeeded = kSequence | kBestBid | kBestBidSize | kBestAsk | kBestAskSize;
  if ((d.seen & kNeeded) != kNeeded)
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  if (!parse_u64(d.sequence, e->bbo.update_id))
    return ParseStatus::Malformed;
  if ((d.seen & kTime) && !time_to_ns(d.time, e->exch_ts_ns))
    return ParseStatus::Malformed;
  const std::uint8_t px_dp = f.inst->price_decimals;
  const std::uint8_t sz_dp = f.inst->qty_decimals;
  if (!parse_optional(d.best_bid, px_dp, e->bbo.bid_price) ||
      !parse_optional(d.best_bid_size, sz_dp, e->bbo.bid_qty) ||
      !parse_optional(d.best_ask, px_dp, e->bbo.ask_price) ||
      !parse_optional(d.best_ask_size, sz_dp, e->bbo.ask_qty))
    return ParseStatus::BadNumber;
  return ParseStatus::Ok;
}

// /market/match data: {"symbol":..,"sequence":"..","side":"buy|sell","size":..,"price":..,
// "takerOrderId":..,"time":"ns","type":"match","makerOrderId":..,"tradeId":"hex"}. `side` is
// the taker's.
ParseStatus finish_match(const Data &d, Frame &f) noexcept {
  constexpr unsigned kNeeded = kSequence | kPrice | kSize | kSide;
  if ((d.seen & kNeeded) != kNeeded)
    return ParseStatus::Malformed;
  if (d.side != "buy" && d.side != "sell")
    return ParseStatus::Malformed;
  book::ParsedDecimal px{};
  book::ParsedDecimal qty{};
  if (!parse_price(d.price, *f.inst, px) || !parse_qty(d.size, *f.inst, qty))
    return ParseStatus::BadNumber;
  Event *e = f.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  if (!parse_u64(d.sequence, e->trade.trade_id))
    return ParseStatus::BadNumber;
  if ((d.seen & kTime) && !time_to_ns(d.time, e->exch_ts_ns))
    return ParseStatus::BadNumber;
  e->trade.price = px.mantissa;
  e->trade.qty = qty.mantissa;
  if (d.side == "sell")
    e->flags = kFlagBuyerIsMaker;
  return ParseStatus::Ok;
}

ParseStatus parse_frame(od::parser &parser, InstrumentRegistry &registry, std::string_view frame,
                        std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  const std::size_t mark = out.size();
  Frame f{out, nullptr, recv_ts_ns};
  Root r;
  if (const ParseStatus st = walk_root(doc, registry, f, nullptr, r); st != ParseStatus::Ok)
    return st;
  std::string_view topic_symbol;
  const Channel channel =
      r.has_topic ? classify_topic(r.topic, topic_symbol) : Channel::Unknown;
  if (r.type != "message" || channel == Channel::Unknown) {
    out.truncate(mark); // welcome, ack, pong, candles, other topics
    return r.type == "message" && !r.has_topic ? ParseStatus::Malformed : ParseStatus::Ignored;
  }
  if (!r.data.present)
    return ParseStatus::Malformed;
  // The message's symbol: data.symbol where given (level2, match), else the topic's (ticker;
  // the all-symbols ticker names it in "subject").
  std::string_view symbol = (r.data.seen & kSymbol) ? r.data.symbol : topic_symbol;
  if (channel == Channel::Ticker && topic_symbol == "all")
    symbol = r.subject;
  if ((r.data.seen & kSymbol) && topic_symbol != "all" && r.data.symbol != topic_symbol)
    return ParseStatus::Malformed;
  if (symbol.empty())
    return ParseStatus::Malformed;

  if (channel == Channel::Book) {
    if (!(r.data.seen & kChanges))
      return ParseStatus::Malformed;
    if (r.data.changes_deferred) [[unlikely]] {
      // "changes" came before data.symbol and topic: read the message again knowing it.
      const Instrument *inst = resolve(registry, symbol);
      if (inst == nullptr)
        return ParseStatus::UnknownInstrument;
      out.truncate(mark);
      doc.rewind();
      r = Root{};
      if (const ParseStatus st = walk_root(doc, registry, f, inst, r); st != ParseStatus::Ok)
        return st;
      if (r.data.changes_deferred || !(r.data.seen & kChanges))
        return ParseStatus::Malformed;
    }
    return finish_book(r.data, f);
  }
  f.inst = resolve(registry, symbol);
  if (f.inst == nullptr)
    return ParseStatus::UnknownInstrument;
  return channel == Channel::Ticker ? finish_ticker(r.data, f) : finish_match(r.data, f);
}

// Levels of a REST snapshot: [price, size]; anything after the size is checked, not used.
struct SnapshotFrame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;
  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Kucoin, inst->id, recv_ts_ns);
  }
};

ParseStatus parse_snapshot_levels(od::value &side_value, book::Side side, SnapshotFrame &f,
                                  std::uint32_t &count) noexcept {
  return parse_book_side(side_value, side, f, 2, count,
                         [](unsigned, od::value &element, Event &) noexcept {
                           return walk(element, kWalkDepth) ? ParseStatus::Ok
                                                            : ParseStatus::Malformed;
                         });
}

// {"code":"200000","data":{"time":ms,"sequence":"..","bids":[[p,s],..],"asks":[[p,s],..]}}
ParseStatus parse_snapshot(od::parser &parser, const Instrument &inst, std::string_view body,
                           std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(body.data(), body.size(),
                                                body.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  od::object root;
  if (doc.get_object().get(root))
    return ParseStatus::Malformed;
  SnapshotFrame f{out, &inst, recv_ts_ns};
  std::size_t begin_index = 0;
  std::string_view code;
  std::uint64_t sequence = 0;
  std::int64_t ts_ns = 0;
  std::uint32_t levels = 0;
  unsigned seen = 0; // 1 code, 2 data, 4 sequence, 8 bids, 16 asks
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "code") {
      if (!string_text(v, code))
        return ParseStatus::Malformed;
      seen |= 1U;
    } else if (key == "data") {
      od::object data;
      if ((seen & 2U) || v.get_object().get(data))
        return ParseStatus::Malformed;
      seen |= 2U;
      begin_index = out.size();
      if (f.push(EventType::BookBegin) == nullptr)
        return ParseStatus::BatchOverflow;
      for (auto data_result : data) {
        od::field df;
        if (std::move(data_result).get(df))
          return ParseStatus::Malformed;
        const auto dkey = df.key();
        od::value &dv = df.value();
        ParseStatus st = ParseStatus::Ok;
        std::string_view text;
        if (dkey == "sequence") {
          if (!scalar_field(dv, text) || !parse_u64(text, sequence))
            return ParseStatus::Malformed;
          seen |= 4U;
        } else if (dkey == "time") {
          if (!scalar_field(dv, text) || !time_to_ns(text, ts_ns))
            return ParseStatus::Malformed;
        } else if (dkey == "bids") {
          st = parse_snapshot_levels(dv, book::Side::Bid, f, levels);
          seen |= 8U;
        } else if (dkey == "asks") {
          st = parse_snapshot_levels(dv, book::Side::Ask, f, levels);
          seen |= 16U;
        } else if (!walk(dv, kWalkDepth)) {
          st = ParseStatus::Malformed;
        }
        if (st != ParseStatus::Ok)
          return st;
      }
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;
  if (seen != 31U || code != "200000")
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = out[begin_index];
  begin.flags = kFlagSnapshot | kFlagRest | kFlagHasSeq;
  begin.exch_ts_ns = ts_ns;
  begin.begin.first_seq = sequence;
  begin.begin.last_seq = sequence;
  begin.begin.levels = levels;
  return ParseStatus::Ok;
}

} // namespace

KucoinParser::KucoinParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus KucoinParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

ParseStatus KucoinParser::parse_level2_snapshot(std::string_view body, std::string_view symbol,
                                                std::int64_t recv_ts_ns,
                                                EventBatch &out) noexcept {
  if (symbol.empty())
    return ParseStatus::UnknownInstrument;
  const Instrument *inst = resolve(*registry_, symbol);
  if (inst == nullptr)
    return ParseStatus::UnknownInstrument;
  const std::size_t mark = out.size();
  const ParseStatus st = parse_snapshot(parser_, *inst, body, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
