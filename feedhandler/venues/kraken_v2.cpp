// Kraken WS v2 frame parser (hot path). See kraken_v2.hpp for the shape.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; KrakenV2Parser::parse removes a failed message's events. Numbers are read from
// the raw JSON token (number or string alike) with the exact decimal parser; the subscribe
// ack's depth goes into a table sized in the constructor.
#include "feedhandler/venues/kraken_v2.hpp"

#include <cstring>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"
#include "feedhandler/venues/kraken.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Trade, Ticker, Other };
enum class Kind : std::uint8_t { Unknown = 0, Snapshot, Update };

// heartbeat, status, ohlc, level3, instrument, ...: well-formed, not consumed.
Channel classify(std::string_view name) noexcept {
  if (name == "book")
    return Channel::Book;
  if (name == "trade")
    return Channel::Trade;
  if (name == "ticker")
    return Channel::Ticker;
  return Channel::Other;
}

// ---- time ------------------------------------------------------------------------------------

bool fixed_digits(std::string_view t, std::size_t pos, std::size_t n, unsigned &out) noexcept {
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(t[i]))
      return false;
    v = v * 10U + static_cast<unsigned>(t[i] - '0');
  }
  out = v;
  return true;
}

constexpr bool is_leap(unsigned y) noexcept {
  return (y % 4U == 0 && y % 100U != 0) || y % 400U == 0;
}

// Days from 1970-01-01 to y-m-d, proleptic Gregorian, for y >= 1970 (Hinnant's
// days_from_civil with the era arithmetic reduced to non-negative years).
constexpr std::int64_t days_from_civil(unsigned y, unsigned m, unsigned d) noexcept {
  const unsigned yy = m <= 2 ? y - 1 : y;
  const unsigned era = yy / 400U;
  const unsigned yoe = yy - era * 400U;
  const unsigned mp = m > 2 ? m - 3 : m + 9;
  const unsigned doy = (153U * mp + 2U) / 5U + d - 1U;
  const unsigned doe = yoe * 365U + yoe / 4U - yoe / 100U + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// ---- instruments -----------------------------------------------------------------------------

constexpr std::size_t kMaxCanonical = 64;

// v2 spells pairs with common asset codes (BTC/USD) where AssetPairs' wsname keeps Kraken's
// (XBT/USD); both name the same canonical BASE-QUOTE, which is looked up when the native
// spelling is not registered. Without Kraken metadata the pair is registered on first sight
// (control-path cost, as in v1).
const Instrument *resolve_symbol(InstrumentRegistry &registry, std::string_view symbol) noexcept {
  if (const Instrument *inst = registry.find(Venue::Kraken, symbol))
    return inst;
  const std::size_t slash = symbol.find('/');
  if (slash != std::string_view::npos && slash != 0 && slash + 1 < symbol.size()) {
    const std::string_view base = kraken_common_asset(symbol.substr(0, slash));
    const std::string_view quote = kraken_common_asset(symbol.substr(slash + 1));
    char canonical[kMaxCanonical];
    if (base.size() + 1 + quote.size() <= sizeof canonical) {
      std::memcpy(canonical, base.data(), base.size());
      canonical[base.size()] = '-';
      std::memcpy(canonical + base.size() + 1, quote.data(), quote.size());
      if (const Instrument *inst = registry.find_canonical(
              Venue::Kraken, std::string_view(canonical, base.size() + 1 + quote.size())))
        return inst;
    }
  }
  if (registry.has_metadata(Venue::Kraken))
    return nullptr;
  return registry.resolve(Venue::Kraken, symbol, &kraken_default_instrument);
}

// ---- data entries ----------------------------------------------------------------------------

struct Frame {
  EventBatch &out;
  InstrumentRegistry &registry;
  const KrakenV2Parser &parser;
  std::int64_t recv_ts_ns;

  Event *push(EventType type, const Instrument &inst) noexcept {
    return push_event(out, type, Venue::Kraken, inst.id, recv_ts_ns);
  }
};

// The entry's "symbol", wherever it sits in the object; the object is rewound afterwards so
// the caller walks it from the start with the decimals known.
ParseStatus entry_instrument(od::object &entry, InstrumentRegistry &registry,
                             const Instrument *&inst) noexcept {
  od::value symbol_value;
  if (entry.find_field_unordered("symbol").get(symbol_value))
    return ParseStatus::Malformed;
  std::string_view symbol;
  if (!string_text(symbol_value, symbol))
    return ParseStatus::Malformed;
  bool has_fields = false;
  if (entry.reset().get(has_fields))
    return ParseStatus::Malformed;
  inst = resolve_symbol(registry, symbol);
  return inst != nullptr ? ParseStatus::Ok : ParseStatus::UnknownInstrument;
}

// [{"price":p,"qty":q}, ...] in wire order, one BookLevel each.
ParseStatus parse_side(od::value &side_value, book::Side side, Frame &f, const Instrument &inst,
                       std::uint32_t &count) noexcept {
  od::array levels;
  if (side_value.get_array().get(levels))
    return ParseStatus::Malformed;
  for (auto level_result : levels) {
    od::object level;
    if (level_result.get_object().get(level))
      return ParseStatus::Malformed;
    std::string_view price;
    std::string_view qty;
    unsigned seen = 0;
    for (auto field_result : level) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      if (key == "price") {
        price = scalar_text(v);
        seen |= 1U;
      } else if (key == "qty") {
        qty = scalar_text(v);
        seen |= 2U;
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    if (seen != 3U)
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::BookLevel, inst);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    e->side = side;
    if (!kraken_v2_level(price, qty, inst, e->level))
      return ParseStatus::BadNumber;
    ++count;
  }
  return ParseStatus::Ok;
}

bool read_time(od::value &v, std::int64_t &ns) noexcept {
  std::string_view t;
  return string_text(v, t) && kraken_v2_time_to_ns(t, ns);
}

// {"symbol","bids","asks","checksum","timestamp"} -> BookBegin .. BookLevel* .. BookEnd. The
// snapshot flag is set by the caller once the message's "type" is known.
ParseStatus parse_book_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  ParseStatus st = entry_instrument(entry, f.registry, inst);
  if (st != ParseStatus::Ok)
    return st;
  const std::size_t begin_index = f.out.size();
  if (f.push(EventType::BookBegin, *inst) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint32_t levels = 0;
  std::int64_t ts_ns = 0;
  std::uint64_t checksum = 0;
  bool has_checksum = false;
  unsigned sides = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "bids" || key == "asks") {
      const unsigned bit = key == "bids" ? 1U : 2U;
      if ((sides & bit) != 0)
        return ParseStatus::Malformed; // a side twice would apply twice
      sides |= bit;
      st = parse_side(v, bit == 1U ? book::Side::Bid : book::Side::Ask, f, *inst, levels);
    } else if (key == "checksum") {
      if (!parse_u64(scalar_text(v), checksum) || checksum > 0xffffffffULL)
        return ParseStatus::BadNumber;
      has_checksum = true;
    } else if (key == "timestamp") {
      if (!read_time(v, ts_ns))
        return ParseStatus::BadNumber;
    } else if (key != "symbol" && !walk(v, kWalkDepth)) { // symbol: read above
      return ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  if (sides == 0)
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd, *inst);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  // The checksum text is formatted at the instrument's precision: only metadata gives it.
  if (has_checksum && inst->from_metadata) {
    end->flags = kFlagHasChecksum;
    end->end.checksum = static_cast<std::int64_t>(checksum);
  }
  Event &begin = f.out[begin_index];
  begin.exch_ts_ns = ts_ns;
  begin.begin.levels = levels;
  begin.begin.depth = f.parser.book_depth(inst->id);
  return ParseStatus::Ok;
}

// {"symbol","side","price","qty","ord_type","trade_id","timestamp"} -> Trade.
ParseStatus parse_trade_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  const ParseStatus st = entry_instrument(entry, f.registry, inst);
  if (st != ParseStatus::Ok)
    return st;
  Event *e = f.push(EventType::Trade, *inst);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    if (key == "price") {
      if (!parse_price(scalar_text(v), *inst, d))
        return ParseStatus::BadNumber;
      e->trade.price = d.mantissa;
      seen |= 1U;
    } else if (key == "qty") {
      if (!parse_qty(scalar_text(v), *inst, d))
        return ParseStatus::BadNumber;
      e->trade.qty = d.mantissa;
      seen |= 2U;
    } else if (key == "side") { // the taker's side
      std::string_view side;
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      if (side == "sell")
        e->flags |= kFlagBuyerIsMaker;
      else if (side != "buy")
        return ParseStatus::Malformed;
      seen |= 4U;
    } else if (key == "trade_id") {
      if (!parse_u64(scalar_text(v), e->trade.trade_id))
        return ParseStatus::BadNumber;
    } else if (key == "timestamp") {
      if (!read_time(v, e->exch_ts_ns))
        return ParseStatus::BadNumber;
    } else if (key != "symbol" && !walk(v, kWalkDepth)) { // ord_type, ...
      return ParseStatus::Malformed;
    }
  }
  return seen == 7U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// {"symbol","bid","bid_qty","ask","ask_qty","last","volume",...} -> Bbo.
ParseStatus parse_ticker_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  const ParseStatus st = entry_instrument(entry, f.registry, inst);
  if (st != ParseStatus::Ok)
    return st;
  Event *e = f.push(EventType::Bbo, *inst);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    if (key == "bid" || key == "ask") {
      if (!parse_price(scalar_text(v), *inst, d))
        return ParseStatus::BadNumber;
      (key == "bid" ? e->bbo.bid_price : e->bbo.ask_price) = d.mantissa;
      seen |= key == "bid" ? 1U : 2U;
    } else if (key == "bid_qty" || key == "ask_qty") {
      if (!parse_qty(scalar_text(v), *inst, d))
        return ParseStatus::BadNumber;
      (key == "bid_qty" ? e->bbo.bid_qty : e->bbo.ask_qty) = d.mantissa;
      seen |= key == "bid_qty" ? 4U : 8U;
    } else if (key == "timestamp") {
      if (!read_time(v, e->exch_ts_ns))
        return ParseStatus::BadNumber;
    } else if (key != "symbol" && !walk(v, kWalkDepth)) { // last, volume, vwap, ...
      return ParseStatus::Malformed;
    }
  }
  return seen == 15U ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_data(od::value &data_value, Channel channel, Frame &f,
                       std::size_t &entries) noexcept {
  od::array data;
  if (data_value.get_array().get(data))
    return ParseStatus::Malformed;
  for (auto entry_result : data) {
    od::value entry;
    if (entry_result.get(entry))
      return ParseStatus::Malformed;
    ParseStatus st = ParseStatus::Malformed;
    switch (channel) {
    case Channel::Book:
      st = parse_book_entry(entry, f);
      break;
    case Channel::Trade:
      st = parse_trade_entry(entry, f);
      break;
    case Channel::Ticker:
      st = parse_ticker_entry(entry, f);
      break;
    case Channel::Unknown:
    case Channel::Other:
      break;
    }
    if (st != ParseStatus::Ok)
      return st;
    ++entries;
  }
  return ParseStatus::Ok;
}

// ---- acknowledgements ------------------------------------------------------------------------

// {"method":"subscribe","result":{"channel":"book","depth":N,"symbol":S,...},"success":true}
struct Ack {
  std::string_view method;
  std::string_view channel;
  std::string_view symbol;
  std::uint64_t depth = 0;
  bool success = false;
};

ParseStatus parse_ack_result(od::value &value, Ack &ack) noexcept {
  od::json_type type{};
  if (value.type().get(type))
    return ParseStatus::Malformed;
  if (type != od::json_type::object)
    return walk(value, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
  od::object result;
  if (value.get_object().get(result))
    return ParseStatus::Malformed;
  for (auto field_result : result) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "channel") {
      if (!string_text(v, ack.channel))
        return ParseStatus::Malformed;
    } else if (key == "depth") {
      if (!parse_u64(scalar_text(v), ack.depth))
        return ParseStatus::Malformed;
    } else if (key == "symbol" && v.type().get(type) == simdjson::SUCCESS &&
               type == od::json_type::string) {
      if (!string_text(v, ack.symbol))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  return ParseStatus::Ok;
}

// ---- frame -----------------------------------------------------------------------------------

ParseStatus parse_frame(od::parser &parser, Frame &f, std::size_t mark, std::string_view frame,
                        Ack &ack) noexcept {
  std::size_t first = 0;
  while (first < frame.size() && is_space(frame[first]))
    ++first;
  if (first == frame.size() || frame[first] != '{')
    return ParseStatus::Malformed; // v1 arrays and anything else
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  od::object root;
  if (doc.get_object().get(root))
    return ParseStatus::Malformed;
  Channel channel = Channel::Unknown;
  Kind kind = Kind::Unknown;
  bool has_data = false;
  bool has_method = false;
  std::size_t entries = 0;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "channel") {
      std::string_view name;
      if (channel != Channel::Unknown || !string_text(v, name))
        return ParseStatus::Malformed;
      channel = classify(name);
    } else if (key == "type") {
      std::string_view type;
      if (!string_text(v, type))
        return ParseStatus::Malformed;
      kind = type == "snapshot" ? Kind::Snapshot : type == "update" ? Kind::Update : Kind::Unknown;
    } else if (key == "data") {
      if (has_data)
        return ParseStatus::Malformed;
      has_data = true;
      if (channel == Channel::Unknown) // Kraken names the channel first
        return ParseStatus::Malformed;
      if (channel == Channel::Other) {
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
      } else {
        st = parse_data(v, channel, f, entries);
      }
    } else if (key == "method") {
      if (!string_text(v, ack.method))
        return ParseStatus::Malformed;
      has_method = true;
    } else if (key == "result") {
      st = parse_ack_result(v, ack);
    } else if (key == "success") {
      if (v.get_bool().get(ack.success))
        return ParseStatus::Malformed;
    } else if (!walk(v, kWalkDepth)) { // req_id, time_in, time_out, error, warnings, ...
      return ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  // The whole document must have been consumed (nothing after the root object).
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;

  switch (channel) {
  case Channel::Unknown:
    return has_method ? ParseStatus::Ignored : ParseStatus::Malformed;
  case Channel::Other: // heartbeat, status, ...
    return ParseStatus::Ignored;
  case Channel::Book:
  case Channel::Trade:
  case Channel::Ticker:
    break;
  }
  if (!has_data || kind == Kind::Unknown)
    return ParseStatus::Malformed;
  if (entries == 0)
    return ParseStatus::Ignored;
  if (channel == Channel::Trade && kind == Kind::Snapshot)
    return ParseStatus::Ignored; // recent history sent on subscribe, not new prints
  if (channel == Channel::Book && kind == Kind::Snapshot) {
    for (std::size_t i = mark; i < f.out.size(); ++i)
      if (f.out[i].type == EventType::BookBegin)
        f.out[i].flags |= kFlagSnapshot;
  }
  return ParseStatus::Ok;
}

} // namespace

KrakenV2Parser::KrakenV2Parser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry), depth_(InstrumentRegistry::kMaxInstruments, 0) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (frame_capacity != 0 && parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

std::uint32_t KrakenV2Parser::book_depth(std::uint32_t instrument) const noexcept {
  if (instrument < depth_.size() && depth_[instrument] != 0)
    return depth_[instrument];
  return kDefaultBookDepth;
}

ParseStatus KrakenV2Parser::parse(simdjson::ondemand::parser &parser, std::string_view frame,
                                  std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  Frame f{out, *registry_, *this, recv_ts_ns};
  Ack ack;
  const ParseStatus st = parse_frame(parser, f, mark, frame, ack);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  // A successful book subscription says the depth Kraken keeps: truncate to it from now on.
  if (st == ParseStatus::Ignored && ack.method == "subscribe" && ack.success &&
      ack.channel == "book" && ack.depth != 0 && ack.depth <= 0xffffU && !ack.symbol.empty()) {
    const Instrument *inst = resolve_symbol(*registry_, ack.symbol);
    if (inst != nullptr && inst->id < depth_.size())
      depth_[inst->id] = static_cast<std::uint16_t>(ack.depth);
  }
  return st;
}

bool kraken_v2_first_key(std::string_view frame) noexcept {
  std::size_t i = 0;
  while (i < frame.size() && is_space(frame[i]))
    ++i;
  if (i == frame.size() || frame[i] != '{')
    return false;
  ++i;
  while (i < frame.size() && is_space(frame[i]))
    ++i;
  const std::string_view rest = frame.substr(i);
  return rest.substr(0, 9) == "\"channel\"" || rest.substr(0, 8) == "\"method\"";
}

bool kraken_v2_level(std::string_view price, std::string_view qty, const Instrument &inst,
                     BookLevelData &out) noexcept {
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  if (!parse_price(price, inst, p) || !parse_qty(qty, inst, q))
    return false;
  out.price = p.mantissa;
  out.qty = q.mantissa;
  out.price_text_dp = inst.price_decimals;
  out.qty_text_dp = inst.qty_decimals;
  return true;
}

bool kraken_v2_time_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  // YYYY-MM-DDTHH:MM:SS then [.f{1,9}] then Z
  constexpr std::size_t kBase = 19;
  if (t.size() < kBase + 1 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t.back() != 'Z')
    return false;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixed_digits(t, 0, 4, year) || !fixed_digits(t, 5, 2, month) ||
      !fixed_digits(t, 8, 2, day) || !fixed_digits(t, 11, 2, hour) ||
      !fixed_digits(t, 14, 2, minute) || !fixed_digits(t, 17, 2, second))
    return false;
  static constexpr unsigned kMonthDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // Up to 2262 the nanoseconds fit an int64.
  if (year < 1970 || year > 2261 || month < 1 || month > 12 || day < 1 || hour > 23 ||
      minute > 59 || second > 59 ||
      day > kMonthDays[month - 1] + (month == 2 && is_leap(year) ? 1U : 0U))
    return false;
  std::uint64_t frac_ns = 0;
  const std::size_t frac_end = t.size() - 1; // the 'Z'
  if (frac_end > kBase) {
    const std::size_t digits = frac_end - kBase - 1;
    if (t[kBase] != '.' || digits == 0 || digits > 9 ||
        !parse_u64(t.substr(kBase + 1, digits), frac_ns))
      return false;
    frac_ns *= static_cast<std::uint64_t>(book::kPow10[9 - digits]);
  }
  const std::int64_t days = days_from_civil(year, month, day);
  const std::int64_t seconds = days * 86400 + static_cast<std::int64_t>(hour) * 3600 +
                               static_cast<std::int64_t>(minute) * 60 +
                               static_cast<std::int64_t>(second);
  out_ns = seconds * 1'000'000'000 + static_cast<std::int64_t>(frac_ns);
  return true;
}

} // namespace fh::venues
