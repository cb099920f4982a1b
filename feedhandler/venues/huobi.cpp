// Huobi frame parser (hot path). See huobi.hpp for the messages and the inflation step.
//
// Huobi writes "ch" and "ts" before "tick", so the tick is normally parsed in the one pass in
// wire order; if "tick" ever came first, the document is rewound once and the tick is parsed
// on a second pass, once the channel and symbol are known. The depth tick's "version" and
// "ts" follow the levels, so the BookBegin is pushed first and patched when the tick ends.
#include "feedhandler/venues/huobi.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Kind : std::uint8_t { Unknown = 0, Ping, Book, Trade, Other };

// "market.btcusdt.depth.step0" -> symbol "btcusdt", kind Book. Anything not shaped
// market.<symbol>.<topic> is Other (a channel we do not consume).
Kind classify(std::string_view ch, std::string_view &symbol) noexcept {
  constexpr std::string_view kPrefix = "market.";
  if (ch.substr(0, kPrefix.size()) != kPrefix)
    return Kind::Other;
  ch.remove_prefix(kPrefix.size());
  const std::size_t dot = ch.find('.');
  if (dot == std::string_view::npos || dot == 0)
    return Kind::Other;
  symbol = ch.substr(0, dot);
  const std::string_view topic = ch.substr(dot + 1);
  // step0 is the raw book; step1..5 are price-aggregated views of it (a different book).
  if (topic == "depth.step0")
    return Kind::Book;
  if (topic == "trade.detail")
    return Kind::Trade;
  return Kind::Other;
}

bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

// A price or size at the instrument's scale: exact, and never negative.
bool price_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_price(t, inst, out) && out.mantissa >= 0;
}
bool qty_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_qty(t, inst, out) && out.mantissa >= 0;
}

struct Message {
  EventBatch &out;
  std::int64_t recv_ts_ns;
  Kind kind = Kind::Unknown;
  std::string_view symbol{};
  const Instrument *inst = nullptr;
  bool tick_done = false;
  bool tick_deferred = false;
  std::int64_t ts_ns = 0; // message "ts"
  std::uint64_t ping = 0;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Huobi, inst->id, recv_ts_ns);
  }
};

// {"bids":[[p,q],..],"asks":[[p,q],..],"version":n,"ts":n}: the whole book.
ParseStatus parse_depth_tick(od::value &tick_value, Message &m) noexcept {
  od::object tick;
  if (tick_value.get_object().get(tick))
    return ParseStatus::Malformed;
  const std::size_t begin_index = m.out.size();
  if (m.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint32_t levels = 0;
  unsigned sides = 0;
  std::uint64_t version = 0;
  bool has_version = false;
  std::int64_t ts = m.ts_ns;
  const auto exactly_two = [](unsigned, od::value &, Event &) noexcept {
    return ParseStatus::Malformed; // a Huobi level is [price, amount]
  };
  for (auto field_result : tick) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "bids" && (sides & 1U) == 0) {
      sides |= 1U;
      st = parse_book_side(v, book::Side::Bid, m, 2, levels, exactly_two);
    } else if (key == "asks" && (sides & 2U) == 0) {
      sides |= 2U;
      st = parse_book_side(v, book::Side::Ask, m, 2, levels, exactly_two);
    } else if (key == "version") {
      has_version = true;
      if (!parse_u64(scalar_text(v), version))
        st = ParseStatus::BadNumber;
    } else if (key == "ts") {
      if (!parse_ms_to_ns(scalar_text(v), ts))
        st = ParseStatus::BadNumber;
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  // A push is the whole book only with both sides present (an empty side is []).
  if (sides != 3U)
    return ParseStatus::Malformed;
  for (std::size_t i = begin_index + 1; i < m.out.size(); ++i)
    if (m.out[i].level.price < 0 || m.out[i].level.qty < 0)
      return ParseStatus::BadNumber;
  Event *end = m.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts;
  Event &begin = m.out[begin_index];
  begin.exch_ts_ns = ts;
  begin.begin.levels = levels;
  begin.flags = kFlagSnapshot;
  if (has_version) {
    begin.flags |= kFlagHasSeq;
    begin.begin.first_seq = version;
    begin.begin.last_seq = version;
  }
  m.tick_done = true;
  return ParseStatus::Ok;
}

// One tick.data entry: {"id":<big>,"ts":n,"tradeId":n,"amount":x,"price":x,"direction":".."}.
ParseStatus parse_trade_entry(od::value &entry_value, Message &m) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  std::string_view price, amount, trade_id, ts_text, direction;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "price") {
      price = scalar_text(v);
    } else if (key == "amount") {
      amount = scalar_text(v);
    } else if (key == "tradeId") {
      trade_id = scalar_text(v);
    } else if (key == "ts") {
      ts_text = scalar_text(v);
    } else if (key == "direction") {
      if (!string_text(v, direction))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) { // "id" is wider than 64 bits: checked, not kept
      return ParseStatus::Malformed;
    }
  }
  if (price.empty() || amount.empty() || direction.empty())
    return ParseStatus::Malformed;
  std::uint8_t flags = 0;
  if (direction == "sell") // the taker sold
    flags = kFlagBuyerIsMaker;
  else if (direction != "buy")
    return ParseStatus::Malformed;
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  std::uint64_t id = 0;
  std::int64_t ts = m.ts_ns;
  if (!price_of(price, *m.inst, p) || !qty_of(amount, *m.inst, q) ||
      (!trade_id.empty() && !parse_u64(trade_id, id)) ||
      (!ts_text.empty() && !parse_ms_to_ns(ts_text, ts)))
    return ParseStatus::BadNumber;
  Event *e = m.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->flags = flags;
  e->exch_ts_ns = ts;
  e->trade.price = p.mantissa;
  e->trade.qty = q.mantissa;
  e->trade.trade_id = id;
  return ParseStatus::Ok;
}

// {"id":n,"ts":n,"data":[...]}
ParseStatus parse_trade_tick(od::value &tick_value, Message &m) noexcept {
  od::object tick;
  if (tick_value.get_object().get(tick))
    return ParseStatus::Malformed;
  bool data_seen = false;
  for (auto field_result : tick) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "data" && !data_seen) {
      data_seen = true;
      od::array data;
      if (v.get_array().get(data))
        return ParseStatus::Malformed;
      for (auto entry_result : data) {
        od::value entry;
        if (entry_result.get(entry))
          return ParseStatus::Malformed;
        const ParseStatus st = parse_trade_entry(entry, m);
        if (st != ParseStatus::Ok)
          return st;
      }
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (!data_seen)
    return ParseStatus::Malformed;
  m.tick_done = true;
  return ParseStatus::Ok;
}

ParseStatus parse_tick(od::value &v, Message &m) noexcept {
  switch (m.kind) {
  case Kind::Book:
    return parse_depth_tick(v, m);
  case Kind::Trade:
    return parse_trade_tick(v, m);
  default:
    return walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
  }
}

ParseStatus parse_document(od::document &doc, InstrumentRegistry &registry, Message &m) noexcept {
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
      ParseStatus st = ParseStatus::Ok;
      if (pass == 1) {
        if (key == "tick")
          st = parse_tick(v, m);
      } else if (key == "ch") {
        std::string_view ch;
        if (m.kind != Kind::Unknown || !string_text(v, ch))
          return ParseStatus::Malformed;
        m.kind = classify(ch, m.symbol);
        if (m.kind == Kind::Book || m.kind == Kind::Trade) {
          m.inst = registry.resolve(Venue::Huobi, m.symbol, &huobi_default_instrument);
          if (m.inst == nullptr)
            return ParseStatus::UnknownInstrument;
        }
      } else if (key == "ping") {
        if (m.kind != Kind::Unknown || !parse_u64(scalar_text(v), m.ping))
          return ParseStatus::Malformed;
        m.kind = Kind::Ping;
      } else if (key == "ts") {
        if (!parse_ms_to_ns(scalar_text(v), m.ts_ns))
          return ParseStatus::BadNumber;
      } else if (key == "tick") {
        if (m.tick_done || m.tick_deferred)
          return ParseStatus::Malformed;
        if (m.kind == Kind::Unknown)
          m.tick_deferred = true; // skipped now, read on the second pass
        else
          st = parse_tick(v, m);
      } else if (!walk(v, kWalkDepth)) { // id, status, subbed, err-code, err-msg, rep, ...
        return ParseStatus::Malformed;
      }
      if (st != ParseStatus::Ok)
        return st;
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (!m.tick_deferred || pass == 1)
      break;
    if (m.kind == Kind::Unknown)
      return ParseStatus::Malformed; // a tick without a channel
    doc.rewind();
  }
  switch (m.kind) {
  case Kind::Book:
  case Kind::Trade:
    return m.tick_done ? ParseStatus::Ok : ParseStatus::Malformed;
  default:
    return ParseStatus::Ignored; // ping, replies, channels we do not consume
  }
}

} // namespace

HuobiParser::HuobiParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : inflater_(frame_capacity), registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus HuobiParser::parse(std::string_view gzip_frame, std::int64_t recv_ts_ns,
                               EventBatch &out) noexcept {
  std::string_view json;
  switch (inflater_.inflate(gzip_frame, json)) {
  case GzipInflater::Result::Ok:
    break;
  case GzipInflater::Result::Corrupt:
    return ParseStatus::Malformed;
  case GzipInflater::Result::TooLarge:
    return ParseStatus::BatchOverflow;
  }
  return parse_json(json, recv_ts_ns, out);
}

ParseStatus HuobiParser::parse_json(std::string_view json, std::int64_t recv_ts_ns,
                                    EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  od::document doc;
  if (parser_
          .iterate(simdjson::padded_string_view(json.data(), json.size(),
                                                json.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  Message m{out, recv_ts_ns};
  const ParseStatus st = parse_document(doc, *registry_, m);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  if (st == ParseStatus::Ignored && m.kind == Kind::Ping)
    last_ping_ = m.ping;
  return st;
}

} // namespace fh::venues
