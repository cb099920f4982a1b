// Upbit frame parser (hot path). See upbit.hpp for the shape of the messages and why.
//
// One pass over the document in wire order. Upbit writes "ty" and "cd" before "obu", so the
// book units are normally parsed in that pass; if "obu" ever came first, the document is
// rewound once and the units are parsed on a second pass, once the market is known. Trade
// fields are scalars: their raw tokens are collected and turned into one Trade event after
// the whole document was checked.
#include "feedhandler/venues/upbit.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Kind : std::uint8_t { Unknown = 0, Book, Trade, Other };

// Upbit times are Unix milliseconds (JSON numbers). 13 digits keep the ns product in int64.
bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

// A price or size: exact, and never negative.
// A price or size at the instrument's scale: exact, and never negative.
bool price_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_price(t, inst, out) && out.mantissa >= 0;
}
bool qty_of(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return parse_qty(t, inst, out) && out.mantissa >= 0;
}

// A scalar's raw text, kept for later: a container here is Malformed (it would otherwise be
// skipped unchecked when the field turns out unused for the message's type). Bad number text
// is left to the number parser (BadNumber).
bool scalar(od::value &v, std::string_view &out) noexcept {
  out = scalar_text(v);
  return out.empty() || (out.front() != '[' && out.front() != '{');
}

struct Message {
  EventBatch &out;
  std::int64_t recv_ts_ns;
  Kind kind = Kind::Unknown;
  std::string_view code{};
  const Instrument *inst = nullptr;
  bool has_code = false;
  // orderbook
  bool units_done = false;
  bool units_deferred = false; // "obu" came before "ty"/"cd"
  std::size_t begin_index = 0;
  std::uint32_t levels = 0;
  // scalars, raw tokens
  std::string_view tms{}, ttms{}, tp{}, tv{}, ab{}, sid{};

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Upbit, inst->id, recv_ts_ns);
  }
};

Kind classify(std::string_view ty) noexcept {
  if (ty == "orderbook")
    return Kind::Book;
  if (ty == "trade")
    return Kind::Trade;
  return Kind::Other; // ticker and any other type we do not consume
}

// One side of one unit: a level unless its size is zero (a thin book's empty slot).
ParseStatus push_level(Message &m, book::Side side, std::string_view px,
                       std::string_view qty) noexcept {
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  if (!price_of(px, *m.inst, p) || !qty_of(qty, *m.inst, q))
    return ParseStatus::BadNumber;
  if (q.mantissa == 0)
    return ParseStatus::Ok;
  Event *e = m.push(EventType::BookLevel);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->side = side;
  e->level.price = p.mantissa;
  e->level.qty = q.mantissa;
  e->level.price_text_dp = p.text_decimals;
  e->level.qty_text_dp = q.text_decimals;
  ++m.levels;
  return ParseStatus::Ok;
}

// "obu":[{"ap":..,"bp":..,"as":..,"bs":..}, ...]: unit i holds the i-th best ask and bid.
ParseStatus parse_units(od::value &v, Message &m) noexcept {
  od::array units;
  if (v.get_array().get(units))
    return ParseStatus::Malformed;
  m.begin_index = m.out.size();
  if (m.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  for (auto unit_result : units) {
    od::object unit;
    if (unit_result.get_object().get(unit))
      return ParseStatus::Malformed;
    std::string_view ap, bp, as, bs;
    unsigned seen = 0;
    for (auto field_result : unit) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &fv = field.value();
      if (key == "ap") {
        ap = scalar_text(fv);
        seen |= 1U;
      } else if (key == "bp") {
        bp = scalar_text(fv);
        seen |= 2U;
      } else if (key == "as") {
        as = scalar_text(fv);
        seen |= 4U;
      } else if (key == "bs") {
        bs = scalar_text(fv);
        seen |= 8U;
      } else if (!walk(fv, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    if (seen != 15U)
      return ParseStatus::Malformed;
    ParseStatus st = push_level(m, book::Side::Ask, ap, as);
    if (st == ParseStatus::Ok)
      st = push_level(m, book::Side::Bid, bp, bs);
    if (st != ParseStatus::Ok)
      return st;
  }
  m.units_done = true;
  return ParseStatus::Ok;
}

// Resolves the market once both "ty" and "cd" are known (market data types only).
ParseStatus resolve(Message &m, InstrumentRegistry &registry) noexcept {
  if (m.inst != nullptr || !m.has_code || (m.kind != Kind::Book && m.kind != Kind::Trade))
    return ParseStatus::Ok;
  m.inst = registry.resolve(Venue::Upbit, m.code, &upbit_default_instrument);
  if (m.inst == nullptr)
    return m.code.empty() ? ParseStatus::Malformed : ParseStatus::UnknownInstrument;
  return ParseStatus::Ok;
}

ParseStatus finish_book(Message &m) noexcept {
  std::int64_t ts = 0;
  if (!m.tms.empty() && !parse_ms_to_ns(m.tms, ts))
    return ParseStatus::BadNumber;
  Event *end = m.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts;
  Event &begin = m.out[m.begin_index];
  begin.flags = kFlagSnapshot;
  begin.exch_ts_ns = ts;
  begin.begin.levels = m.levels;
  return ParseStatus::Ok;
}

ParseStatus make_trade(Message &m, std::uint64_t &sid) noexcept {
  if (m.tp.empty() || m.tv.empty() || m.sid.empty() || m.ab.empty())
    return ParseStatus::Malformed;
  book::ParsedDecimal p{};
  book::ParsedDecimal q{};
  std::int64_t ts = 0;
  if (!price_of(m.tp, *m.inst, p) || !qty_of(m.tv, *m.inst, q) || !parse_u64(m.sid, sid))
    return ParseStatus::BadNumber;
  // The trade's own time; the message time only when it is missing.
  const std::string_view ts_text = m.ttms.empty() ? m.tms : m.ttms;
  if (!ts_text.empty() && !parse_ms_to_ns(ts_text, ts))
    return ParseStatus::BadNumber;
  std::uint8_t flags = 0;
  if (m.ab == "ASK") // the taker sold
    flags = kFlagBuyerIsMaker;
  else if (m.ab != "BID")
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->flags = flags;
  e->exch_ts_ns = ts;
  e->trade.price = p.mantissa;
  e->trade.qty = q.mantissa;
  e->trade.trade_id = sid;
  return ParseStatus::Ok;
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
      if (pass == 1) {
        if (key == "obu") {
          const ParseStatus st = m.kind == Kind::Book  ? parse_units(v, m)
                                 : walk(v, kWalkDepth) ? ParseStatus::Ok
                                                       : ParseStatus::Malformed;
          if (st != ParseStatus::Ok)
            return st;
        }
        continue; // everything else was read and checked on the first pass
      }
      ParseStatus st = ParseStatus::Ok;
      if (key == "ty") {
        std::string_view ty;
        if (m.kind != Kind::Unknown || !string_text(v, ty))
          return ParseStatus::Malformed;
        m.kind = classify(ty);
        st = resolve(m, registry);
      } else if (key == "cd") {
        if (m.has_code || !string_text(v, m.code))
          return ParseStatus::Malformed;
        m.has_code = true;
        st = resolve(m, registry);
      } else if (key == "obu" && (m.kind == Kind::Unknown || m.kind == Kind::Book)) {
        if (m.units_done || m.units_deferred)
          return ParseStatus::Malformed;
        if (m.kind == Kind::Book && m.inst != nullptr)
          st = parse_units(v, m);
        else
          m.units_deferred = true; // skipped now, parsed or checked on the second pass
      } else if (key == "tms") {
        if (!scalar(v, m.tms))
          return ParseStatus::Malformed;
      } else if (key == "ttms") {
        if (!scalar(v, m.ttms))
          return ParseStatus::Malformed;
      } else if (key == "tp") {
        if (!scalar(v, m.tp))
          return ParseStatus::Malformed;
      } else if (key == "tv") {
        if (!scalar(v, m.tv))
          return ParseStatus::Malformed;
      } else if (key == "sid") {
        if (!scalar(v, m.sid))
          return ParseStatus::Malformed;
      } else if (key == "ab") {
        if (!string_text(v, m.ab))
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
    if (!m.units_deferred || m.units_done || pass == 1)
      break;
    if (m.kind == Kind::Unknown || (m.kind == Kind::Book && m.inst == nullptr))
      return ParseStatus::Malformed; // no "ty", or a book without "cd"
    doc.rewind();
  }
  return ParseStatus::Ok;
}

} // namespace

UpbitParser::UpbitParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry), recent_(std::make_unique<RecentSids[]>(kDedupMarkets)) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

bool UpbitParser::is_duplicate(std::uint32_t instrument, std::uint64_t sid,
                               std::int64_t recv_ts) noexcept {
  static_assert((kDedupMarkets & (kDedupMarkets - 1)) == 0, "power of two");
  std::size_t slot = instrument & (kDedupMarkets - 1);
  for (std::size_t probes = 0;; ++probes, slot = (slot + 1) & (kDedupMarkets - 1)) {
    if (probes == kDedupMarkets) [[unlikely]] {
      ++dedup_full_;
      return false;
    }
    if (recent_[slot].instrument == instrument)
      break;
    if (recent_[slot].instrument == kNoInstrument) {
      recent_[slot].instrument = instrument;
      break;
    }
  }
  RecentSids &r = recent_[slot];
  if (recv_ts < r.newest_recv_ts) { // the stream started over: forget what it sent before
    r.count = 0;
    r.next = 0;
  }
  r.newest_recv_ts = recv_ts;
  for (std::uint32_t i = 0; i < r.count; ++i)
    if (r.sid[i] == sid)
      return true;
  r.sid[r.next] = sid;
  r.next = static_cast<std::uint32_t>((r.next + 1) % kRecentSids);
  if (r.count < kRecentSids)
    ++r.count;
  return false;
}

ParseStatus UpbitParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                               EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  od::document doc;
  if (parser_
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;
  Message m{out, recv_ts_ns};
  ParseStatus st = parse_document(doc, *registry_, m);
  if (st == ParseStatus::Ok) {
    switch (m.kind) {
    case Kind::Unknown:
      st = ParseStatus::Malformed;
      break; // not Upbit's shape
    case Kind::Other:
      st = ParseStatus::Ignored;
      break;
    case Kind::Book:
      if (m.inst == nullptr)
        st = ParseStatus::Malformed; // no "cd"
      else if (!m.units_done)
        st = ParseStatus::Malformed; // no "obu"
      else
        st = finish_book(m);
      break;
    case Kind::Trade: {
      std::uint64_t sid = 0;
      st = m.inst == nullptr ? ParseStatus::Malformed : make_trade(m, sid);
      if (st == ParseStatus::Ok && is_duplicate(m.inst->id, sid, recv_ts_ns)) {
        ++duplicates_;
        st = ParseStatus::Ignored;
      }
      break;
    }
    }
  }
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
