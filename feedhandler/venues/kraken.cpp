// Kraken WS v1 frame parser (hot path). See kraken.hpp for the shape.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; KrakenParser::parse removes a failed message's events. Numbers are read from
// raw JSON tokens, so strings ("354.15000000") and bare numbers (ticker whole-lot volume)
// go through the same exact decimal parser.
#include "feedhandler/venues/kraken.hpp"

#include <cstring>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t { Unknown = 0, Book, Trade, Ticker };

// "book-1000" -> Book with depth 1000; "trade"; "ticker"; anything else is a channel we do
// not consume (spread, ohlc-N, ...).
Channel classify(std::string_view name, std::uint32_t &depth) noexcept {
  depth = 0;
  if (name.substr(0, 4) == "book") {
    if (name.size() == 4)
      return Channel::Book;
    std::uint64_t n = 0;
    if (name[4] != '-' || name.size() > 15 || !parse_u64(name.substr(5), n) || n > 0xffffffffULL)
      return Channel::Unknown;
    depth = static_cast<std::uint32_t>(n);
    return Channel::Book;
  }
  if (name == "trade")
    return Channel::Trade;
  if (name == "ticker")
    return Channel::Ticker;
  return Channel::Unknown;
}

// Kraken times are Unix seconds with a fraction ("1618678133.365913") -> ns, exactly.
bool parse_seconds_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  const std::size_t dot = t.find('.');
  std::uint64_t sec = 0;
  if (!parse_u64(t.substr(0, dot), sec) || sec > 9'223'372'035ULL)
    return false;
  std::uint64_t frac = 0;
  if (dot != std::string_view::npos) {
    const std::string_view f = t.substr(dot + 1);
    if (f.size() > 9 || !parse_u64(f, frac))
      return false;
    frac *= static_cast<std::uint64_t>(book::kPow10[9 - f.size()]);
  }
  out_ns = static_cast<std::int64_t>(sec * 1'000'000'000ULL + frac);
  return true;
}

struct Names {
  std::string_view channel;
  std::string_view pair;
};

std::size_t skip_space_back(std::string_view s, std::size_t i) noexcept {
  while (i > 0 && is_space(s[i - 1]))
    --i;
  return i;
}

// Reads the string that ends just before position `i` (which follows its closing quote).
// Refuses escapes: those frames take the on-demand path. Returns the opening quote's index.
bool string_before(std::string_view s, std::size_t i, std::string_view &out,
                   std::size_t &open) noexcept {
  if (i == 0 || s[i - 1] != '"')
    return false;
  const std::size_t close = i - 1;
  std::size_t j = close;
  while (j > 0) {
    const char c = s[j - 1];
    if (c == '"') {
      open = j - 1;
      out = s.substr(j, close - j);
      return true;
    }
    if (c == '\\')
      return false;
    --j;
  }
  return false;
}

// Fast path: ..., "book-1000", "XBT/CHF"] read backwards from the end of the frame text. The
// forward pass verifies these are really the array's last two elements.
bool scan_trailing_names(std::string_view frame, Names &names) noexcept {
  std::size_t i = skip_space_back(frame, frame.size());
  if (i == 0 || frame[i - 1] != ']')
    return false;
  i = skip_space_back(frame, i - 1);
  std::size_t open = 0;
  if (!string_before(frame, i, names.pair, open))
    return false;
  i = skip_space_back(frame, open);
  if (i == 0 || frame[i - 1] != ',')
    return false;
  i = skip_space_back(frame, i - 1);
  return string_before(frame, i, names.channel, open);
}

// Cold path for frames the backward scan refuses: one on-demand pass collecting the last two
// elements (unescaped into `storage`), then the document is rewound for the real pass.
constexpr std::size_t kMaxNameLength = 64;
struct NameStorage {
  char channel[kMaxNameLength];
  char pair[kMaxNameLength];
};

[[gnu::cold]] [[gnu::noinline]] bool names_from_document(od::document &doc, NameStorage &storage,
                                                         Names &names) noexcept {
  od::array root;
  if (doc.get_array().get(root))
    return false;
  std::size_t index = 0;
  std::size_t last_string = 0;     // 1-based element index of the last string seen
  std::size_t previous_string = 0; // and of the one before it
  char last[kMaxNameLength];
  std::size_t last_len = 0;
  std::size_t previous_len = 0;
  for (auto element_result : root) {
    od::value element;
    if (element_result.get(element))
      return false;
    ++index;
    od::json_type type{};
    if (element.type().get(type))
      return false;
    if (type != od::json_type::string)
      continue;
    std::string_view s;
    if (element.get_string().get(s) || s.size() > kMaxNameLength)
      return false;
    std::memcpy(storage.channel, last, last_len);
    previous_len = last_len;
    previous_string = last_string;
    std::memcpy(last, s.data(), s.size());
    last_len = s.size();
    last_string = index;
  }
  if (index < 3 || last_string != index || previous_string != index - 1)
    return false;
  std::memcpy(storage.pair, last, last_len);
  names.channel = std::string_view(storage.channel, previous_len);
  names.pair = std::string_view(storage.pair, last_len);
  doc.rewind();
  return true;
}

struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Kraken, inst->id, recv_ts_ns);
  }
};

// One side of a book dict: [[price, volume, timestamp(, "r")], ...] in wire order.
ParseStatus parse_levels(od::value &side_value, book::Side side, Frame &f, std::uint32_t &count,
                         std::int64_t &last_ts_ns) noexcept {
  return parse_book_side(side_value, side, f, 3, count,
                         [&last_ts_ns](unsigned index, od::value &element, Event &) noexcept {
                           // [3] "r" (republish): the level is applied like any other
                           if (index == 2 && !parse_seconds_to_ns(scalar_text(element), last_ts_ns))
                             return ParseStatus::BadNumber;
                           return ParseStatus::Ok;
                         });
}

struct BookState {
  std::size_t begin_index = 0;
  std::uint32_t levels = 0;
  std::int64_t last_ts_ns = 0;
  std::int64_t checksum = 0;
  bool started = false;
  bool snapshot = false;
  bool has_checksum = false;
};

ParseStatus parse_book_dict(od::value &dict_value, Frame &f, BookState &b) noexcept {
  od::object dict;
  if (dict_value.get_object().get(dict))
    return ParseStatus::Malformed;
  if (!b.started) {
    b.begin_index = f.out.size();
    if (f.push(EventType::BookBegin) == nullptr)
      return ParseStatus::BatchOverflow;
    b.started = true;
  }
  for (auto field_result : dict) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "a") {
      st = parse_levels(v, book::Side::Ask, f, b.levels, b.last_ts_ns);
    } else if (key == "b") {
      st = parse_levels(v, book::Side::Bid, f, b.levels, b.last_ts_ns);
    } else if (key == "as") {
      b.snapshot = true;
      st = parse_levels(v, book::Side::Ask, f, b.levels, b.last_ts_ns);
    } else if (key == "bs") {
      b.snapshot = true;
      st = parse_levels(v, book::Side::Bid, f, b.levels, b.last_ts_ns);
    } else if (key == "c") {
      std::uint64_t c = 0;
      if (!parse_u64(scalar_text(v), c) || c > 0xffffffffULL)
        return ParseStatus::BadNumber;
      b.checksum = static_cast<std::int64_t>(c);
      b.has_checksum = true;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

ParseStatus finish_book(Frame &f, const BookState &b, std::uint32_t depth) noexcept {
  if (!b.started)
    return ParseStatus::Malformed;
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = b.last_ts_ns;
  if (b.has_checksum) {
    end->flags = kFlagHasChecksum;
    end->end.checksum = b.checksum;
  }
  Event &begin = f.out[b.begin_index];
  begin.exch_ts_ns = b.last_ts_ns;
  begin.flags = b.snapshot ? kFlagSnapshot : std::uint8_t{0};
  begin.begin.levels = b.levels;
  begin.begin.depth = depth;
  return ParseStatus::Ok;
}

// [[price, volume, time, side, orderType, misc], ...]
ParseStatus parse_trades(od::value &list_value, Frame &f) noexcept {
  od::array list;
  if (list_value.get_array().get(list))
    return ParseStatus::Malformed;
  for (auto trade_result : list) {
    od::array trade;
    if (trade_result.get_array().get(trade))
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::Trade);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    unsigned index = 0;
    for (auto element_result : trade) {
      od::value element;
      if (element_result.get(element))
        return ParseStatus::Malformed;
      book::ParsedDecimal d{};
      const std::string_view t = scalar_text(element);
      switch (index) {
      case 0:
        if (!parse_price(t, *f.inst, d))
          return ParseStatus::BadNumber;
        e->trade.price = d.mantissa;
        break;
      case 1:
        if (!parse_qty(t, *f.inst, d))
          return ParseStatus::BadNumber;
        e->trade.qty = d.mantissa;
        break;
      case 2:
        if (!parse_seconds_to_ns(t, e->exch_ts_ns))
          return ParseStatus::BadNumber;
        break;
      case 3: {
        std::string_view side;
        if (!string_text(element, side))
          return ParseStatus::Malformed;
        if (side == "s")
          e->flags |= kFlagBuyerIsMaker;
        else if (side != "b")
          return ParseStatus::Malformed;
        break;
      }
      default:
        break; // order type (market/limit), misc
      }
      ++index;
    }
    if (index < 4)
      return ParseStatus::Malformed;
  }
  return ParseStatus::Ok;
}

// "a"/"b": [price, wholeLotVolume, lotVolume] -> price and lotVolume.
ParseStatus parse_ticker_side(od::value &side_value, const Instrument &inst, std::int64_t &price,
                              std::int64_t &qty) noexcept {
  od::array side;
  if (side_value.get_array().get(side))
    return ParseStatus::Malformed;
  unsigned index = 0;
  for (auto element_result : side) {
    od::value element;
    if (element_result.get(element))
      return ParseStatus::Malformed;
    book::ParsedDecimal d{};
    if (index == 0) {
      if (!parse_price(scalar_text(element), inst, d))
        return ParseStatus::BadNumber;
      price = d.mantissa;
    } else if (index == 2) {
      if (!parse_qty(scalar_text(element), inst, d))
        return ParseStatus::BadNumber;
      qty = d.mantissa;
    }
    ++index;
  }
  return index >= 3 ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_ticker(od::value &dict_value, Frame &f) noexcept {
  od::object dict;
  if (dict_value.get_object().get(dict))
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : dict) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    ParseStatus st = ParseStatus::Ok;
    if (key == "a") {
      st = parse_ticker_side(field.value(), *f.inst, e->bbo.ask_price, e->bbo.ask_qty);
      seen |= 1U;
    } else if (key == "b") {
      st = parse_ticker_side(field.value(), *f.inst, e->bbo.bid_price, e->bbo.bid_qty);
      seen |= 2U;
    } else if (!walk(field.value(), kWalkDepth)) { // c, v, p, t, l, h, o
      return ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return seen == 3U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// Walks an object frame like walk_document and tells whether it is a v2 message: keyed
// "channel" or "method", with no v1 "event".
bool walk_object_frame(od::document &doc, bool &is_v2) noexcept {
  od::object root;
  if (doc.get_object().get(root))
    return false;
  bool has_event = false;
  bool has_v2_key = false;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return false;
    const auto key = field.key();
    has_event |= key == "event";
    has_v2_key |= key == "channel" || key == "method";
    if (!walk(field.value(), kWalkDepth - 1))
      return false;
  }
  is_v2 = has_v2_key && !has_event;
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

ParseStatus parse_frame(od::parser &parser, InstrumentRegistry &registry, std::string_view frame,
                        std::int64_t recv_ts_ns, EventBatch &out, bool &is_v2) noexcept {
  std::size_t first = 0;
  while (first < frame.size() && is_space(frame[first]))
    ++first;
  if (first == frame.size())
    return ParseStatus::Malformed;
  if (frame[first] != '[' && frame[first] != '{')
    return ParseStatus::Malformed;
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  // {"event":"heartbeat"|"systemStatus"|"subscriptionStatus"|"pong"...}: no market data.
  if (frame[first] == '{')
    return walk_object_frame(doc, is_v2) ? ParseStatus::Ignored : ParseStatus::Malformed;

  Names names;
  NameStorage storage;
  if (!scan_trailing_names(frame, names) && !names_from_document(doc, storage, names))
    return ParseStatus::Malformed;
  std::uint32_t depth = 0;
  const Channel channel = classify(names.channel, depth);
  if (channel == Channel::Unknown) // spread, ohlc-N, ...: checked, not used
    return walk_document(doc) ? ParseStatus::Ignored : ParseStatus::Malformed;

  Frame f{out, registry.resolve(Venue::Kraken, names.pair, &kraken_default_instrument), recv_ts_ns};
  if (f.inst == nullptr)
    return ParseStatus::UnknownInstrument;

  // [chanId, payload..., channelName, pair]
  od::array root;
  if (doc.get_array().get(root))
    return ParseStatus::Malformed;
  enum class Expect : std::uint8_t { ChannelId, Payload, Pair, End };
  Expect expect = Expect::ChannelId;
  unsigned payloads = 0;
  BookState book_state;
  for (auto element_result : root) {
    od::value element;
    if (element_result.get(element))
      return ParseStatus::Malformed;
    switch (expect) {
    case Expect::ChannelId: {
      std::uint64_t channel_id = 0;
      if (element.get_uint64().get(channel_id))
        return ParseStatus::Malformed;
      expect = Expect::Payload;
      break;
    }
    case Expect::Payload: {
      od::json_type type{};
      if (element.type().get(type))
        return ParseStatus::Malformed;
      if (type == od::json_type::string) { // the channel name closes the payload
        std::string_view name;
        if (!string_text(element, name) || name != names.channel || payloads == 0)
          return ParseStatus::Malformed;
        expect = Expect::Pair;
        break;
      }
      ParseStatus st = ParseStatus::Malformed;
      switch (channel) {
      case Channel::Book:
        st = parse_book_dict(element, f, book_state);
        break;
      case Channel::Trade:
        st = payloads == 0 ? parse_trades(element, f) : st;
        break;
      case Channel::Ticker:
        st = payloads == 0 ? parse_ticker(element, f) : st;
        break;
      case Channel::Unknown:
        break;
      }
      if (st != ParseStatus::Ok)
        return st;
      ++payloads;
      break;
    }
    case Expect::Pair: {
      std::string_view pair;
      if (!string_text(element, pair) || pair != names.pair)
        return ParseStatus::Malformed;
      expect = Expect::End;
      break;
    }
    case Expect::End:
      return ParseStatus::Malformed;
    }
  }
  if (expect != Expect::End)
    return ParseStatus::Malformed;
  // The whole document must have been consumed (nothing after the root array).
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;
  if (channel == Channel::Book)
    return finish_book(f, book_state, depth);
  return ParseStatus::Ok;
}

} // namespace

KrakenParser::KrakenParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry), v2_(registry, 0) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus KrakenParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                EventBatch &out) noexcept {
  if (kraken_v2_first_key(frame))
    return v2_.parse(parser_, frame, recv_ts_ns, out);
  const std::size_t mark = out.size();
  bool is_v2 = false;
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out, is_v2);
  if (is_v2) // a v2 object that does not open with "channel"/"method"
    return v2_.parse(parser_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
