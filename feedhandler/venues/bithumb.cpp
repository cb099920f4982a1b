// Bithumb frame parser (hot path). See bithumb.hpp for the messages and why the books never
// sync. One pass in wire order; if "content" ever came before "type", the document is rewound
// once and content is parsed on the second pass.
#include "feedhandler/venues/bithumb.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Kind : std::uint8_t { Unknown = 0, Depth, Transaction, Other };

Kind classify(std::string_view type) noexcept {
  if (type == "orderbookdepth")
    return Kind::Depth;
  if (type == "transaction")
    return Kind::Transaction;
  return Kind::Other; // ticker and anything else we do not consume
}

// A price or size at the instrument's scale: exact, and never negative.
bool price_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_price(t, inst, out) && out.mantissa >= 0;
}
bool qty_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_qty(t, inst, out) && out.mantissa >= 0;
}

// "1622591012656250": Unix microseconds. 16 digits keep the ns product in int64.
bool parse_us_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t us = 0;
  if (t.size() > 16 || !parse_u64(t, us))
    return false;
  out_ns = static_cast<std::int64_t>(us) * 1000;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool fixed_digits(std::string_view t, std::size_t pos, std::size_t n, unsigned &out) noexcept {
  if (pos + n > t.size())
    return false;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(t[i]))
      return false;
    v = v * 10U + static_cast<unsigned>(t[i] - '0');
  }
  out = v;
  return true;
}

// contDtm "2021-06-02 08:43:34.555058": Korea Standard Time (UTC+9, no daylight saving),
// fraction of 0..9 digits -> Unix ns.
bool parse_kst_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  constexpr std::int64_t kKstOffsetS = 9 * 3600;
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':' ||
      !fixed_digits(t, 0, 4, y) || !fixed_digits(t, 5, 2, mo) || !fixed_digits(t, 8, 2, d) ||
      !fixed_digits(t, 11, 2, h) || !fixed_digits(t, 14, 2, mi) || !fixed_digits(t, 17, 2, s))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return false;
  std::int64_t frac_ns = 0;
  if (t.size() > 19) {
    const std::size_t digits = t.size() - 20;
    if (t[19] != '.' || digits == 0 || digits > 9)
      return false;
    unsigned frac = 0;
    if (!fixed_digits(t, 20, digits, frac))
      return false;
    frac_ns = static_cast<std::int64_t>(frac) * book::kPow10[9 - digits];
  }
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  out_ns = (secs - kKstOffsetS) * 1'000'000'000 + frac_ns;
  return true;
}

struct Message {
  EventBatch &out;
  InstrumentRegistry &registry;
  std::int64_t recv_ts_ns;
  Kind kind = Kind::Unknown;
  bool content_done = false;
  bool content_deferred = false;
  // The depth batch in progress (one per run of entries of one symbol).
  const Instrument *inst = nullptr;
  std::string_view symbol{};
  std::size_t begin_index = 0;
  std::uint32_t levels = 0;
};

ParseStatus resolve(Message &m, std::string_view symbol, const Instrument *&inst) noexcept {
  if (symbol.empty())
    return ParseStatus::Malformed;
  inst = m.registry.resolve(Venue::Bithumb, symbol, &bithumb_default_instrument);
  return inst == nullptr ? ParseStatus::UnknownInstrument : ParseStatus::Ok;
}

ParseStatus close_batch(Message &m) noexcept {
  if (m.inst == nullptr)
    return ParseStatus::Ok;
  if (push_event(m.out, EventType::BookEnd, Venue::Bithumb, m.inst->id, m.recv_ts_ns) == nullptr)
    return ParseStatus::BatchOverflow;
  m.out[m.begin_index].begin.levels = m.levels;
  m.inst = nullptr;
  return ParseStatus::Ok;
}

struct EntryText {
  std::string_view symbol, side, price, quantity, total; // orderbookdepth
  std::string_view gb, cont_price, cont_qty, cont_dtm;   // transaction
};

ParseStatus read_entry(od::value &entry_value, EntryText &t) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    std::string_view *slot = nullptr;
    if (key == "symbol")
      slot = &t.symbol;
    else if (key == "orderType")
      slot = &t.side;
    else if (key == "price")
      slot = &t.price;
    else if (key == "quantity")
      slot = &t.quantity;
    else if (key == "total")
      slot = &t.total;
    else if (key == "buySellGb")
      slot = &t.gb;
    else if (key == "contPrice")
      slot = &t.cont_price;
    else if (key == "contQty")
      slot = &t.cont_qty;
    else if (key == "contDtm")
      slot = &t.cont_dtm;
    if (slot == nullptr) {
      if (!walk(v, kWalkDepth))
        return ParseStatus::Malformed;
    } else if (!string_text(v, *slot)) { // Bithumb sends every value as a string
      return ParseStatus::Malformed;
    }
  }
  return ParseStatus::Ok;
}

ParseStatus depth_entry(Message &m, const EntryText &t) noexcept {
  if (t.symbol.empty() || t.price.empty() || t.quantity.empty())
    return ParseStatus::Malformed;
  book::Side side{};
  if (t.side == "ask")
    side = book::Side::Ask;
  else if (t.side == "bid")
    side = book::Side::Bid;
  else
    return ParseStatus::Malformed;
  if (m.inst == nullptr || t.symbol != m.symbol) {
    ParseStatus st = close_batch(m);
    if (st == ParseStatus::Ok)
      st = resolve(m, t.symbol, m.inst);
    if (st != ParseStatus::Ok)
      return st;
    m.symbol = t.symbol;
    m.levels = 0;
    m.begin_index = m.out.size();
    // No snapshot flag, no sequence: the builder never syncs these (see bithumb.hpp).
    if (push_event(m.out, EventType::BookBegin, Venue::Bithumb, m.inst->id, m.recv_ts_ns) ==
        nullptr)
      return ParseStatus::BatchOverflow;
  }
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  std::uint64_t orders = 0;
  if (!price_of(t.price, *m.inst, p) || !qty_of(t.quantity, *m.inst, q) ||
      (!t.total.empty() && (!parse_u64(t.total, orders) || orders > 0xffffffffULL)))
    return ParseStatus::BadNumber;
  Event *e = push_event(m.out, EventType::BookLevel, Venue::Bithumb, m.inst->id, m.recv_ts_ns);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->side = side;
  e->level.price = p.mantissa;
  e->level.qty = q.mantissa;
  e->level.orders = static_cast<std::uint32_t>(orders);
  e->level.price_text_dp = p.text_decimals;
  e->level.qty_text_dp = q.text_decimals;
  ++m.levels;
  return ParseStatus::Ok;
}

ParseStatus transaction_entry(Message &m, const EntryText &t) noexcept {
  if (t.cont_price.empty() || t.cont_qty.empty() || t.gb.empty())
    return ParseStatus::Malformed;
  const Instrument *inst = nullptr;
  const ParseStatus st = resolve(m, t.symbol, inst);
  if (st != ParseStatus::Ok)
    return st;
  std::uint8_t flags = 0;
  if (t.gb == "1") // 매도체결: the taker sold
    flags = kFlagBuyerIsMaker;
  else if (t.gb != "2") // 매수체결: the taker bought
    return ParseStatus::Malformed;
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  std::int64_t ts = 0;
  if (!price_of(t.cont_price, *inst, p) || !qty_of(t.cont_qty, *inst, q) ||
      (!t.cont_dtm.empty() && !parse_kst_to_ns(t.cont_dtm, ts)))
    return ParseStatus::BadNumber;
  Event *e = push_event(m.out, EventType::Trade, Venue::Bithumb, inst->id, m.recv_ts_ns);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->flags = flags;
  e->exch_ts_ns = ts;
  e->trade.price = p.mantissa;
  e->trade.qty = q.mantissa;
  return ParseStatus::Ok;
}

ParseStatus parse_list(od::value &list_value, Message &m) noexcept {
  od::array list;
  if (list_value.get_array().get(list))
    return ParseStatus::Malformed;
  for (auto entry_result : list) {
    od::value entry;
    if (entry_result.get(entry))
      return ParseStatus::Malformed;
    EntryText t{};
    ParseStatus st = read_entry(entry, t);
    if (st == ParseStatus::Ok)
      st = m.kind == Kind::Depth ? depth_entry(m, t) : transaction_entry(m, t);
    if (st != ParseStatus::Ok)
      return st;
  }
  return close_batch(m);
}

// "content":{"list":[...],"datetime":".."}: the message time (depth only) may follow the
// list, so it is stamped on the message's BookBegin/BookEnd events at the end.
ParseStatus parse_content(od::value &content_value, Message &m) noexcept {
  od::object content;
  if (content_value.get_object().get(content))
    return ParseStatus::Malformed;
  const std::size_t first = m.out.size();
  bool list_seen = false;
  std::int64_t ts = 0;
  for (auto field_result : content) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    if (key == "list") {
      if (list_seen)
        return ParseStatus::Malformed;
      list_seen = true;
      const ParseStatus st = parse_list(v, m);
      if (st != ParseStatus::Ok)
        return st;
    } else if (key == "datetime") {
      std::string_view text;
      if (!string_text(v, text))
        return ParseStatus::Malformed;
      if (!parse_us_to_ns(text, ts))
        return ParseStatus::BadNumber;
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
  }
  if (!list_seen)
    return ParseStatus::Malformed;
  for (std::size_t i = first; i < m.out.size(); ++i)
    if (m.out[i].type == EventType::BookBegin || m.out[i].type == EventType::BookEnd)
      m.out[i].exch_ts_ns = ts;
  m.content_done = true;
  return ParseStatus::Ok;
}

ParseStatus parse_document(od::document &doc, Message &m) noexcept {
  for (int pass = 0; pass < 2; ++pass) {
    od::object root;
    if (doc.get_object().get(root))
      return ParseStatus::Malformed;
    bool status_reply = false;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      ParseStatus st = ParseStatus::Ok;
      if (pass == 1) {
        if (key == "content")
          st = m.kind == Kind::Other
                   ? (walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed)
                   : parse_content(v, m);
      } else if (key == "type") {
        std::string_view type;
        if (m.kind != Kind::Unknown || !string_text(v, type))
          return ParseStatus::Malformed;
        m.kind = classify(type);
      } else if (key == "content" && m.kind != Kind::Other) {
        if (m.content_done || m.content_deferred)
          return ParseStatus::Malformed;
        if (m.kind == Kind::Unknown)
          m.content_deferred = true; // skipped now, read on the second pass
        else
          st = parse_content(v, m);
      } else if (key == "status") {
        status_reply = true; // {"status":"0000","resmsg":".."}: connection and filter replies
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
      if (st != ParseStatus::Ok)
        return st;
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (pass == 0 && m.kind == Kind::Unknown)
      return status_reply && !m.content_deferred ? ParseStatus::Ignored : ParseStatus::Malformed;
    if (!m.content_deferred || pass == 1)
      break;
    doc.rewind();
  }
  if (m.kind == Kind::Other)
    return ParseStatus::Ignored;
  if (!m.content_done)
    return ParseStatus::Malformed;
  return ParseStatus::Ok;
}

} // namespace

BithumbParser::BithumbParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus BithumbParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                 EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  od::document doc;
  if (parser_
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  Message m{out, *registry_, recv_ts_ns};
  ParseStatus st = parse_document(doc, m);
  if (st == ParseStatus::Ok && out.size() == mark)
    st = ParseStatus::Ignored; // an empty list: no market data
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
