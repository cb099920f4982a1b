// Gate.io v4 spot frame and REST snapshot parser (hot path). See gateio.hpp for the shape.
//
// Everything is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; GateIoParser::parse removes a failed message's events. Numbers are read from the
// raw JSON tokens: strings ("0.0018697") and bare numbers (U, u, t, id) alike.
#include "feedhandler/venues/gateio.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Trades, Tickers };

Channel classify(std::string_view name) noexcept {
  if (name == "spot.order_book_update")
    return Channel::Book;
  if (name == "spot.trades")
    return Channel::Trades;
  if (name == "spot.tickers")
    return Channel::Tickers;
  return Channel::Unknown;
}

// Unix seconds (10 digits until 2286) and milliseconds (13 digits) -> ns, inside int64.
bool seconds_to_ns(std::string_view t, std::int64_t &out) noexcept {
  std::uint64_t s = 0;
  if (t.size() > 10 || !parse_u64(t, s))
    return false;
  out = static_cast<std::int64_t>(s) * 1'000'000'000;
  return true;
}
bool ms_to_ns(std::string_view t, std::int64_t &out) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}
// spot.trades create_time_ms: milliseconds with a fraction ("1619093543708.2642"). Digits past
// the nanosecond (6th fractional) are checked and dropped: a receive-side timestamp, not a price.
bool ms_fraction_to_ns(std::string_view t, std::int64_t &out) noexcept {
  const std::size_t dot = t.find('.');
  std::int64_t ns = 0;
  if (!ms_to_ns(t.substr(0, dot), ns))
    return false;
  if (dot != std::string_view::npos) {
    const std::string_view frac = t.substr(dot + 1);
    if (frac.empty())
      return false;
    std::int64_t sub = 0;
    for (std::size_t i = 0; i < frac.size(); ++i) {
      if (!is_digit(frac[i]))
        return false;
      if (i < 6)
        sub = sub * 10 + (frac[i] - '0');
    }
    for (std::size_t i = frac.size(); i < 6; ++i)
      sub *= 10;
    ns += sub;
  }
  out = ns;
  return true;
}

// The text of a string or number field (quotes removed); false for an object, an array or a
// literal, which no price or amount can be.
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

// Best bid/ask text: "" means the side is empty (price 0).
bool parse_optional_price(std::string_view t, const Instrument &inst, std::int64_t &out) noexcept {
  if (t.empty()) {
    out = 0;
    return true;
  }
  book::ParsedDecimal d{};
  if (!parse_price(t, inst, d))
    return false;
  out = d.mantissa;
  return true;
}

// What a walk over the root learned. A second pass (fields in an unusual order) starts from it.
struct Known {
  Channel channel = Channel::Unknown;
  bool have_channel = false;
  bool update = false; // event == "update": the only event that carries market data
  bool have_event = false;
  const Instrument *book_inst = nullptr; // the pair of a book update ("s")
  std::int64_t time_ns = 0;              // root "time" (seconds): the push time
};

// State of one message being parsed.
struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::GateIo, inst->id, recv_ts_ns);
  }
};

// Levels are [price, amount]; anything after the amount is checked to be JSON and not used.
ParseStatus parse_levels(od::value &side_value, book::Side side, Frame &f,
                         std::uint32_t &count) noexcept {
  return parse_book_side(side_value, side, f, 2, count,
                         [](unsigned, od::value &element, Event &) noexcept {
                           return walk(element, kWalkDepth) ? ParseStatus::Ok
                                                            : ParseStatus::Malformed;
                         });
}

const Instrument *resolve(InstrumentRegistry &registry, std::string_view pair) {
  return registry.resolve(Venue::GateIo, pair, &gateio_default_instrument);
}

// spot.order_book_update result: {"t":ms,"e":"depthUpdate","E":s,"s":pair,"U":first,"u":last,
// "b":[[p,a],..],"a":[[p,a],..]}. The BookBegin is pushed when the pair is known and patched at
// the end; level arrays met before the pair set `again` (second pass with k.book_inst).
ParseStatus parse_book_result(od::value &result_value, Known &k, InstrumentRegistry &registry,
                              Frame &f, bool &again) noexcept {
  od::object result;
  if (result_value.get_object().get(result))
    return ParseStatus::Malformed;
  std::size_t begin_index = f.out.size();
  f.inst = k.book_inst;
  if (f.inst != nullptr && f.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;

  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::int64_t ts_ns = 0;
  std::uint32_t levels = 0;
  unsigned seen = 0; // 1 s, 2 U, 4 u, 8 b, 16 a
  bool deferred = false;
  for (auto field_result : result) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "s") {
      std::string_view pair;
      if (!string_text(v, pair) || pair.empty())
        return ParseStatus::Malformed;
      if (f.inst != nullptr) {
        if (pair != f.inst->native)
          return ParseStatus::Malformed; // second pass sees another pair: not the same text
      } else {
        f.inst = resolve(registry, pair);
        if (f.inst == nullptr)
          return ParseStatus::UnknownInstrument;
        k.book_inst = f.inst;
        begin_index = f.out.size();
        if (f.push(EventType::BookBegin) == nullptr)
          return ParseStatus::BatchOverflow;
      }
      seen |= 1U;
    } else if (key == "U") {
      if (!parse_u64(scalar_text(v), first))
        return ParseStatus::Malformed; // an id that is not one cannot be chained
      seen |= 2U;
    } else if (key == "u") {
      if (!parse_u64(scalar_text(v), last))
        return ParseStatus::Malformed;
      seen |= 4U;
    } else if (key == "t") {
      if (!ms_to_ns(scalar_text(v), ts_ns))
        return ParseStatus::Malformed;
    } else if (key == "b" || key == "a") {
      const bool bids = key == "b";
      seen |= bids ? 8U : 16U;
      if (f.inst == nullptr) {
        deferred = true; // levels before the pair: parse them on the second pass
        continue;
      }
      st = parse_levels(v, bids ? book::Side::Bid : book::Side::Ask, f, levels);
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  if (seen != 31U || first > last)
    return ParseStatus::Malformed;
  if (deferred) {
    again = true;
    return ParseStatus::Ok;
  }
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = f.out[begin_index];
  begin.flags = kFlagHasSeq;
  begin.exch_ts_ns = ts_ns;
  begin.begin.first_seq = first;
  begin.begin.last_seq = last;
  begin.begin.levels = levels;
  return ParseStatus::Ok;
}

// spot.trades result: {"id":n,"create_time":s,"create_time_ms":"ms.frac","side":"buy|sell",
// "currency_pair":pair,"amount":"a","price":"p"}. `side` is the taker's side. The texts are
// kept (views into the frame) and converted once the pair, hence the scales, is known.
ParseStatus parse_trade_result(od::value &result_value, InstrumentRegistry &registry,
                               Frame &f) noexcept {
  od::object result;
  if (result_value.get_object().get(result))
    return ParseStatus::Malformed;
  std::string_view pair, price, amount, side;
  std::uint64_t id = 0;
  std::int64_t ts_ns = 0;
  std::int64_t ts_s_ns = 0;
  unsigned seen = 0; // 1 pair, 2 price, 4 amount, 8 side, 16 id
  for (auto field_result : result) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "currency_pair") {
      if (!string_text(v, pair))
        return ParseStatus::Malformed;
      seen |= 1U;
    } else if (key == "price") {
      if (!scalar_field(v, price))
        return ParseStatus::Malformed;
      seen |= 2U;
    } else if (key == "amount") {
      if (!scalar_field(v, amount))
        return ParseStatus::Malformed;
      seen |= 4U;
    } else if (key == "side") {
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      seen |= 8U;
    } else if (key == "id") {
      if (!parse_u64(scalar_text(v), id))
        return ParseStatus::BadNumber;
      seen |= 16U;
    } else if (key == "create_time_ms") {
      if (!ms_fraction_to_ns(scalar_text(v), ts_ns))
        return ParseStatus::BadNumber;
    } else if (key == "create_time") {
      if (!seconds_to_ns(scalar_text(v), ts_s_ns))
        return ParseStatus::BadNumber;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (seen != 31U || pair.empty())
    return ParseStatus::Malformed;
  if (side != "buy" && side != "sell")
    return ParseStatus::Malformed;
  f.inst = resolve(registry, pair);
  if (f.inst == nullptr)
    return ParseStatus::UnknownInstrument;
  book::ParsedDecimal px{};
  book::ParsedDecimal qty{};
  if (!parse_price(price, *f.inst, px) || !parse_qty(amount, *f.inst, qty))
    return ParseStatus::BadNumber;
  Event *e = f.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->trade.price = px.mantissa;
  e->trade.qty = qty.mantissa;
  e->trade.trade_id = id;
  e->exch_ts_ns = ts_ns != 0 ? ts_ns : ts_s_ns;
  if (side == "sell")
    e->flags = kFlagBuyerIsMaker;
  return ParseStatus::Ok;
}

// spot.tickers result: {"currency_pair":pair,"last":..,"lowest_ask":p,"highest_bid":p,...}.
// Gate's ticker has no sizes and no book id: a Bbo with prices only (sizes 0, update_id 0).
ParseStatus parse_ticker_result(od::value &result_value, InstrumentRegistry &registry,
                                Frame &f) noexcept {
  od::object result;
  if (result_value.get_object().get(result))
    return ParseStatus::Malformed;
  std::string_view pair, bid, ask;
  unsigned seen = 0; // 1 pair, 2 bid, 4 ask
  for (auto field_result : result) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "currency_pair") {
      if (!string_text(v, pair))
        return ParseStatus::Malformed;
      seen |= 1U;
    } else if (key == "highest_bid") {
      if (!scalar_field(v, bid))
        return ParseStatus::Malformed;
      seen |= 2U;
    } else if (key == "lowest_ask") {
      if (!scalar_field(v, ask))
        return ParseStatus::Malformed;
      seen |= 4U;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (seen != 7U || pair.empty())
    return ParseStatus::Malformed;
  f.inst = resolve(registry, pair);
  if (f.inst == nullptr)
    return ParseStatus::UnknownInstrument;
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  if (!parse_optional_price(bid, *f.inst, e->bbo.bid_price) ||
      !parse_optional_price(ask, *f.inst, e->bbo.ask_price))
    return ParseStatus::BadNumber;
  return ParseStatus::Ok;
}

// One walk over the root object. Pass 1 (second_pass false) reads channel, event and time and
// parses "result" when they came first; otherwise it sets `again`, and so does a book result
// whose levels came before its pair. Pass 2 parses only "result", with what pass 1 learned.
ParseStatus parse_root(od::document &doc, InstrumentRegistry &registry, Known &k, Frame &f,
                       bool second_pass, bool &again) noexcept {
  od::object root;
  if (doc.get_object().get(root))
    return ParseStatus::Malformed;
  bool result_seen = false;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "result") {
      if (result_seen)
        return ParseStatus::Malformed;
      result_seen = true;
      if (!second_pass && (!k.have_channel || !k.have_event)) {
        again = true; // cold: "result" before "channel"/"event"
        continue;
      }
      ParseStatus st = ParseStatus::Ok;
      if (k.channel == Channel::Unknown || !k.update) {
        if (!walk(v, kWalkDepth))
          st = ParseStatus::Malformed;
      } else if (k.channel == Channel::Book) {
        st = parse_book_result(v, k, registry, f, again);
      } else if (k.channel == Channel::Trades) {
        st = parse_trade_result(v, registry, f);
      } else {
        st = parse_ticker_result(v, registry, f);
      }
      if (st != ParseStatus::Ok)
        return st;
    } else if (second_pass) {
      continue; // read on the first pass
    } else if (key == "channel") {
      std::string_view name;
      if (!string_text(v, name))
        return ParseStatus::Malformed;
      k.channel = classify(name);
      k.have_channel = true;
    } else if (key == "event") {
      std::string_view event;
      if (!string_text(v, event))
        return ParseStatus::Malformed;
      k.update = event == "update";
      k.have_event = true;
    } else if (key == "time") {
      if (!seconds_to_ns(scalar_text(v), k.time_ns))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  // The whole document must have been consumed (nothing after the root object).
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;
  if (!k.have_channel || !k.have_event)
    return ParseStatus::Malformed;
  if (k.update && k.channel != Channel::Unknown && !result_seen)
    return ParseStatus::Malformed;
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
  Known k;
  Frame f{out, nullptr, recv_ts_ns};
  const std::size_t mark = out.size();
  bool again = false;
  ParseStatus st = parse_root(doc, registry, k, f, false, again);
  // Cold: pass 2 parses a "result" that came before channel/event; a book result whose levels
  // precede its pair learns the pair there and needs pass 3.
  for (int pass = 2; st == ParseStatus::Ok && again && pass <= 3; ++pass) {
    out.truncate(mark);
    doc.rewind();
    again = false;
    st = parse_root(doc, registry, k, f, true, again);
  }
  if (st == ParseStatus::Ok && again)
    st = ParseStatus::Malformed;
  if (st != ParseStatus::Ok)
    return st;
  if (k.channel == Channel::Unknown || !k.update)
    return ParseStatus::Ignored;
  if (k.channel == Channel::Tickers) // the ticker's own time is the push time at the root
    for (std::size_t i = mark; i < out.size(); ++i)
      out[i].exch_ts_ns = k.time_ns;
  return ParseStatus::Ok;
}

// REST /api/v4/spot/order_book body: {"id":n,"current":ms,"update":ms,"asks":[[p,a],..],
// "bids":[[p,a],..]} ("current"/"update" only in newer responses).
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
  Frame f{out, &inst, recv_ts_ns};
  const std::size_t begin_index = out.size();
  if (f.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint64_t id = 0;
  std::int64_t ts_ns = 0;
  std::uint32_t levels = 0;
  unsigned seen = 0; // 1 id, 2 bids, 4 asks
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "id") {
      if (!parse_u64(scalar_text(v), id))
        return ParseStatus::Malformed;
      seen |= 1U;
    } else if (key == "bids") {
      st = parse_levels(v, book::Side::Bid, f, levels);
      seen |= 2U;
    } else if (key == "asks") {
      st = parse_levels(v, book::Side::Ask, f, levels);
      seen |= 4U;
    } else if (key == "current") {
      if (!ms_to_ns(scalar_text(v), ts_ns))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;
  if (seen != 7U)
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = out[begin_index];
  begin.flags = kFlagSnapshot | kFlagRest | kFlagHasSeq;
  begin.exch_ts_ns = ts_ns;
  begin.begin.first_seq = id;
  begin.begin.last_seq = id;
  begin.begin.levels = levels;
  return ParseStatus::Ok;
}

} // namespace

GateIoParser::GateIoParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus GateIoParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

ParseStatus GateIoParser::parse_order_book_snapshot(std::string_view body,
                                                    std::string_view currency_pair,
                                                    std::int64_t recv_ts_ns,
                                                    EventBatch &out) noexcept {
  if (currency_pair.empty())
    return ParseStatus::UnknownInstrument;
  const Instrument *inst = resolve(*registry_, currency_pair);
  if (inst == nullptr)
    return ParseStatus::UnknownInstrument;
  const std::size_t mark = out.size();
  const ParseStatus st = parse_snapshot(parser_, *inst, body, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
