// Coinbase Advanced Trade frame parser (hot path). See coinbase.hpp for the channels and how a
// sequence_num jump marks every book of the connection Stale.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; CoinbaseAdvancedParser::parse removes a failed message's events. Prices and sizes
// are quoted decimals read from the raw token; sequence_num is a JSON number.
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/coinbase.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, L2, Trades, Ticker, Other };

// heartbeats, subscriptions, status, candles, ticker_batch (no bid/ask), user, ...: checked,
// not consumed.
Channel classify(std::string_view name) noexcept {
  if (name == "l2_data")
    return Channel::L2;
  if (name == "market_trades")
    return Channel::Trades;
  if (name == "ticker")
    return Channel::Ticker;
  return Channel::Other;
}

struct Frame {
  EventBatch &out;
  InstrumentRegistry &registry;
  CoinbaseStaleTracker &tracker;
  std::int64_t recv_ts_ns;
  std::int64_t ts_ns;      // the message's "timestamp"
  std::size_t unknown = 0; // entries of products we do not know (skipped)

  Event *push(EventType type, const Instrument &inst) noexcept {
    return push_event(out, type, Venue::Coinbase, inst.id, recv_ts_ns);
  }
};

// An unsigned integer written as a JSON number (sequence, trade_id) or as a quoted string of
// digits. A bare number must be valid JSON ("008779525" is not).
bool read_u64(od::value &v, std::uint64_t &out) noexcept {
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && is_space(raw.back()))
    raw.remove_suffix(1);
  if (!raw.empty() && raw.front() == '"')
    return parse_u64(scalar_text(v), out);
  return is_json_atom(raw) && parse_u64(raw, out);
}

bool read_time(od::value &v, std::int64_t &ns) noexcept {
  std::string_view t;
  return string_text(v, t) && coinbase_time_to_ns(t, ns);
}

// A string field found anywhere in the object (the caller resets the object afterwards).
bool find_string(od::object &obj, std::string_view key, std::string_view &out) noexcept {
  od::value v;
  return obj.find_field_unordered(key).get(v) == simdjson::SUCCESS && string_text(v, out);
}

bool rewind_object(od::object &obj) noexcept {
  bool has_fields = false;
  return obj.reset().get(has_fields) == simdjson::SUCCESS;
}

// An entry's product, wherever it sits; the object is rewound afterwards so the caller walks it
// from the start with the decimals known. Unknown products leave inst null (status Ok).
ParseStatus entry_instrument(od::object &obj, Frame &f, const Instrument *&inst) noexcept {
  std::string_view product;
  if (!find_string(obj, "product_id", product) || product.empty() || !rewind_object(obj))
    return ParseStatus::Malformed;
  inst = f.registry.resolve(Venue::Coinbase, product, &coinbase_default_instrument);
  return ParseStatus::Ok;
}

// Walks an object we skip (an entry of an unknown product), so that a broken one is an error.
ParseStatus walk_object(od::object &obj) noexcept {
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field) || !walk(field.value(), kWalkDepth))
      return ParseStatus::Malformed;
  }
  return ParseStatus::Ok;
}

// ---- l2_data ---------------------------------------------------------------------------------

// [{"side","event_time","price_level","new_quantity"}, ...] in wire order, one BookLevel each.
ParseStatus parse_updates(od::value &v, Frame &f, const Instrument &inst,
                          std::uint32_t &count) noexcept {
  od::array updates;
  if (v.get_array().get(updates))
    return ParseStatus::Malformed;
  for (auto update_result : updates) {
    od::object update;
    if (update_result.get_object().get(update))
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::BookLevel, inst);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    unsigned seen = 0;
    for (auto field_result : update) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &fv = field.value();
      book::ParsedDecimal d{};
      if (key == "side") {
        std::string_view side;
        if (!string_text(fv, side))
          return ParseStatus::Malformed;
        if (side == "bid")
          e->side = book::Side::Bid;
        else if (side == "offer")
          e->side = book::Side::Ask;
        else
          return ParseStatus::Malformed;
        seen |= 1U;
      } else if (key == "price_level") {
        if (!parse_price(scalar_text(fv), inst, d))
          return ParseStatus::BadNumber;
        e->level.price = d.mantissa;
        e->level.price_text_dp = d.text_decimals;
        seen |= 2U;
      } else if (key == "new_quantity") {
        if (!parse_qty(scalar_text(fv), inst, d))
          return ParseStatus::BadNumber;
        e->level.qty = d.mantissa;
        e->level.qty_text_dp = d.text_decimals;
        seen |= 4U;
      } else if (key == "event_time") {
        if (!read_time(fv, e->exch_ts_ns))
          return ParseStatus::BadNumber;
      } else if (!walk(fv, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    if (seen != 7U)
      return ParseStatus::Malformed;
    ++count;
  }
  return ParseStatus::Ok;
}

// {"type":"snapshot"|"update","product_id","updates"} -> BookBegin .. BookLevel* .. BookEnd.
ParseStatus parse_l2_event(od::value &event_value, Frame &f) noexcept {
  od::object event;
  if (event_value.get_object().get(event))
    return ParseStatus::Malformed;
  std::string_view type;
  if (!find_string(event, "type", type))
    return ParseStatus::Malformed;
  const bool snapshot = type == "snapshot";
  if (!snapshot && type != "update")
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  ParseStatus st = entry_instrument(event, f, inst);
  if (st != ParseStatus::Ok)
    return st;
  if (inst == nullptr) {
    ++f.unknown;
    return walk_object(event);
  }
  f.tracker.fed(inst->id);
  const std::size_t begin_index = f.out.size();
  if (f.push(EventType::BookBegin, *inst) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint32_t levels = 0;
  bool has_updates = false;
  for (auto field_result : event) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "updates") {
      if (has_updates)
        return ParseStatus::Malformed; // the levels twice would apply twice
      has_updates = true;
      st = parse_updates(v, f, *inst, levels);
      if (st != ParseStatus::Ok)
        return st;
    } else if (!walk(v, kWalkDepth)) { // type, product_id (read above), ...
      return ParseStatus::Malformed;
    }
  }
  if (!has_updates)
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd, *inst);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = f.ts_ns;
  Event &begin = f.out[begin_index];
  begin.flags = snapshot ? kFlagSnapshot : std::uint8_t{0};
  begin.exch_ts_ns = f.ts_ns;
  begin.begin.levels = levels;
  return ParseStatus::Ok;
}

// ---- market_trades ---------------------------------------------------------------------------

// {"trade_id","product_id","price","size","side","time"} -> Trade. `side` is the maker's.
ParseStatus parse_trade(od::value &trade_value, Frame &f) noexcept {
  od::object trade;
  if (trade_value.get_object().get(trade))
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  const ParseStatus st = entry_instrument(trade, f, inst);
  if (st != ParseStatus::Ok)
    return st;
  if (inst == nullptr) {
    ++f.unknown;
    return walk_object(trade);
  }
  Event *e = f.push(EventType::Trade, *inst);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : trade) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    bool ok = true;
    if (key == "price") {
      ok = parse_price(scalar_text(v), *inst, d);
      e->trade.price = d.mantissa;
      seen |= 1U;
    } else if (key == "size") {
      ok = parse_qty(scalar_text(v), *inst, d);
      e->trade.qty = d.mantissa;
      seen |= 2U;
    } else if (key == "trade_id") {
      ok = read_u64(v, e->trade.trade_id);
      seen |= 4U;
    } else if (key == "side") {
      std::string_view side;
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      if (side == "BUY")
        e->flags |= kFlagBuyerIsMaker; // the maker bought: the aggressor sold
      else if (side != "SELL")
        return ParseStatus::Malformed;
      seen |= 8U;
    } else if (key == "time") {
      ok = read_time(v, e->exch_ts_ns);
    } else if (!walk(v, kWalkDepth)) { // product_id (read above), ...
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 15U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// {"type","trades":[...]}: the snapshot (history sent on subscribe) is checked, not replayed.
ParseStatus parse_trades_event(od::value &event_value, Frame &f) noexcept {
  od::object event;
  if (event_value.get_object().get(event))
    return ParseStatus::Malformed;
  std::string_view type;
  if (!find_string(event, "type", type) || !rewind_object(event))
    return ParseStatus::Malformed;
  if (type != "snapshot" && type != "update")
    return ParseStatus::Malformed;
  if (type == "snapshot")
    return walk_object(event);
  for (auto field_result : event) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "trades") {
      od::array trades;
      if (v.get_array().get(trades))
        return ParseStatus::Malformed;
      for (auto trade_result : trades) {
        od::value trade;
        if (trade_result.get(trade))
          return ParseStatus::Malformed;
        const ParseStatus st = parse_trade(trade, f);
        if (st != ParseStatus::Ok)
          return st;
      }
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  return ParseStatus::Ok;
}

// ---- ticker ----------------------------------------------------------------------------------

// best_bid / best_ask and their quantities: "" (an empty side) reads as 0.
bool parse_bbo_field(std::string_view t, std::uint8_t decimals, std::int64_t &out) noexcept {
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

// {"product_id","best_bid","best_bid_quantity","best_ask","best_ask_quantity",...} -> Bbo.
ParseStatus parse_ticker(od::value &ticker_value, Frame &f) noexcept {
  od::object ticker;
  if (ticker_value.get_object().get(ticker))
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  const ParseStatus st = entry_instrument(ticker, f, inst);
  if (st != ParseStatus::Ok)
    return st;
  if (inst == nullptr) {
    ++f.unknown;
    return walk_object(ticker);
  }
  Event *e = f.push(EventType::Bbo, *inst);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->exch_ts_ns = f.ts_ns;
  unsigned seen = 0;
  for (auto field_result : ticker) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "best_bid") {
      ok = parse_bbo_field(scalar_text(v), inst->price_decimals, e->bbo.bid_price);
      seen |= 1U;
    } else if (key == "best_ask") {
      ok = parse_bbo_field(scalar_text(v), inst->price_decimals, e->bbo.ask_price);
      seen |= 2U;
    } else if (key == "best_bid_quantity") {
      ok = parse_bbo_field(scalar_text(v), inst->qty_decimals, e->bbo.bid_qty);
    } else if (key == "best_ask_quantity") {
      ok = parse_bbo_field(scalar_text(v), inst->qty_decimals, e->bbo.ask_qty);
    } else if (!walk(v, kWalkDepth)) { // price, volume_24_h, ...
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 3U ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_tickers_event(od::value &event_value, Frame &f) noexcept {
  od::object event;
  if (event_value.get_object().get(event))
    return ParseStatus::Malformed;
  for (auto field_result : event) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "tickers") {
      od::array tickers;
      if (v.get_array().get(tickers))
        return ParseStatus::Malformed;
      for (auto ticker_result : tickers) {
        od::value ticker;
        if (ticker_result.get(ticker))
          return ParseStatus::Malformed;
        const ParseStatus st = parse_ticker(ticker, f);
        if (st != ParseStatus::Ok)
          return st;
      }
    } else if (!walk(v, kWalkDepth)) { // type: snapshot and update both give the current top
      return ParseStatus::Malformed;
    }
  }
  return ParseStatus::Ok;
}

ParseStatus parse_events(od::value &v, Channel channel, Frame &f) noexcept {
  if (channel == Channel::Other)
    return walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
  od::array events;
  if (v.get_array().get(events))
    return ParseStatus::Malformed;
  for (auto event_result : events) {
    od::value event;
    if (event_result.get(event))
      return ParseStatus::Malformed;
    ParseStatus st = ParseStatus::Malformed;
    switch (channel) {
    case Channel::L2:
      st = parse_l2_event(event, f);
      break;
    case Channel::Trades:
      st = parse_trades_event(event, f);
      break;
    case Channel::Ticker:
      st = parse_tickers_event(event, f);
      break;
    case Channel::Unknown:
    case Channel::Other:
      break;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

} // namespace

// ---- parser ----------------------------------------------------------------------------------

CoinbaseAdvancedParser::CoinbaseAdvancedParser(InstrumentRegistry &registry,
                                               std::size_t frame_capacity)
    : registry_(&registry) {
  if (frame_capacity != 0 && parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return; // simdjson retries the allocation at the first iterate()
}

void CoinbaseAdvancedParser::on_new_connection() noexcept {
  has_last_ = false;
  last_seq_ = 0;
  tracker_.forget_fed();
}

ParseStatus CoinbaseAdvancedParser::parse(simdjson::ondemand::parser &parser,
                                          std::string_view frame, std::int64_t recv_ts_ns,
                                          EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  Channel channel = Channel::Unknown;
  bool seq_read = false;
  bool flushed = false;
  Frame f{out, *registry_, tracker_, recv_ts_ns, 0};

  // Books marked Stale (a gap, a failed l2_data message) go in front of this message's events.
  auto flush = [&]() noexcept {
    if (flushed)
      return true;
    flushed = true;
    return tracker_.push_pending(out, recv_ts_ns);
  };

  ParseStatus st = [&]() noexcept {
    od::document doc;
    if (parser
            .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                  frame.size() + simdjson::SIMDJSON_PADDING))
            .get(doc))
      return ParseStatus::Malformed;
    bool events_seen = false;
    bool events_deferred = false; // "events" came before "channel"/"sequence_num"
    for (int pass = 0; pass < 2; ++pass) {
      od::object root;
      if (doc.get_object().get(root))
        return ParseStatus::Malformed;
      for (auto field_result : root) {
        od::field field;
        if (std::move(field_result).get(field))
          return ParseStatus::Malformed;
        const auto key = field.key();
        od::value &v = field.value();
        if (key == "events") {
          if (channel == Channel::Unknown || !seq_read) {
            events_deferred = true; // skipped by the iterator; read on the second pass
            continue;
          }
          if (events_seen)
            return ParseStatus::Malformed;
          events_seen = true;
          if (!flush())
            return ParseStatus::BatchOverflow;
          const ParseStatus est = parse_events(v, channel, f);
          if (est != ParseStatus::Ok)
            return est;
        } else if (pass == 1) {
          continue; // the envelope was read on the first pass
        } else if (key == "channel") {
          std::string_view name;
          if (channel != Channel::Unknown || !string_text(v, name))
            return ParseStatus::Malformed;
          channel = classify(name);
        } else if (key == "sequence_num") {
          std::uint64_t seq = 0;
          if (seq_read || !read_u64(v, seq))
            return ParseStatus::Malformed;
          seq_read = true;
          // Per connection, +1 per message across all channels: anything else lost messages.
          if (has_last_ && seq != last_seq_ + 1) {
            ++gaps_;
            tracker_.suspect_all();
          }
          last_seq_ = seq;
          has_last_ = true;
        } else if (key == "timestamp") {
          if (!read_time(v, f.ts_ns))
            return ParseStatus::BadNumber;
        } else if (!walk(v, kWalkDepth)) { // client_id, ...
          return ParseStatus::Malformed;
        }
      }
      if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
        return ParseStatus::Malformed; // something after the root object
      if (!events_deferred || channel == Channel::Unknown || !seq_read)
        break;
      events_deferred = false;
      doc.rewind();
    }
    if (channel == Channel::Unknown || !seq_read || events_deferred)
      return ParseStatus::Malformed;
    if (!flush())
      return ParseStatus::BatchOverflow;
    if (out.size() == mark && f.unknown != 0)
      return ParseStatus::UnknownInstrument;
    if (channel == Channel::Other || out.size() == mark)
      return ParseStatus::Ignored;
    return ParseStatus::Ok;
  }();

  if (st == ParseStatus::Ok || st == ParseStatus::Ignored) {
    const bool carried = tracker_.pending();
    tracker_.clear_pending();
    return carried ? ParseStatus::Ok : st;
  }
  out.truncate(mark);
  // A book message that could not be read, or one whose channel is unknown after its number
  // was taken: some fed book may have missed an update. (Without a number read, the next
  // message's sequence_num shows the loss.)
  if (st != ParseStatus::UnknownInstrument &&
      (channel == Channel::L2 || (channel == Channel::Unknown && seq_read)))
    tracker_.suspect_all();
  return st;
}

} // namespace fh::venues
