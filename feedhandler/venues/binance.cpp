// Binance frame walker (hot path). See binance.hpp for why it is shaped so.
//
// One pass over the frame in document order: scalar fields are kept as raw token views into
// the frame (converted only once the message kind says which ones matter), level arrays are
// converted to BookLevel events as they stream past, read from the text by a strict scanner
// rather than element by element through the on-demand iterator. Once the bids are read,
// the rest of a usual depth frame (`,"a":[...]}}`) is read the same way ("fast tail").
// Depth and snapshot messages are framed BookBegin (patched at the end, once every sequence
// field has been seen) -> levels -> BookEnd.
#include "feedhandler/venues/binance.hpp"

#include <cstring>

#include "book/decimal.hpp"
#include "book/types.hpp"
#include "feedhandler/event.hpp"

namespace fh::venues {
namespace {

namespace od = simdjson::ondemand;
using book::Side;

enum class Kind : std::uint8_t { None, Depth, BookTicker, Trade, AggTrade, Other, Snapshot };

constexpr std::size_t kNoIndex = ~std::size_t{0};

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
constexpr bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10U;
}
constexpr bool present(std::string_view s) noexcept {
  return s.data() != nullptr;
}

// raw_json_token() of a scalar runs up to the next structural character, so it may carry
// the whitespace in between.
inline std::string_view trim(std::string_view t) noexcept {
  while (!t.empty() && is_space(t.back()))
    t.remove_suffix(1);
  return t;
}

// Contents of a JSON string token, without the quotes; a null view if it is not a string.
// Binance strings (symbols, decimals) never contain escapes; an escaped one simply fails
// the symbol lookup or the decimal parse.
inline std::string_view string_of(std::string_view tok) noexcept {
  tok = trim(tok);
  if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"')
    return {};
  return tok.substr(1, tok.size() - 2);
}

// Decimal text of a price/size: a string's contents or a raw JSON number token; null view
// for anything else (object, array, literal).
inline std::string_view decimal_text(std::string_view tok) noexcept {
  tok = trim(tok);
  if (tok.empty())
    return {};
  if (tok.front() == '"')
    return string_of(tok);
  if (tok.front() == '-' || is_digit(tok.front()))
    return tok;
  return {};
}

// Eight ASCII bytes -> their digits' value, or false if any is not a digit (SWAR: no
// per-digit dependency chain; Binance ids run to 13 digits, three of them per depth event).
inline bool eight_digits(const char *p, std::uint64_t &out) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if ((((v + 0x4646464646464646ULL) | (v - 0x3030303030303030ULL)) & 0x8080808080808080ULL) != 0)
    return false;
  v -= 0x3030303030303030ULL;
  v = (v * 10U) + (v >> 8U); // little endian: pairs of digits
  v = (((v & 0x000000FF000000FFULL) * (100U + (1000000ULL << 32U))) +
       (((v >> 16U) & 0x000000FF000000FFULL) * (1U + (10000ULL << 32U)))) >>
      32U;
  out = v;
  return true;
}

// An unsigned integer token (update ids, trade ids, millisecond times).
inline bool parse_u64(std::string_view tok, std::uint64_t &out) noexcept {
  tok = trim(tok);
  const std::size_t n = tok.size();
  if (n == 0 || n > 20)
    return false;
  std::uint64_t v = 0;
  std::size_t i = 0;
  if (n <= 19) { // cannot overflow
    for (; n - i >= 8; i += 8) {
      std::uint64_t eight = 0;
      if (!eight_digits(tok.data() + i, eight))
        return false;
      v = v * 100000000U + eight;
    }
    for (; i < n; ++i) {
      if (!is_digit(tok[i]))
        return false;
      v = v * 10U + static_cast<std::uint64_t>(tok[i] - '0');
    }
    out = v;
    return true;
  }
  for (const char c : tok) {
    if (!is_digit(c))
      return false;
    if (__builtin_mul_overflow(v, 10U, &v) ||
        __builtin_add_overflow(v, static_cast<std::uint64_t>(c - '0'), &v))
      return false;
  }
  out = v;
  return true;
}

// Milliseconds -> nanoseconds; wraps (defined, unsigned) only for times past year 2262.
inline std::int64_t ms_to_ns(std::uint64_t ms) noexcept {
  return static_cast<std::int64_t>(ms * 1000000U);
}

// `k` points just past a key's opening quote (raw, inside the frame). Compares up to the
// first mismatch, so it never reads past the key's closing quote.
template <std::size_t N> inline bool key_is(const char *k, const char (&lit)[N]) noexcept {
  for (std::size_t i = 0; i + 1 < N; ++i)
    if (k[i] != lit[i])
      return false;
  return k[N - 1] == '"';
}

inline Kind classify(std::string_view e) noexcept {
  switch (e.size()) {
  case 11:
    return e == "depthUpdate" ? Kind::Depth : Kind::Other;
  case 10:
    return e == "bookTicker" ? Kind::BookTicker : Kind::Other;
  case 5:
    return e == "trade" ? Kind::Trade : Kind::Other;
  case 8:
    return e == "aggTrade" ? Kind::AggTrade : Kind::Other;
  default:
    return Kind::Other;
  }
}

// Appends a zeroed event and fills the header in place. Building an Event on the stack and
// copying it in (make_event + assignment) makes the compiler reload freshly written bytes
// as one 64-byte vector: a store-forwarding stall per event, measured at a quarter of the
// cost of a small depth frame.
inline Event *append(EventBatch &out, EventType type, Venue venue, std::uint32_t instrument,
                     std::int64_t recv_ts_ns) noexcept {
  Event *e = out.push();
  if (e == nullptr) [[unlikely]]
    return nullptr;
  std::memset(static_cast<void *>(e), 0, sizeof(Event));
  e->type = type;
  e->venue = venue;
  e->instrument = instrument;
  e->recv_ts_ns = recv_ts_ns;
  return e;
}

// The fields of one JSON object that any Binance message kind uses, as raw tokens.
struct Fields {
  Kind kind = Kind::None; // from "e"
  std::string_view E, T, U, u, pu, t, m, last_update_id;
  std::string_view s, symbol;
  std::string_view b, B, a, A, p, q; // scalar b/a: bookTicker prices; aggTrade's "a" is its id
  std::uint8_t arrays[2][2] = {};    // [named bids/asks][side]: level arrays seen
};

class Walker {
public:
  Walker(BinanceParser &parser, EventBatch &out, std::int64_t recv_ts_ns, std::string_view frame,
         std::string_view symbol, bool rest_mode, bool fast_tail) noexcept
      : parser_(parser), out_(out), mark_(out.size()), recv_ts_(recv_ts_ns),
        frame_end_(frame.data() + frame.size()), symbol_(symbol), rest_mode_(rest_mode),
        futures_(is_binance_futures(parser.venue())), fast_tail_(fast_tail) {}

  ParseStatus walk(od::document &doc) noexcept;
  // The fast tail met a frame of an unusual shape: walk again without it.
  [[nodiscard]] bool retry() const noexcept { return retry_; }

private:
  ParseStatus scan(od::object obj, Fields &f) noexcept;
  ParseStatus field(const char *key, od::value &v, Fields &f) noexcept;
  ParseStatus level_array(od::value &v, Side side, bool named, Fields &f) noexcept;
  ParseStatus levels(od::value &v, Side side, const Instrument &inst) noexcept;
  ParseStatus levels_text(const char *p, const char *end, Side side, const Instrument &inst,
                          const char *&after) noexcept;
  ParseStatus tail(const char *after_bids, bool named, const Instrument &inst, Fields &f) noexcept;
  bool begin_book(const Instrument &inst) noexcept;
  bool book_ready(const Fields &f, bool named, const Instrument *&inst) noexcept;
  std::string_view snapshot_symbol(const Fields &f) const noexcept;
  ParseStatus finish_book(od::document &doc, const Fields &f, bool in_data, bool snapshot) noexcept;
  [[gnu::cold]] [[gnu::noinline]] ParseStatus
  reparse_levels(od::document &doc, bool in_data, bool named, const Instrument &inst) noexcept;
  ParseStatus finish_bbo(const Fields &f) noexcept;
  ParseStatus finish_trade(const Fields &f) noexcept;

  BinanceParser &parser_;
  EventBatch &out_;
  std::size_t mark_;
  std::int64_t recv_ts_;
  const char *frame_end_;
  std::string_view symbol_; // REST mode: the symbol; stream mode: hint for inline snapshots
  bool rest_mode_;
  bool futures_;
  bool fast_tail_;         // read asks and the closing braces straight from the text
  bool nested_ = false;    // scanning the "data" object of an envelope
  bool tail_done_ = false; // the fast tail consumed the rest of the frame
  bool retry_ = false;

  // Level streaming state (pass 1).
  const Instrument *level_inst_ = nullptr;
  const Fields *level_owner_ = nullptr;
  std::size_t begin_index_ = kNoIndex;
  std::uint32_t levels_ = 0;
  bool level_named_ = false; // levels came from bids/asks (snapshot) rather than b/a
  bool bids_done_ = false;
  bool asks_done_ = false;
  bool deferred_ = false; // arrays out of the usual order: the cold path parses them
};

ParseStatus Walker::walk(od::document &doc) noexcept {
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  Fields outer;
  Fields inner;
  bool has_data = false;
  bool data_is_object = false;
  for (auto item : root) {
    // Used in place: copying the field out of the result costs a store-forwarding stall
    // per field (measured: a quarter of a small frame's parse).
    if (item.error() != simdjson::SUCCESS)
      return ParseStatus::Malformed;
    od::field &fld = item.value_unsafe();
    const char *key = fld.key().raw();
    od::value &v = fld.value();
    if (key_is(key, "data")) {
      if (has_data)
        return ParseStatus::Malformed;
      has_data = true;
      // Array-valued streams (!ticker@arr) are valid Binance frames we do not use.
      if (trim(v.raw_json_token()).starts_with('{')) {
        od::object obj;
        if (v.get_object().get(obj) != simdjson::SUCCESS)
          return ParseStatus::Malformed;
        data_is_object = true;
        nested_ = true;
        if (const ParseStatus st = scan(obj, inner); st != ParseStatus::Ok)
          return st;
        nested_ = false;
        if (tail_done_)
          break;
      }
      continue;
    }
    if (const ParseStatus st = field(key, v, outer); st != ParseStatus::Ok)
      return st;
    if (tail_done_)
      break;
  }
  // The whole frame must have been one object: nothing may follow it. (The fast tail has
  // checked that itself, up to the last byte.)
  const char *trailing = nullptr;
  if (!tail_done_ && doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS)
    return ParseStatus::Malformed;

  const Fields &f = has_data ? inner : outer;
  if (level_owner_ != nullptr && level_owner_ != &f)
    return ParseStatus::Malformed; // levels in the envelope itself
  if (has_data && !data_is_object)
    return ParseStatus::Ignored;

  Kind kind = f.kind;
  if (rest_mode_) {
    if (kind != Kind::None || !present(f.last_update_id))
      return ParseStatus::Malformed;
    kind = Kind::Snapshot;
  } else if (kind == Kind::None) {
    if (present(f.last_update_id))
      kind = Kind::Snapshot;
    else if (present(f.u) && present(f.b) && present(f.B) && present(f.a) && present(f.A))
      kind = Kind::BookTicker; // spot bookTicker carries no "e"
  }
  const bool book = kind == Kind::Depth || kind == Kind::Snapshot;
  if (!book && begin_index_ != kNoIndex)
    return ParseStatus::Malformed; // levels, then a second "e" that says otherwise
  switch (kind) {
  case Kind::Depth:
    return finish_book(doc, f, has_data, false);
  case Kind::Snapshot:
    return finish_book(doc, f, has_data, true);
  case Kind::BookTicker:
    return finish_bbo(f);
  case Kind::Trade:
  case Kind::AggTrade:
    return finish_trade(f);
  case Kind::None:
  case Kind::Other:
    break;
  }
  return ParseStatus::Ignored;
}

ParseStatus Walker::scan(od::object obj, Fields &f) noexcept {
  for (auto item : obj) {
    if (item.error() != simdjson::SUCCESS)
      return ParseStatus::Malformed;
    od::field &fld = item.value_unsafe();
    if (const ParseStatus st = field(fld.key().raw(), fld.value(), f); st != ParseStatus::Ok)
      return st;
    if (tail_done_)
      break;
  }
  return ParseStatus::Ok;
}

ParseStatus Walker::field(const char *k, od::value &v, Fields &f) noexcept {
  switch (k[0]) {
  case 'e':
    if (key_is(k, "e")) {
      const std::string_view e = string_of(v.raw_json_token());
      if (!present(e) || f.kind != Kind::None)
        return ParseStatus::Malformed;
      f.kind = classify(e);
    }
    break;
  case 'E':
    if (key_is(k, "E"))
      f.E = v.raw_json_token();
    break;
  case 'T':
    if (key_is(k, "T"))
      f.T = v.raw_json_token();
    break;
  case 'U':
    if (key_is(k, "U"))
      f.U = v.raw_json_token();
    break;
  case 'u':
    if (key_is(k, "u"))
      f.u = v.raw_json_token();
    break;
  case 's':
    if (key_is(k, "s"))
      f.s = v.raw_json_token();
    else if (key_is(k, "symbol"))
      f.symbol = v.raw_json_token();
    break;
  case 'p':
    if (key_is(k, "pu"))
      f.pu = v.raw_json_token();
    else if (key_is(k, "p"))
      f.p = v.raw_json_token();
    break;
  case 'q':
    if (key_is(k, "q"))
      f.q = v.raw_json_token();
    break;
  case 't':
    if (key_is(k, "t"))
      f.t = v.raw_json_token();
    break;
  case 'm':
    if (key_is(k, "m"))
      f.m = v.raw_json_token();
    break;
  case 'l':
    if (key_is(k, "lastUpdateId"))
      f.last_update_id = v.raw_json_token();
    break;
  case 'b':
    if (key_is(k, "b")) {
      const std::string_view tok = v.raw_json_token();
      if (trim(tok).starts_with('['))
        return level_array(v, Side::Bid, false, f);
      f.b = tok;
    } else if (key_is(k, "bids")) {
      if (trim(v.raw_json_token()).starts_with('['))
        return level_array(v, Side::Bid, true, f);
    }
    break;
  case 'a':
    if (key_is(k, "a")) {
      const std::string_view tok = v.raw_json_token();
      if (trim(tok).starts_with('['))
        return level_array(v, Side::Ask, false, f);
      f.a = tok;
    } else if (key_is(k, "asks")) {
      if (trim(v.raw_json_token()).starts_with('['))
        return level_array(v, Side::Ask, true, f);
    }
    break;
  case 'B':
    if (key_is(k, "B"))
      f.B = v.raw_json_token();
    break;
  case 'A':
    if (key_is(k, "A"))
      f.A = v.raw_json_token();
    break;
  default:
    break;
  }
  return ParseStatus::Ok;
}

std::string_view Walker::snapshot_symbol(const Fields &f) const noexcept {
  if (rest_mode_)
    return symbol_;
  if (present(f.symbol))
    return string_of(f.symbol); // null view if not a string: Malformed later
  return symbol_;
}

// Whether the levels of this array can be converted now: the message kind and instrument
// are known. `inst` may come back null for an unknown symbol (decided in finish_book).
bool Walker::book_ready(const Fields &f, bool named, const Instrument *&inst) noexcept {
  std::string_view sym;
  if (named) {
    if (!rest_mode_ && (f.kind != Kind::None || !present(f.last_update_id)))
      return false;
    sym = snapshot_symbol(f);
  } else {
    if (f.kind != Kind::Depth || !present(f.s))
      return false;
    sym = string_of(f.s);
  }
  if (sym.empty())
    return false;
  inst = parser_.instrument(sym);
  return true;
}

bool Walker::begin_book(const Instrument &inst) noexcept {
  if (append(out_, EventType::BookBegin, parser_.venue(), inst.id, recv_ts_) == nullptr)
    return false;
  begin_index_ = out_.size() - 1;
  levels_ = 0;
  return true;
}

ParseStatus Walker::level_array(od::value &v, Side side, bool named, Fields &f) noexcept {
  std::uint8_t &seen = f.arrays[named ? 1 : 0][side == Side::Bid ? 0 : 1];
  if (++seen > 1)
    return ParseStatus::Malformed; // the same side twice
  if (deferred_)
    return ParseStatus::Ok;
  const Instrument *inst = nullptr;
  if (!book_ready(f, named, inst) || inst == nullptr) {
    deferred_ = true;
    return ParseStatus::Ok;
  }
  if (side == Side::Bid) {
    if (bids_done_) {
      deferred_ = true;
      return ParseStatus::Ok;
    }
    if (!begin_book(*inst))
      return ParseStatus::BatchOverflow;
    level_inst_ = inst;
    level_owner_ = &f;
    level_named_ = named;
    if (fast_tail_) {
      const char *after = nullptr;
      const std::string_view tok = v.raw_json_token();
      if (const ParseStatus st = levels_text(tok.data(), frame_end_, side, *inst, after);
          st != ParseStatus::Ok)
        return st;
      bids_done_ = true;
      return tail(after, named, *inst, f);
    }
  } else if (!bids_done_ || level_owner_ != &f || level_inst_ != inst || level_named_ != named) {
    deferred_ = true; // asks before bids (or from elsewhere): both are redone in order
    return ParseStatus::Ok;
  }
  if (const ParseStatus st = levels(v, side, *inst); st != ParseStatus::Ok)
    return st;
  (side == Side::Bid ? bids_done_ : asks_done_) = true;
  return ParseStatus::Ok;
}

// First '"' in [p, end), or end. Eight bytes per step (a price is ~8 characters); reading
// up to 7 bytes past `end` is covered by the SIMDJSON_PADDING contract of the frame.
inline const char *find_quote(const char *p, const char *end) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; p < end; p += 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    const std::uint64_t x = v ^ (kOnes * '"');
    const std::uint64_t hit = (x - kOnes) & ~x & kHigh; // lowest set byte is exact
    if (hit != 0) {
      const char *q = p + (__builtin_ctzll(hit) >> 3);
      return q < end ? q : end;
    }
  }
  return end;
}

// Reads one price/size token of a level: a string (up to its closing quote) or a raw number
// (up to whitespace, ',' or ']'). Stage 1 has validated every string of the frame; an escaped
// quote inside one would end the token at a backslash, which no decimal accepts.
inline const char *level_token(const char *p, const char *end, std::string_view &out) noexcept {
  if (p == end)
    return nullptr;
  if (*p == '"') {
    const char *q = find_quote(p + 1, end);
    if (q == end)
      return nullptr;
    out = std::string_view(p + 1, static_cast<std::size_t>(q - p - 1));
    return q + 1;
  }
  if (*p != '-' && !is_digit(*p))
    return nullptr;
  const char *q = p;
  while (q != end && *q != ',' && *q != ']' && !is_space(*q))
    ++q;
  out = std::string_view(p, static_cast<std::size_t>(q - p));
  return q;
}

inline const char *skip_space(const char *p, const char *end) noexcept {
  while (p != end && is_space(*p))
    ++p;
  return p;
}

// [[price, qty], ...] -> BookLevel events in wire order. simdjson skips the array (checking
// its nesting) and hands back its text; the text is then read with a strict scanner for
// exactly this shape, which is several times cheaper than visiting each element through the
// on-demand iterator.
ParseStatus Walker::levels(od::value &v, Side side, const Instrument &inst) noexcept {
  od::array arr;
  std::string_view text;
  if (v.get_array().get(arr) != simdjson::SUCCESS || arr.raw_json().get(text) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  const char *after = nullptr;
  return levels_text(text.data(), text.data() + text.size(), side, inst, after);
}

// The level array starting at `p` ('['), read with a strict scanner for exactly the shape
// [[price, qty], ...]; `after` is set past its closing ']'.
ParseStatus Walker::levels_text(const char *p, const char *end, Side side, const Instrument &inst,
                                const char *&after) noexcept {
  const Venue venue = parser_.venue();
  const std::uint8_t price_dp = inst.price_decimals;
  const std::uint8_t qty_dp = inst.qty_decimals;
  if (p == end || *p != '[')
    return ParseStatus::Malformed;
  p = skip_space(p + 1, end);
  if (p != end && *p == ']') {
    after = p + 1;
    return ParseStatus::Ok;
  }
  while (true) {
    std::string_view px;
    std::string_view qx;
    if (p == end || *p != '[')
      return ParseStatus::Malformed;
    p = level_token(skip_space(p + 1, end), end, px);
    if (p == nullptr || (p = skip_space(p, end)) == end || *p != ',')
      return ParseStatus::Malformed;
    p = level_token(skip_space(p + 1, end), end, qx);
    if (p == nullptr || (p = skip_space(p, end)) == end || *p != ']')
      return ParseStatus::Malformed;
    book::ParsedDecimal price;
    book::ParsedDecimal qty;
    if (book::parse_decimal(px, price_dp, price) != book::DecimalError::Ok ||
        book::parse_decimal(qx, qty_dp, qty) != book::DecimalError::Ok)
      return ParseStatus::BadNumber;
    Event *e = append(out_, EventType::BookLevel, venue, inst.id, recv_ts_);
    if (e == nullptr)
      return ParseStatus::BatchOverflow;
    e->side = side;
    e->level.price = price.mantissa;
    e->level.qty = qty.mantissa;
    e->level.price_text_dp = price.text_decimals;
    e->level.qty_text_dp = qty.text_decimals;
    ++levels_;
    p = skip_space(p + 1, end);
    if (p == end)
      return ParseStatus::Malformed;
    if (*p == ']') {
      after = p + 1;
      return ParseStatus::Ok;
    }
    if (*p != ',')
      return ParseStatus::Malformed;
    p = skip_space(p + 1, end);
  }
}

// Fast tail. Binance ends every depth message with the asks: `,"a":[...]}` (`"asks"` in
// snapshots), then the envelope's `}`. Reading that straight from the text spares the
// on-demand iterator a second walk over every level (skipping an array visits each of its
// structural characters). Stage 1 has already validated the strings and UTF-8 of the whole
// frame; this checks the grammar of the rest, up to the last byte. A frame of any other
// shape (a field after the asks, asks missing) is walked again the general way.
ParseStatus Walker::tail(const char *p, bool named, const Instrument &inst, Fields &f) noexcept {
  const std::string_view key = named ? std::string_view("\"asks\"") : std::string_view("\"a\"");
  const char *const end = frame_end_;
  p = skip_space(p, end);
  if (p != end && *p == ',') {
    p = skip_space(p + 1, end);
    if (static_cast<std::size_t>(end - p) > key.size() && std::string_view(p, key.size()) == key) {
      p = skip_space(p + key.size(), end);
      if (p != end && *p == ':') {
        p = skip_space(p + 1, end);
        if (p != end && *p == '[') {
          const char *after = nullptr;
          if (const ParseStatus st = levels_text(p, end, Side::Ask, inst, after);
              st != ParseStatus::Ok)
            return st;
          p = skip_space(after, end);
          bool closed = p != end && *p == '}';
          if (closed && nested_) {
            p = skip_space(p + 1, end);
            closed = p != end && *p == '}';
          }
          if (closed && skip_space(p + 1, end) == end) {
            ++f.arrays[named ? 1 : 0][1];
            asks_done_ = true;
            tail_done_ = true;
            return ParseStatus::Ok;
          }
        }
      }
    }
  }
  retry_ = true;
  return ParseStatus::Malformed; // stops this walk; run() walks again without the tail
}

ParseStatus Walker::finish_book(od::document &doc, const Fields &f, bool in_data,
                                bool snapshot) noexcept {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t prev = 0;
  std::uint8_t flags = kFlagHasSeq;
  std::string_view sym;
  if (snapshot) {
    if (!parse_u64(f.last_update_id, last))
      return ParseStatus::Malformed;
    first = last;
    flags |= kFlagSnapshot | kFlagRest;
    sym = snapshot_symbol(f);
    if (!present(sym) && !rest_mode_ && present(f.symbol))
      return ParseStatus::Malformed;
  } else {
    if (!parse_u64(f.U, first) || !parse_u64(f.u, last))
      return ParseStatus::Malformed;
    if (present(f.pu)) {
      if (!parse_u64(f.pu, prev))
        return ParseStatus::Malformed;
      flags |= kFlagHasPrevSeq;
    } else if (futures_) {
      return ParseStatus::Malformed; // futures depth is chained on pu
    }
    sym = string_of(f.s);
    if (!present(sym))
      return ParseStatus::Malformed;
  }
  const int named = snapshot ? 1 : 0;
  if (f.arrays[named][0] != 1 || f.arrays[named][1] != 1)
    return ParseStatus::Malformed;
  std::uint64_t exch_ms = 0;
  if (present(f.E) && !parse_u64(f.E, exch_ms))
    return ParseStatus::Malformed;
  if (sym.empty())
    return ParseStatus::UnknownInstrument; // inline snapshot without symbol or hint
  const Instrument *inst = parser_.instrument(sym);
  if (inst == nullptr)
    return ParseStatus::UnknownInstrument;

  if (deferred_ || !bids_done_ || !asks_done_ || level_inst_ != inst || level_named_ != snapshot)
      [[unlikely]] {
    if (const ParseStatus st = reparse_levels(doc, in_data, snapshot, *inst); st != ParseStatus::Ok)
      return st;
  }
  const std::int64_t exch_ts = ms_to_ns(exch_ms);
  for (std::size_t i = begin_index_; i < out_.size(); ++i)
    out_[i].exch_ts_ns = exch_ts;
  Event &begin = out_[begin_index_];
  begin.flags = flags;
  begin.begin.first_seq = first;
  begin.begin.last_seq = last;
  begin.begin.prev_seq = prev;
  begin.begin.levels = levels_;
  Event *end = append(out_, EventType::BookEnd, parser_.venue(), inst->id, recv_ts_);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = exch_ts;
  return ParseStatus::Ok;
}

// Cold path: the level arrays were not in the usual place in the document order (or the
// symbol came after them). Rewind and look them up by name, bids first.
ParseStatus Walker::reparse_levels(od::document &doc, bool in_data, bool named,
                                   const Instrument &inst) noexcept {
  out_.truncate(mark_);
  begin_index_ = kNoIndex;
  doc.rewind();
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  od::object obj = root;
  if (in_data && root.find_field_unordered("data").get_object().get(obj) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  if (!begin_book(inst))
    return ParseStatus::BatchOverflow;
  od::value v;
  if (obj.find_field_unordered(named ? "bids" : "b").get(v) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  if (const ParseStatus st = levels(v, Side::Bid, inst); st != ParseStatus::Ok)
    return st;
  if (obj.find_field_unordered(named ? "asks" : "a").get(v) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  return levels(v, Side::Ask, inst);
}

ParseStatus Walker::finish_bbo(const Fields &f) noexcept {
  const std::string_view sym = string_of(f.s);
  std::uint64_t update_id = 0;
  if (!present(sym) || !parse_u64(f.u, update_id))
    return ParseStatus::Malformed;
  const std::string_view texts[4] = {decimal_text(f.b), decimal_text(f.B), decimal_text(f.a),
                                     decimal_text(f.A)};
  for (const std::string_view t : texts)
    if (!present(t))
      return ParseStatus::Malformed;
  std::uint64_t exch_ms = 0;
  if (present(f.E) ? !parse_u64(f.E, exch_ms) : present(f.T) && !parse_u64(f.T, exch_ms))
    return ParseStatus::Malformed;
  const Instrument *inst = parser_.instrument(sym);
  if (inst == nullptr)
    return ParseStatus::UnknownInstrument;
  book::ParsedDecimal d[4];
  for (int i = 0; i < 4; ++i)
    if (book::parse_decimal(texts[i], (i % 2 == 0) ? inst->price_decimals : inst->qty_decimals,
                            d[i]) != book::DecimalError::Ok)
      return ParseStatus::BadNumber;
  Event *e = append(out_, EventType::Bbo, parser_.venue(), inst->id, recv_ts_);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->exch_ts_ns = ms_to_ns(exch_ms);
  e->bbo.bid_price = d[0].mantissa;
  e->bbo.bid_qty = d[1].mantissa;
  e->bbo.ask_price = d[2].mantissa;
  e->bbo.ask_qty = d[3].mantissa;
  e->bbo.update_id = update_id;
  return ParseStatus::Ok;
}

// trade: t = trade id; aggTrade: a = aggregate trade id. m = buyer is the maker, i.e. the
// seller was the aggressor.
ParseStatus Walker::finish_trade(const Fields &f) noexcept {
  const std::string_view sym = string_of(f.s);
  std::uint64_t trade_id = 0;
  if (!present(sym) || !parse_u64(f.kind == Kind::Trade ? f.t : f.a, trade_id))
    return ParseStatus::Malformed;
  const std::string_view px = decimal_text(f.p);
  const std::string_view qx = decimal_text(f.q);
  if (!present(px) || !present(qx))
    return ParseStatus::Malformed;
  bool buyer_is_maker = false;
  if (present(f.m)) {
    const std::string_view m = trim(f.m);
    if (m == "true")
      buyer_is_maker = true;
    else if (m != "false")
      return ParseStatus::Malformed;
  }
  std::uint64_t exch_ms = 0;
  if (present(f.T) ? !parse_u64(f.T, exch_ms) : present(f.E) && !parse_u64(f.E, exch_ms))
    return ParseStatus::Malformed;
  const Instrument *inst = parser_.instrument(sym);
  if (inst == nullptr)
    return ParseStatus::UnknownInstrument;
  book::ParsedDecimal price;
  book::ParsedDecimal qty;
  if (book::parse_decimal(px, inst->price_decimals, price) != book::DecimalError::Ok ||
      book::parse_decimal(qx, inst->qty_decimals, qty) != book::DecimalError::Ok)
    return ParseStatus::BadNumber;
  Event *e = append(out_, EventType::Trade, parser_.venue(), inst->id, recv_ts_);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->exch_ts_ns = ms_to_ns(exch_ms);
  e->flags = buyer_is_maker ? kFlagBuyerIsMaker : std::uint8_t{0};
  e->side = buyer_is_maker ? Side::Ask : Side::Bid; // aggressor side
  e->trade.price = price.mantissa;
  e->trade.qty = qty.mantissa;
  e->trade.trade_id = trade_id;
  return ParseStatus::Ok;
}

} // namespace

BinanceParser::BinanceParser(Venue venue, InstrumentRegistry &registry, std::size_t max_frame)
    : registry_(registry), venue_(venue) {
  // Size the parser once so no frame up to max_frame allocates. On failure simdjson grows
  // the buffers on first use instead (and reports MEMALLOC, counted as Malformed, if that
  // fails too).
  if (json_.allocate(max_frame) != simdjson::SUCCESS)
    return;
}

const Instrument *BinanceParser::instrument_slow(std::string_view native) noexcept {
  const Instrument *inst = registry_.resolve(venue_, native, &binance_default_instrument);
  if (inst != nullptr && native.size() <= kCacheName) {
    std::memcpy(cached_name_, native.data(), native.size());
    cached_len_ = native.size();
    cached_ = inst;
  }
  return inst;
}

ParseStatus BinanceParser::run(std::string_view frame, std::int64_t recv_ts_ns, EventBatch &out,
                               std::string_view symbol, Mode mode) noexcept {
  // Every Binance frame is one JSON object. Checking the last byte first means a frame cut
  // short after a nested value is never completed by whatever lies in the padding.
  const std::string_view body = trim(frame);
  if (body.empty() || body.back() != '}')
    return ParseStatus::Malformed;
  od::document doc;
  if (json_
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc) != simdjson::SUCCESS)
    return ParseStatus::Malformed;
  const std::size_t mark = out.size();
  const bool rest = mode == Mode::RestSnapshot;
  Walker walker(*this, out, recv_ts_ns, frame, symbol, rest, true);
  ParseStatus st = walker.walk(doc);
  if (walker.retry()) [[unlikely]] {
    out.truncate(mark);
    doc.rewind();
    Walker general(*this, out, recv_ts_ns, frame, symbol, rest, false);
    st = general.walk(doc);
  }
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

ParseStatus BinanceParser::parse(std::string_view frame, std::int64_t recv_ts_ns, EventBatch &out,
                                 std::string_view symbol_hint) noexcept {
  return run(frame, recv_ts_ns, out, symbol_hint, Mode::Stream);
}

ParseStatus BinanceParser::parse_depth_snapshot(std::string_view body, std::string_view symbol,
                                                std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  return run(body, recv_ts_ns, out, symbol, Mode::RestSnapshot);
}

} // namespace fh::venues
