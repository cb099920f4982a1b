// Deribit JSON-RPC frame parser (hot path). See deribit.hpp for the channels and the events.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; DeribitParser::parse removes a failed message's events. Deribit writes prices,
// amounts and ids as bare JSON numbers, read here from their raw tokens.
#include "feedhandler/venues/deribit.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Ticker, Trades };

// "book.BTC-24SEP21-8000-P.raw" -> Book, instrument "BTC-24SEP21-8000-P". The per-instrument
// channels have exactly three dot-separated parts (Deribit names contain no dots); grouped
// books (book.X.none.10.100ms) and trades.{kind}.{currency}.{interval} have more and are not
// consumed.
Channel classify(std::string_view channel, std::string_view &instrument) noexcept {
  const std::size_t first = channel.find('.');
  if (first == std::string_view::npos)
    return Channel::Unknown;
  const std::size_t second = channel.find('.', first + 1);
  if (second == std::string_view::npos || second == first + 1 || second + 1 == channel.size() ||
      channel.find('.', second + 1) != std::string_view::npos)
    return Channel::Unknown;
  instrument = channel.substr(first + 1, second - first - 1);
  const std::string_view prefix = channel.substr(0, first);
  if (prefix == "book")
    return Channel::Book;
  if (prefix == "ticker")
    return Channel::Ticker;
  if (prefix == "trades")
    return Channel::Trades;
  return Channel::Unknown;
}

// Deribit times are Unix milliseconds (JSON integers). 13 digits keep the ns product in int64.
bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

// Prices and amounts of the books, tickers and trades we consume are never negative.
bool parse_price_non_negative(std::string_view t, const Instrument &inst,
                              book::ParsedDecimal &d) noexcept {
  return parse_price(t, inst, d) && d.mantissa >= 0;
}
bool parse_qty_non_negative(std::string_view t, const Instrument &inst,
                            book::ParsedDecimal &d) noexcept {
  return parse_qty(t, inst, d) && d.mantissa >= 0;
}

// State of one frame being parsed.
struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::string_view instrument_name; // from the channel name
  std::int64_t recv_ts_ns;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Deribit, inst->id, recv_ts_ns);
  }
};

// "instrument_name" inside data must name the channel's instrument.
ParseStatus check_instrument_name(od::value &v, const Frame &f) noexcept {
  std::string_view name;
  if (!string_text(v, name) || name != f.instrument_name)
    return ParseStatus::Malformed;
  return ParseStatus::Ok;
}

// One side of a book notification: [[action, price, amount], ...] in wire order. "delete"
// removes the level (its amount, 0 on the wire, is still checked to be a number).
ParseStatus parse_levels(od::value &side_value, book::Side side, Frame &f,
                         std::uint32_t &count) noexcept {
  od::array levels;
  if (side_value.get_array().get(levels))
    return ParseStatus::Malformed;
  for (auto level_result : levels) {
    od::array level;
    if (level_result.get_array().get(level))
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::BookLevel);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    e->side = side;
    unsigned index = 0;
    bool is_delete = false;
    for (auto element_result : level) {
      od::value element;
      if (element_result.get(element))
        return ParseStatus::Malformed;
      book::ParsedDecimal d{};
      switch (index) {
      case 0: {
        std::string_view action;
        if (!string_text(element, action))
          return ParseStatus::Malformed;
        is_delete = action == "delete";
        if (!is_delete && action != "new" && action != "change")
          return ParseStatus::Malformed;
        break;
      }
      case 1:
        if (!parse_price_non_negative(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.price = d.mantissa;
        e->level.price_text_dp = d.text_decimals;
        break;
      case 2:
        if (!parse_qty_non_negative(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.qty = is_delete ? 0 : d.mantissa;
        e->level.qty_text_dp = d.text_decimals;
        break;
      default:
        return ParseStatus::Malformed; // Deribit entries have exactly three elements
      }
      ++index;
    }
    if (index != 3)
      return ParseStatus::Malformed;
    ++count;
  }
  return ParseStatus::Ok;
}

// data of book.{instrument}.{interval}: BookBegin, levels (bids then asks, as on the wire),
// BookEnd. change_id and the type come before the levels on the wire, but nothing here needs
// them first: the BookBegin is patched when the object ends.
ParseStatus parse_book(od::value &data_value, Frame &f) noexcept {
  od::object data;
  if (data_value.get_object().get(data))
    return ParseStatus::Malformed;
  const std::size_t begin_index = f.out.size();
  if (f.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;

  enum class Type : std::uint8_t { None, Snapshot, Change };
  Type type = Type::None;
  std::uint32_t levels = 0;
  std::int64_t ts_ns = 0;
  std::uint64_t change_id = 0;
  std::uint64_t prev_change_id = 0;
  bool has_change_id = false;
  bool has_prev = false;
  for (auto field_result : data) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "bids") {
      st = parse_levels(v, book::Side::Bid, f, levels);
    } else if (key == "asks") {
      st = parse_levels(v, book::Side::Ask, f, levels);
    } else if (key == "type") {
      std::string_view t;
      if (!string_text(v, t))
        return ParseStatus::Malformed;
      if (t == "snapshot")
        type = Type::Snapshot;
      else if (t == "change")
        type = Type::Change;
      else
        return ParseStatus::Malformed;
    } else if (key == "change_id") {
      has_change_id = true;
      if (!parse_u64(scalar_text(v), change_id))
        st = ParseStatus::BadNumber;
    } else if (key == "prev_change_id") {
      has_prev = true;
      if (!parse_u64(scalar_text(v), prev_change_id))
        st = ParseStatus::BadNumber;
    } else if (key == "timestamp") {
      if (!parse_ms_to_ns(scalar_text(v), ts_ns))
        st = ParseStatus::BadNumber;
    } else if (key == "instrument_name") {
      st = check_instrument_name(v, f);
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  // Without its ids a notification cannot be placed in the chain: never apply it blindly.
  if (type == Type::None || !has_change_id || (type == Type::Change && !has_prev))
    return ParseStatus::Malformed;

  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;

  Event &begin = f.out[begin_index];
  begin.exch_ts_ns = ts_ns;
  begin.begin.levels = levels;
  begin.begin.first_seq = change_id;
  begin.begin.last_seq = change_id;
  if (type == Type::Snapshot) {
    begin.flags = kFlagSnapshot | kFlagHasSeq;
  } else {
    begin.flags = kFlagHasSeq | kFlagHasPrevSeq;
    begin.begin.prev_seq = prev_change_id;
  }
  return ParseStatus::Ok;
}

// A best price or amount of the ticker: null (no side, newer API) or a number; 0 = empty side.
template <class Parse>
bool parse_bbo_field(od::value &v, const Instrument &inst, Parse parse,
                     std::int64_t &out) noexcept {
  const std::string_view t = scalar_text(v);
  if (t == "null") {
    out = 0;
    return true;
  }
  book::ParsedDecimal d{};
  if (!parse(t, inst, d))
    return false;
  out = d.mantissa;
  return true;
}

ParseStatus parse_ticker(od::value &data_value, Frame &f) noexcept {
  od::object data;
  if (data_value.get_object().get(data))
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  const Instrument &inst = *f.inst;
  unsigned seen = 0;
  for (auto field_result : data) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "best_bid_price") {
      ok = parse_bbo_field(v, inst, parse_price_non_negative, e->bbo.bid_price);
      seen |= 1U;
    } else if (key == "best_bid_amount") {
      ok = parse_bbo_field(v, inst, parse_qty_non_negative, e->bbo.bid_qty);
      seen |= 2U;
    } else if (key == "best_ask_price") {
      ok = parse_bbo_field(v, inst, parse_price_non_negative, e->bbo.ask_price);
      seen |= 4U;
    } else if (key == "best_ask_amount") {
      ok = parse_bbo_field(v, inst, parse_qty_non_negative, e->bbo.ask_qty);
      seen |= 8U;
    } else if (key == "timestamp") {
      ok = parse_ms_to_ns(scalar_text(v), e->exch_ts_ns);
    } else if (key == "instrument_name") {
      if (check_instrument_name(v, f) != ParseStatus::Ok)
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 15U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// trade_id is a string: digits for BTC ("149343867"), prefixed for other currencies
// ("ETH-12345"). The number after the last '-' is the id within the currency.
bool parse_trade_id(od::value &v, std::uint64_t &out) noexcept {
  std::string_view t;
  if (!string_text(v, t))
    return false;
  const std::size_t dash = t.rfind('-');
  if (dash != std::string_view::npos)
    t.remove_prefix(dash + 1);
  return parse_u64(t, out);
}

ParseStatus parse_trade(od::value &trade_value, Frame &f) noexcept {
  od::object trade;
  if (trade_value.get_object().get(trade))
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Trade);
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
      ok = parse_price_non_negative(scalar_text(v), *f.inst, d);
      e->trade.price = d.mantissa;
      seen |= 1U;
    } else if (key == "amount") {
      ok = parse_qty_non_negative(scalar_text(v), *f.inst, d);
      e->trade.qty = d.mantissa;
      seen |= 2U;
    } else if (key == "direction") {
      std::string_view direction;
      if (!string_text(v, direction))
        return ParseStatus::Malformed;
      if (direction == "sell")
        e->flags |= kFlagBuyerIsMaker;
      else if (direction != "buy")
        return ParseStatus::Malformed;
      seen |= 4U;
    } else if (key == "trade_id") {
      ok = parse_trade_id(v, e->trade.trade_id);
    } else if (key == "timestamp") {
      ok = parse_ms_to_ns(scalar_text(v), e->exch_ts_ns);
    } else if (key == "instrument_name") {
      if (check_instrument_name(v, f) != ParseStatus::Ok)
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 7U ? ParseStatus::Ok : ParseStatus::Malformed;
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

ParseStatus parse_data(od::value &data, Channel channel, Frame &f) noexcept {
  switch (channel) {
  case Channel::Book:
    return parse_book(data, f);
  case Channel::Ticker:
    return parse_ticker(data, f);
  case Channel::Trades:
    return parse_trades(data, f);
  case Channel::Unknown:
    break;
  }
  return ParseStatus::Malformed;
}

// What the root of a frame turned out to be.
struct Root {
  Channel channel = Channel::Unknown;
  bool subscription = false; // "method":"subscription"
  bool ignored = false;      // a response, a heartbeat or a channel we do not consume
  bool data_seen = false;
  bool data_deferred = false; // "data" came before "channel": parsed on a second pass
};

// params of a notification: {"channel": ..., "data": ...}. On the second pass only "data" is
// read (channel and instrument are known).
ParseStatus parse_params(od::value &params_value, InstrumentRegistry &registry, Root &root,
                         Frame &f, int pass) noexcept {
  od::object params;
  if (params_value.get_object().get(params))
    return ParseStatus::Malformed;
  for (auto field_result : params) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (root.ignored) {
      if (!walk(v, kWalkDepth))
        return ParseStatus::Malformed;
    } else if (key == "data") {
      if (f.inst == nullptr) {
        root.data_deferred = true; // skipped by the iterator, parsed on the next pass
        continue;
      }
      if (root.data_seen)
        return ParseStatus::Malformed;
      root.data_seen = true;
      const ParseStatus st = parse_data(v, root.channel, f);
      if (st != ParseStatus::Ok)
        return st;
    } else if (pass == 1) {
      continue;
    } else if (key == "channel") {
      std::string_view name;
      if (!string_text(v, name) || f.inst != nullptr)
        return ParseStatus::Malformed;
      std::string_view instrument;
      root.channel = classify(name, instrument);
      if (root.channel == Channel::Unknown) {
        root.ignored = true;
        continue;
      }
      f.instrument_name = instrument;
      f.inst = registry.resolve(Venue::Deribit, instrument, &deribit_default_instrument);
      if (f.inst == nullptr)
        return ParseStatus::UnknownInstrument;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
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

  Root root;
  Frame f{out, nullptr, {}, recv_ts_ns};
  for (int pass = 0; pass < 2; ++pass) {
    od::object object;
    if (doc.get_object().get(object))
      return ParseStatus::Malformed;
    for (auto field_result : object) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      if (key == "params") {
        const ParseStatus st = parse_params(v, registry, root, f, pass);
        if (st != ParseStatus::Ok)
          return st;
      } else if (pass == 1) {
        continue; // checked on the first pass
      } else if (key == "method") {
        std::string_view method;
        if (!string_text(v, method))
          return ParseStatus::Malformed;
        root.subscription = method == "subscription";
        root.ignored = root.ignored || !root.subscription; // heartbeat, ...
      } else if (key == "id" || key == "result" || key == "error") {
        // A response to one of our requests (subscribe, auth, test): checked, not used.
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
        root.ignored = true;
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    // "data" before "channel" (never seen from Deribit): read it again now that the channel
    // is known, or walk it when the frame turned out to be one we ignore.
    if (!root.data_deferred)
      break;
    root.data_deferred = false;
    doc.rewind();
  }
  if (root.ignored)
    return ParseStatus::Ignored;
  if (f.inst == nullptr || !root.subscription || !root.data_seen)
    return ParseStatus::Malformed;
  return ParseStatus::Ok;
}

} // namespace

DeribitParser::DeribitParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus DeribitParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                 EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
