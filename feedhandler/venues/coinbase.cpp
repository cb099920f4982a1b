// Coinbase entry point and legacy Exchange feed parser (hot path). See coinbase.hpp for the
// shape, the message types and how lost level2 messages mark books Stale.
//
// Every parse function is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; CoinbaseParser::parse removes a failed message's events. Numbers are read from
// the raw JSON tokens (Coinbase quotes prices and sizes; trade_id and sequence are numbers).
#include "feedhandler/venues/coinbase.hpp"

#include <bit>
#include <cstdint>
#include <limits>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/book_error.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {

// ---- stale tracker ---------------------------------------------------------------------------

CoinbaseStaleTracker::CoinbaseStaleTracker()
    : fed_(InstrumentRegistry::kMaxInstruments / 64),
      pending_(InstrumentRegistry::kMaxInstruments / 64) {}

void CoinbaseStaleTracker::suspect(std::uint32_t instrument) noexcept {
  if (instrument >= InstrumentRegistry::kMaxInstruments || test(pending_, instrument))
    return;
  set(pending_, instrument);
  ++pending_count_;
}

void CoinbaseStaleTracker::suspect_all() noexcept {
  pending_count_ = 0;
  for (std::size_t w = 0; w < pending_.size(); ++w) {
    pending_[w] |= fed_[w];
    pending_count_ += static_cast<std::size_t>(std::popcount(pending_[w]));
  }
}

bool CoinbaseStaleTracker::push_pending(EventBatch &out, std::int64_t recv_ts_ns) const noexcept {
  if (pending_count_ == 0)
    return true;
  for (std::size_t w = 0; w < pending_.size(); ++w) {
    for (std::uint64_t bits = pending_[w]; bits != 0; bits &= bits - 1) {
      const auto id =
          static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
      Event *e = push_event(out, EventType::Status, Venue::Coinbase, id, recv_ts_ns);
      if (e == nullptr)
        return false;
      e->status.status = BookStatus::Stale;
      e->status.reason = static_cast<std::uint8_t>(BookError::SequenceGap);
    }
  }
  return true;
}

void CoinbaseStaleTracker::clear_pending() noexcept {
  if (pending_count_ == 0)
    return;
  for (auto &w : pending_)
    w = 0;
  pending_count_ = 0;
}

void CoinbaseStaleTracker::forget_fed() noexcept {
  for (auto &w : fed_)
    w = 0;
}

// ---- time ------------------------------------------------------------------------------------

namespace {

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

// Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1970): Hinnant's days_from_civil
// with the era arithmetic reduced to non-negative years.
constexpr std::int64_t days_from_civil(unsigned y, unsigned m, unsigned d) noexcept {
  const unsigned yy = m <= 2 ? y - 1 : y;
  const unsigned era = yy / 400U;
  const unsigned yoe = yy - era * 400U;
  const unsigned mp = m > 2 ? m - 3 : m + 9;
  const unsigned doy = (153U * mp + 2U) / 5U + d - 1U;
  const unsigned doe = yoe * 365U + yoe / 4U - yoe / 100U + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace

bool coinbase_time_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  // YYYY-MM-DDTHH:MM:SS then an optional .fraction (1..9 digits), then Z.
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t.back() != 'Z')
    return false;
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!fixed_digits(t, 0, 4, y) || !fixed_digits(t, 5, 2, mo) || !fixed_digits(t, 8, 2, d) ||
      !fixed_digits(t, 11, 2, h) || !fixed_digits(t, 14, 2, mi) || !fixed_digits(t, 17, 2, s))
    return false;
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      d > kDays[mo - 1] + (mo == 2 && is_leap(y) ? 1U : 0U) || h > 23 || mi > 59 || s > 59)
    return false;
  std::int64_t frac_ns = 0;
  const std::size_t frac_end = t.size() - 1; // the 'Z'
  if (frac_end > 19) {
    const std::size_t digits = frac_end - 20;
    if (t[19] != '.' || digits == 0 || digits > 9)
      return false;
    unsigned frac = 0;
    if (!fixed_digits(t, 20, digits, frac))
      return false;
    frac_ns = static_cast<std::int64_t>(frac) * book::kPow10[9 - digits];
  }
  const std::int64_t seconds = days_from_civil(y, mo, d) * 86400 +
                               static_cast<std::int64_t>(h) * 3600 +
                               static_cast<std::int64_t>(mi) * 60 + static_cast<std::int64_t>(s);
  // int64 nanoseconds end in April 2262.
  constexpr std::int64_t kMaxSeconds =
      (std::numeric_limits<std::int64_t>::max() - 999'999'999) / 1'000'000'000;
  if (seconds > kMaxSeconds)
    return false;
  out_ns = seconds * 1'000'000'000 + frac_ns;
  return true;
}

bool coinbase_advanced_first_key(std::string_view frame) noexcept {
  std::size_t i = 0;
  while (i < frame.size() && is_space(frame[i]))
    ++i;
  if (i == frame.size() || frame[i] != '{')
    return false;
  ++i;
  while (i < frame.size() && is_space(frame[i]))
    ++i;
  constexpr std::string_view kKey = "\"channel\"";
  return frame.substr(i, kKey.size()) == kKey;
}

// ---- legacy messages -------------------------------------------------------------------------

namespace {

enum class Kind : std::uint8_t { Other = 0, Snapshot, L2Update, Ticker, Match };

// subscriptions, heartbeat, error, status and the `full` channel's received/open/done/change/
// activate: well-formed, not consumed.
Kind classify(std::string_view type) noexcept {
  if (type == "l2update")
    return Kind::L2Update;
  if (type == "snapshot")
    return Kind::Snapshot;
  if (type == "ticker")
    return Kind::Ticker;
  if (type == "match" || type == "last_match")
    return Kind::Match;
  return Kind::Other;
}

constexpr bool is_book(Kind k) noexcept {
  return k == Kind::Snapshot || k == Kind::L2Update;
}

struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Coinbase, inst->id, recv_ts_ns);
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

// A snapshot side: [[px, sz], ...]. Exactly two elements per level.
ParseStatus parse_snapshot_side(od::value &v, book::Side side, Frame &f,
                                std::uint32_t &count) noexcept {
  return parse_book_side(v, side, f, 2, count, [](unsigned, od::value &, Event &) noexcept {
    return ParseStatus::Malformed;
  });
}

// l2update changes: [["buy"|"sell", px, sz], ...] -> one BookLevel each, in wire order.
ParseStatus parse_changes(od::value &v, Frame &f, std::uint32_t &count) noexcept {
  od::array changes;
  if (v.get_array().get(changes))
    return ParseStatus::Malformed;
  for (auto change_result : changes) {
    od::array change;
    if (change_result.get_array().get(change))
      return ParseStatus::Malformed;
    Event *e = f.push(EventType::BookLevel);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    unsigned index = 0;
    for (auto element_result : change) {
      od::value element;
      if (element_result.get(element))
        return ParseStatus::Malformed;
      book::ParsedDecimal d{};
      switch (index) {
      case 0: {
        std::string_view side;
        if (!string_text(element, side))
          return ParseStatus::Malformed;
        if (side == "buy")
          e->side = book::Side::Bid;
        else if (side == "sell")
          e->side = book::Side::Ask;
        else
          return ParseStatus::Malformed;
        break;
      }
      case 1:
        if (!parse_price(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.price = d.mantissa;
        e->level.price_text_dp = d.text_decimals;
        break;
      case 2:
        if (!parse_qty(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.qty = d.mantissa;
        e->level.qty_text_dp = d.text_decimals;
        break;
      default:
        return ParseStatus::Malformed;
      }
      ++index;
    }
    if (index != 3)
      return ParseStatus::Malformed;
    ++count;
  }
  return ParseStatus::Ok;
}

// snapshot / l2update: BookBegin, levels in wire order, BookEnd. The root object is walked from
// its start; "type" and "product_id" were read already.
ParseStatus parse_book(od::object &root, Kind kind, Frame &f) noexcept {
  const std::size_t begin_index = f.out.size();
  if (f.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint32_t levels = 0;
  std::int64_t ts_ns = 0;
  unsigned parts = 0; // 1 bids, 2 asks, 4 changes
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (kind == Kind::Snapshot && (key == "bids" || key == "asks")) {
      const unsigned bit = key == "bids" ? 1U : 2U;
      if ((parts & bit) != 0)
        return ParseStatus::Malformed; // a side twice would apply twice
      parts |= bit;
      st = parse_snapshot_side(v, bit == 1U ? book::Side::Bid : book::Side::Ask, f, levels);
    } else if (kind == Kind::L2Update && key == "changes") {
      if ((parts & 4U) != 0)
        return ParseStatus::Malformed;
      parts |= 4U;
      st = parse_changes(v, f, levels);
    } else if (key == "time") {
      if (!read_time(v, ts_ns))
        st = ParseStatus::BadNumber;
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  if (parts != (kind == Kind::Snapshot ? 3U : 4U))
    return ParseStatus::Malformed; // a snapshot without a side would leave that side stale
  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  Event &begin = f.out[begin_index];
  begin.flags = kind == Kind::Snapshot ? kFlagSnapshot : std::uint8_t{0};
  begin.exch_ts_ns = ts_ns;
  begin.begin.levels = levels;
  return ParseStatus::Ok;
}

// best_bid / best_ask and their sizes: "" (an empty side) reads as 0.
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

// ticker -> Bbo. A ticker without best_bid and best_ask (possible on subscribe for a product
// without trades) has no top of book: Ignored. Only one of them: Malformed.
ParseStatus parse_ticker(od::object &root, Frame &f) noexcept {
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "best_bid") {
      ok = parse_bbo_field(scalar_text(v), f.inst->price_decimals, e->bbo.bid_price);
      seen |= 1U;
    } else if (key == "best_ask") {
      ok = parse_bbo_field(scalar_text(v), f.inst->price_decimals, e->bbo.ask_price);
      seen |= 2U;
    } else if (key == "best_bid_size") {
      ok = parse_bbo_field(scalar_text(v), f.inst->qty_decimals, e->bbo.bid_qty);
    } else if (key == "best_ask_size") {
      ok = parse_bbo_field(scalar_text(v), f.inst->qty_decimals, e->bbo.ask_qty);
    } else if (key == "sequence") {
      ok = read_u64(v, e->bbo.update_id);
    } else if (key == "time") {
      ok = read_time(v, e->exch_ts_ns);
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  if (seen == 0) {
    f.out.truncate(f.out.size() - 1);
    return ParseStatus::Ignored;
  }
  return seen == 3U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// match / last_match -> Trade. `side` is the maker order's side.
ParseStatus parse_match(od::object &root, Frame &f) noexcept {
  Event *e = f.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    bool ok = true;
    if (key == "price") {
      ok = parse_price(scalar_text(v), *f.inst, d);
      e->trade.price = d.mantissa;
      seen |= 1U;
    } else if (key == "size") {
      ok = parse_qty(scalar_text(v), *f.inst, d);
      e->trade.qty = d.mantissa;
      seen |= 2U;
    } else if (key == "trade_id") {
      ok = read_u64(v, e->trade.trade_id);
      seen |= 4U;
    } else if (key == "side") {
      std::string_view side;
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      if (side == "buy")
        e->flags |= kFlagBuyerIsMaker; // a resting buy was hit: the aggressor sold
      else if (side != "sell")
        return ParseStatus::Malformed;
      seen |= 8U;
    } else if (key == "time") {
      ok = read_time(v, e->exch_ts_ns);
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 15U ? ParseStatus::Ok : ParseStatus::Malformed;
}

// What a failed legacy message tells about the books (see coinbase.hpp): a level2 message of a
// known product lost that book an update; one whose product (or type) could not be read may
// have belonged to any book fed so far. Tickers, matches and acks carry no book state.
struct LegacyOutcome {
  ParseStatus status;
  Kind kind; // Other also when the type could not be read
  bool type_known;
  const Instrument *inst;
};

LegacyOutcome parse_legacy_frame(od::parser &parser, InstrumentRegistry &registry,
                                 std::string_view frame, std::int64_t recv_ts_ns, EventBatch &out,
                                 const CoinbaseStaleTracker &tracker) noexcept {
  LegacyOutcome r{ParseStatus::Malformed, Kind::Other, false, nullptr};
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return r;
  od::object root;
  if (doc.get_object().get(root))
    return r;
  // "type" first (Coinbase writes it first), then the product wherever it is; then the object
  // is walked again from its start with the decimals known.
  od::value type_value;
  std::string_view type;
  if (root.find_field_unordered("type").get(type_value) || !string_text(type_value, type))
    return r;
  r.type_known = true;
  r.kind = classify(type);
  if (r.kind != Kind::Other) {
    od::value product_value;
    std::string_view product;
    if (root.find_field_unordered("product_id").get(product_value) ||
        !string_text(product_value, product))
      return r;
    r.inst = registry.resolve(Venue::Coinbase, product, &coinbase_default_instrument);
    if (r.inst == nullptr) {
      r.status = product.empty() ? ParseStatus::Malformed : ParseStatus::UnknownInstrument;
      return r;
    }
  }
  doc.rewind();
  if (doc.get_object().get(root))
    return r;
  // Books marked Stale by an earlier failed message go first (coinbase.hpp).
  if (!tracker.push_pending(out, recv_ts_ns)) {
    r.status = ParseStatus::BatchOverflow;
    return r;
  }
  Frame f{out, r.inst, recv_ts_ns};
  switch (r.kind) {
  case Kind::Snapshot:
  case Kind::L2Update:
    r.status = parse_book(root, r.kind, f);
    break;
  case Kind::Ticker:
    r.status = parse_ticker(root, f);
    break;
  case Kind::Match:
    r.status = parse_match(root, f);
    break;
  case Kind::Other: {
    bool ok = true;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field) || !walk(field.value(), kWalkDepth)) {
        ok = false;
        break;
      }
    }
    r.status = ok ? ParseStatus::Ignored : ParseStatus::Malformed;
    break;
  }
  }
  // The whole document must have been consumed (nothing after the root object).
  if (r.status == ParseStatus::Ok || r.status == ParseStatus::Ignored) {
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      r.status = ParseStatus::Malformed;
  }
  return r;
}

// Cold, for a failed message only: what its raw text says it was, when simdjson could not tell
// (cut short inside a string, a broken "type" or "product_id"). Coinbase opens every message
// with {"type":"..."; a level2 message's product follows. Only decides which books to suspect.
void classify_raw(std::string_view frame, const InstrumentRegistry &registry,
                  LegacyOutcome &r) noexcept {
  constexpr std::string_view kType = "{\"type\":\"";
  constexpr std::string_view kProduct = "\"product_id\":\"";
  if (!r.type_known) {
    if (frame.substr(0, kType.size()) != kType)
      return;
    const std::size_t end = frame.find('"', kType.size());
    if (end == std::string_view::npos)
      return;
    r.type_known = true;
    r.kind = classify(frame.substr(kType.size(), end - kType.size()));
  }
  if (!is_book(r.kind) || r.inst != nullptr)
    return;
  const std::size_t at = frame.find(kProduct);
  if (at == std::string_view::npos)
    return;
  const std::size_t start = at + kProduct.size();
  const std::size_t end = frame.find('"', start);
  if (end != std::string_view::npos)
    r.inst = registry.find(Venue::Coinbase, frame.substr(start, end - start));
}

} // namespace

// ---- entry point -----------------------------------------------------------------------------

CoinbaseParser::CoinbaseParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry), advanced_(registry, 0) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

void CoinbaseParser::on_new_connection() noexcept {
  legacy_.forget_fed();
  advanced_.on_new_connection();
}

ParseStatus CoinbaseParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept {
  if (coinbase_advanced_first_key(frame))
    return advanced_.parse(parser_, frame, recv_ts_ns, out);
  // Legacy messages open with "type". An object opening otherwise that carries sequence_num is
  // Advanced Trade with its keys in another order (rare: a scan of the text).
  constexpr std::string_view kLegacyOpening = "{\"type\"";
  if (frame.substr(0, kLegacyOpening.size()) != kLegacyOpening &&
      frame.find("\"sequence_num\"") != std::string_view::npos)
    return advanced_.parse(parser_, frame, recv_ts_ns, out);
  return parse_legacy(frame, recv_ts_ns, out);
}

ParseStatus CoinbaseParser::parse_legacy(std::string_view frame, std::int64_t recv_ts_ns,
                                         EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  LegacyOutcome r = parse_legacy_frame(parser_, *registry_, frame, recv_ts_ns, out, legacy_);
  if (r.status == ParseStatus::Ok || r.status == ParseStatus::Ignored) {
    const bool flushed = legacy_.pending();
    legacy_.clear_pending();
    if (r.status == ParseStatus::Ok && is_book(r.kind))
      legacy_.fed(r.inst->id);
    // Status events went out with an otherwise ignored message: it carries them now.
    return flushed ? ParseStatus::Ok : r.status;
  }
  out.truncate(mark);
  if (r.status == ParseStatus::UnknownInstrument)
    return r.status; // not a book of ours
  classify_raw(frame, *registry_, r);
  if (is_book(r.kind) && r.inst != nullptr) {
    legacy_.suspect(r.inst->id);
  } else if (!r.type_known || is_book(r.kind)) {
    legacy_.suspect_all();
  }
  return r.status;
}

} // namespace fh::venues
