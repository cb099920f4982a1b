// Bybit public frame parser (hot path): the root walk, v5 orderbook/publicTrade/tickers and
// the legacy trade topic. See bybit.hpp for the shape; the legacy book is in bybit_legacy.cpp.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; BybitParser::parse removes a failed message's events. Numbers are read from raw
// JSON tokens: strings ("1.9531") and bare numbers ("size":0.14, "u":20254870) alike.
#include "feedhandler/venues/bybit.hpp"

#include <optional>
#include <utility>

#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t {
  Unknown = 0, // a topic we do not consume (kline, liquidation, ...): checked, Ignored
  Book,        // v5 orderbook.{depth}.{symbol}
  Trade,       // v5 publicTrade.{symbol}
  Ticker,      // v5 tickers.{symbol}
  LegacyBook,  // orderBookL2_25.{symbol}
  LegacyTrade, // trade.{symbol}
};

// "orderbook.500.XRPUSDT" -> (Book, "XRPUSDT"). The symbol is the text after the last dot.
Channel classify(std::string_view topic, std::string_view &symbol) noexcept {
  const std::size_t first_dot = topic.find('.');
  const std::size_t last_dot = topic.rfind('.');
  if (first_dot == std::string_view::npos || last_dot + 1 >= topic.size())
    return Channel::Unknown;
  symbol = topic.substr(last_dot + 1);
  const std::string_view name = topic.substr(0, first_dot);
  const bool one_dot = first_dot == last_dot;
  if (name == "orderbook" && !one_dot &&
      topic.substr(first_dot + 1, last_dot - first_dot - 1).find('.') == std::string_view::npos)
    return Channel::Book;
  if (!one_dot)
    return Channel::Unknown;
  if (name == "publicTrade")
    return Channel::Trade;
  if (name == "tickers")
    return Channel::Ticker;
  if (name == "orderBookL2_25")
    return Channel::LegacyBook;
  if (name == "trade")
    return Channel::LegacyTrade;
  return Channel::Unknown;
}

// Unix time of at most `digits_max` digits, in units of `scale` ns (ms: 13 digits, us: 16), to
// ns; the limits keep the product inside int64 until the year 2286.
bool parse_time_ns(std::string_view t, std::size_t digits_max, std::int64_t scale,
                   std::int64_t &out_ns) noexcept {
  std::uint64_t v = 0;
  if (t.size() > digits_max || !parse_u64(t, v))
    return false;
  out_ns = static_cast<std::int64_t>(v) * scale;
  return true;
}
bool parse_ms(std::string_view t, std::int64_t &out_ns) noexcept {
  return parse_time_ns(t, 13, 1'000'000, out_ns);
}
bool parse_us(std::string_view t, std::int64_t &out_ns) noexcept {
  return parse_time_ns(t, 16, 1'000, out_ns);
}

// Sequence ids (u, cross_seq): at most 18 digits, so they stay positive as int64 (the builder's
// chain compares them signed).
bool parse_seq(std::string_view t, std::uint64_t &out) noexcept {
  return t.size() <= 18 && parse_u64(t, out);
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Trade ids: decimal ("2290000000036455162", v5 spot) or a UUID ("01cacfe9-8d1c-5ee4-995d-...",
// linear and the legacy feed). A UUID keeps its first 64 bits: unique enough to tell prints
// apart, and the id field is 64 bits wide.
bool parse_trade_id(std::string_view t, std::uint64_t &out) noexcept {
  if (parse_u64(t, out))
    return true;
  std::uint64_t v = 0;
  int nibbles = 0;
  for (const char c : t) {
    if (c == '-')
      continue;
    const int h = hex_value(c);
    if (h < 0)
      return false;
    if (nibbles < 16)
      v = v << 4U | static_cast<std::uint64_t>(h);
    ++nibbles;
  }
  if (nibbles < 16)
    return false;
  out = v;
  return true;
}

// Taker side: "Buy" or "Sell" (both feeds).
bool parse_taker(od::value &v, Event &e) noexcept {
  std::string_view side;
  if (!string_text(v, side))
    return false;
  if (side == "Sell")
    e.flags |= kFlagBuyerIsMaker;
  else if (side != "Buy")
    return false;
  return true;
}

bool symbol_is(od::value &v, const Instrument &inst) noexcept {
  std::string_view s;
  return string_text(v, s) && s == inst.native;
}

// What the root walk collected about one frame.
struct Message {
  EventBatch &out;
  Venue venue;
  std::int64_t recv_ts_ns;
  Channel channel = Channel::Unknown;
  const Instrument *inst = nullptr;
  BybitLegacyTopic *topic = nullptr; // LegacyBook
  bool ignored = false;              // an acknowledgement, a pong or a topic we do not use
  bool data_seen = false;
  bool type_seen = false;
  bool type_snapshot = false;
  std::int64_t ts_ns = 0;    // "ts": when Bybit's market data service produced the message
  std::int64_t cts_ns = 0;   // "cts": matching engine time (v5 book)
  std::int64_t ts_e6_ns = 0; // "timestamp_e6" (legacy book)
  bool has_cross_seq = false;
  std::uint64_t cross_seq = 0;
  // v5 book
  std::size_t begin_index = 0;
  std::uint32_t levels = 0;
  bool has_u = false;
  std::uint64_t u = 0;
  // v5 ticker: the Bbo being filled and which of its four fields were given
  std::size_t bbo_index = 0;
  unsigned bbo_fields = 0;

  Event *push(EventType type) noexcept {
    return push_event(out, type, venue, inst->id, recv_ts_ns);
  }
};

// ---- v5 orderbook ---------------------------------------------------------------------------

// One side: [["1.9531","6203"], ...], exactly [price, size] per level.
ParseStatus parse_v5_levels(od::value &side_value, book::Side side, Message &m) noexcept {
  return parse_book_side(side_value, side, m, 2, m.levels,
                         [](unsigned, od::value &, Event &) noexcept {
                           return ParseStatus::Malformed; // a level has two elements
                         });
}

// data {"s","b","a","u","seq"}: pushes the BookBegin (patched in finish_v5_book) and the levels.
ParseStatus parse_v5_book_data(od::value &data_value, Message &m) noexcept {
  od::object data;
  if (data_value.get_object().get(data))
    return ParseStatus::Malformed;
  m.begin_index = m.out.size();
  if (m.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  for (auto field_result : data) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "b") {
      st = parse_v5_levels(v, book::Side::Bid, m);
    } else if (key == "a") {
      st = parse_v5_levels(v, book::Side::Ask, m);
    } else if (key == "u") {
      if (!parse_seq(scalar_text(v), m.u))
        st = ParseStatus::BadNumber;
      m.has_u = true;
    } else if (key == "s") {
      if (!symbol_is(v, *m.inst))
        st = ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) { // "seq" (cross sequence) is not needed for sync
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

ParseStatus finish_v5_book(Message &m) noexcept {
  if (!m.has_u || !m.type_seen)
    return ParseStatus::Malformed;
  const std::int64_t exch_ts = m.cts_ns != 0 ? m.cts_ns : m.ts_ns;
  Event *end = m.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = exch_ts;
  Event &begin = m.out[m.begin_index];
  begin.exch_ts_ns = exch_ts;
  begin.begin.levels = m.levels;
  begin.begin.first_seq = m.u;
  begin.begin.last_seq = m.u;
  begin.begin.prev_seq = m.u - 1; // u 0 never comes; its prev would be a gap anyway
  // u == 1: the service restarted and this message is the whole book (VENUE_RULES.md).
  const bool snapshot = m.type_snapshot || m.u == 1;
  begin.flags = static_cast<std::uint8_t>(kFlagHasSeq | (snapshot ? kFlagSnapshot : 0));
  return ParseStatus::Ok;
}

// ---- trades ---------------------------------------------------------------------------------

// v5 {"T","s","S","v","p","L","i","BT",...} or legacy {"symbol","tick_direction","price","size",
// "timestamp","trade_time_ms","side","trade_id"}: one Trade each.
ParseStatus parse_trade(od::value &trade_value, bool legacy, Message &m) noexcept {
  od::object trade;
  if (trade_value.get_object().get(trade))
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  constexpr unsigned kPrice = 1U, kSize = 2U, kSide = 4U, kId = 8U, kTime = 16U;
  unsigned seen = 0;
  for (auto field_result : trade) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    bool ok = true;
    if (key == (legacy ? "price" : "p")) {
      ok = parse_price(scalar_text(v), *m.inst, d);
      e->trade.price = d.mantissa;
      seen |= kPrice;
    } else if (key == (legacy ? "size" : "v")) {
      ok = parse_qty(scalar_text(v), *m.inst, d);
      e->trade.qty = d.mantissa;
      seen |= kSize;
    } else if (key == (legacy ? "side" : "S")) {
      if (!parse_taker(v, *e))
        return ParseStatus::Malformed;
      seen |= kSide;
    } else if (key == (legacy ? "trade_id" : "i")) {
      std::string_view id;
      if (!string_text(v, id) || !parse_trade_id(id, e->trade.trade_id))
        return ParseStatus::Malformed;
      seen |= kId;
    } else if (key == (legacy ? "trade_time_ms" : "T")) {
      ok = parse_ms(scalar_text(v), e->exch_ts_ns);
      seen |= kTime;
    } else if (key == (legacy ? "symbol" : "s")) {
      if (!symbol_is(v, *m.inst))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == (kPrice | kSize | kSide | kId | kTime) ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_trades(od::value &data_value, bool legacy, Message &m) noexcept {
  od::array trades;
  if (data_value.get_array().get(trades))
    return ParseStatus::Malformed;
  for (auto trade_result : trades) {
    od::value trade;
    if (trade_result.get(trade))
      return ParseStatus::Malformed;
    const ParseStatus st = parse_trade(trade, legacy, m);
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

// ---- v5 tickers -----------------------------------------------------------------------------

// Best bid/ask text: "" means that side is empty (price 0, qty 0).
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

// data {"symbol", ..., "bid1Price","bid1Size","ask1Price","ask1Size", ...}. A delta carries only
// what changed, and spot tickers carry no bid/ask: the Bbo is kept only when all four are given.
ParseStatus parse_ticker_data(od::value &data_value, Message &m) noexcept {
  od::object data;
  if (data_value.get_object().get(data))
    return ParseStatus::Malformed;
  m.bbo_index = m.out.size();
  Event *e = m.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  const std::uint8_t px_dp = m.inst->price_decimals;
  const std::uint8_t sz_dp = m.inst->qty_decimals;
  for (auto field_result : data) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "bid1Price") {
      ok = parse_bbo_field(scalar_text(v), px_dp, e->bbo.bid_price);
      m.bbo_fields |= 1U;
    } else if (key == "bid1Size") {
      ok = parse_bbo_field(scalar_text(v), sz_dp, e->bbo.bid_qty);
      m.bbo_fields |= 2U;
    } else if (key == "ask1Price") {
      ok = parse_bbo_field(scalar_text(v), px_dp, e->bbo.ask_price);
      m.bbo_fields |= 4U;
    } else if (key == "ask1Size") {
      ok = parse_bbo_field(scalar_text(v), sz_dp, e->bbo.ask_qty);
      m.bbo_fields |= 8U;
    } else if (key == "symbol") {
      ok = symbol_is(v, *m.inst);
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return ParseStatus::Ok;
}

// ---- root -----------------------------------------------------------------------------------

ParseStatus parse_data(od::value &v, Message &m) noexcept {
  switch (m.channel) {
  case Channel::Book:
    return parse_v5_book_data(v, m);
  case Channel::Trade:
    return parse_trades(v, false, m);
  case Channel::LegacyTrade:
    return parse_trades(v, true, m);
  case Channel::Ticker:
    return parse_ticker_data(v, m);
  case Channel::LegacyBook:
  case Channel::Unknown:
    break; // LegacyBook is parsed by the caller (it needs the topic)
  }
  return ParseStatus::Malformed;
}

// "topic": the channel, the instrument and, for a legacy book, its topic state.
ParseStatus read_topic(od::value &v, InstrumentRegistry &registry, BybitLegacyBooks &legacy,
                       Message &m) noexcept {
  std::string_view topic;
  if (!string_text(v, topic))
    return ParseStatus::Malformed;
  std::string_view symbol;
  m.channel = classify(topic, symbol);
  if (m.channel == Channel::Unknown) {
    m.ignored = true;
    return ParseStatus::Ok;
  }
  m.inst = registry.resolve(m.venue, symbol, &bybit_default_instrument);
  if (m.inst == nullptr)
    return ParseStatus::UnknownInstrument;
  if (m.channel == Channel::LegacyBook)
    m.topic = &legacy.topic(m.inst->id); // allocates on the topic's first sight only
  return ParseStatus::Ok;
}

// The frame's channel-specific end: patches what came after the data.
ParseStatus finish(Message &m, bybit_legacy::BookMessage *legacy_book) noexcept {
  if (!m.data_seen)
    return ParseStatus::Malformed;
  switch (m.channel) {
  case Channel::Book:
    return finish_v5_book(m);
  case Channel::LegacyBook:
    if (!m.type_seen || !m.has_cross_seq || legacy_book == nullptr)
      return ParseStatus::Malformed;
    return bybit_legacy::finish_book(*legacy_book, m.type_snapshot, m.cross_seq, m.ts_e6_ns);
  case Channel::Ticker:
    if (m.bbo_fields != 15U) {
      m.out.truncate(m.bbo_index); // no complete top of book in this message
      return ParseStatus::Ignored;
    }
    m.out[m.bbo_index].exch_ts_ns = m.ts_ns;
    return ParseStatus::Ok;
  case Channel::Trade:
  case Channel::LegacyTrade:
    return ParseStatus::Ok;
  case Channel::Unknown:
    break;
  }
  return ParseStatus::Malformed;
}

ParseStatus parse_frame(od::parser &parser, InstrumentRegistry &registry, BybitLegacyBooks &legacy,
                        std::string_view frame, Message &m) noexcept {
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;

  // The legacy book message in progress (its handler keeps counts and the topic).
  std::optional<bybit_legacy::BookMessage> legacy_book;
  bool data_deferred = false; // "data" came before "topic": parsed on a second pass

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
      if (m.ignored) {
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
      } else if (key == "data") {
        if (m.inst == nullptr) {
          data_deferred = true; // skipped by the iterator
          continue;
        }
        if (m.data_seen)
          return ParseStatus::Malformed;
        m.data_seen = true;
        if (m.channel == Channel::LegacyBook) {
          legacy_book.emplace(m.out, *m.inst, m.venue, m.recv_ts_ns, *m.topic);
          st = bybit_legacy::parse_book_data(v, *legacy_book);
        } else {
          st = parse_data(v, m);
        }
      } else if (pass == 1) {
        continue; // read on the first pass
      } else if (key == "topic") {
        if (m.inst != nullptr)
          return ParseStatus::Malformed;
        st = read_topic(v, registry, legacy, m);
      } else if (key == "type") {
        std::string_view type;
        if (!string_text(v, type))
          return ParseStatus::Malformed;
        if (type == "snapshot")
          m.type_snapshot = true;
        else if (type != "delta")
          return ParseStatus::Malformed;
        m.type_seen = true;
      } else if (key == "ts") {
        if (!parse_ms(scalar_text(v), m.ts_ns))
          st = ParseStatus::BadNumber;
      } else if (key == "cts") {
        if (!parse_ms(scalar_text(v), m.cts_ns))
          st = ParseStatus::BadNumber;
      } else if (key == "cross_seq") {
        if (!parse_seq(scalar_text(v), m.cross_seq))
          st = ParseStatus::BadNumber;
        m.has_cross_seq = true;
      } else if (key == "timestamp_e6") {
        if (!parse_us(scalar_text(v), m.ts_e6_ns))
          st = ParseStatus::BadNumber;
      } else if (key == "success" || key == "op") {
        // subscribe acknowledgements and pongs: checked, not used
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
        m.ignored = true;
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
      if (st != ParseStatus::Ok)
        return st;
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (m.ignored || !data_deferred || m.inst == nullptr)
      break;
    data_deferred = false;
    doc.rewind();
  }
  if (m.ignored)
    return ParseStatus::Ignored;
  if (m.inst == nullptr) // no topic: not a market data push
    return ParseStatus::Malformed;
  return finish(m, legacy_book ? &*legacy_book : nullptr);
}

} // namespace

BybitParser::BybitParser(Venue venue, InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry), venue_(venue) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus BybitParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                               EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  Message m{out, venue_, recv_ts_ns};
  const ParseStatus st = parse_frame(parser_, *registry_, legacy_, frame, m);
  if (st != ParseStatus::Ok) {
    out.truncate(mark);
    if (is_error(st))
      lost_legacy_message(frame, m.topic);
  }
  return st;
}

// A legacy book message that could not be read is a lost update: its topic is untrusted until
// the next snapshot (cross_seq alone would not show the loss). When the walk failed before the
// topic (simdjson refuses a cut document as a whole), the topic is taken from the text itself:
// Bybit writes it first.
void BybitParser::lost_legacy_message(std::string_view frame, BybitLegacyTopic *topic) noexcept {
  if (topic == nullptr) {
    constexpr std::string_view kPrefix = "{\"topic\":\"orderBookL2_25.";
    if (frame.substr(0, kPrefix.size()) != kPrefix)
      return;
    const std::string_view rest = frame.substr(kPrefix.size());
    const std::size_t quote = rest.find('"');
    if (quote == std::string_view::npos)
      return;
    const Instrument *inst = registry_->find(venue_, rest.substr(0, quote));
    if (inst == nullptr)
      return;
    topic = legacy_.find(inst->id);
  }
  if (topic != nullptr)
    topic->broken = true;
}

} // namespace fh::venues
