#pragma once
// Token-level helpers shared by the OKX and Kraken frame parsers (hot path): the text of a
// scalar read from simdjson's raw token, exact integer and decimal readers on that text, a
// structural walk for values the parsers skip, and the in-place event push.
//
// Why an unnamed namespace in a header: both parsers were written with these functions
// file-local, and GCC inlines them into each parser's loops by its static-function rules.
// Keeping them internal gives every parser its own copy, compiled and inlined exactly as
// before, from one source. Everything is noexcept, allocates nothing and uses simdjson's error
// codes. Include only from a venue parser's .cpp.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "book/decimal.hpp"
#include "feedhandler/event.hpp"
#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {
namespace { // internal linkage on purpose: one copy per parser, see above

namespace od = simdjson::ondemand;

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10U;
}

// Unsigned decimal integer, 1..19 digits (always fits uint64).
bool parse_u64(std::string_view t, std::uint64_t &out) noexcept {
  if (t.empty() || t.size() > 19)
    return false;
  std::uint64_t v = 0;
  for (const char c : t) {
    if (!is_digit(c))
      return false;
    v = v * 10U + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// The text of a scalar: a string token without its quotes, a number token as written. Peeks
// only (the enclosing iterator skips the value). Containers and literals come back as their
// first character, which every number parser rejects.
std::string_view scalar_text(od::value &v) noexcept {
  std::string_view t = v.raw_json_token();
  while (!t.empty() && is_space(t.back()))
    t.remove_suffix(1);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"')
    return t.substr(1, t.size() - 2);
  return t;
}

// The text of a JSON string, read in place; only a string with escapes (never seen in
// names and symbols, legal in JSON) is unescaped, into simdjson's string buffer. False if
// the value is not a string.
bool string_text(od::value &v, std::string_view &out) noexcept {
  std::string_view t = v.raw_json_token();
  while (!t.empty() && is_space(t.back()))
    t.remove_suffix(1);
  if (t.size() < 2 || t.front() != '"' || t.back() != '"')
    return false;
  t = t.substr(1, t.size() - 2);
  if (t.find('\\') == std::string_view::npos) {
    out = t;
    return true;
  }
  return v.get_string().get(out) == simdjson::SUCCESS;
}

bool parse_price(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return book::parse_decimal(t, inst.price_decimals, out) == book::DecimalError::Ok;
}
bool parse_qty(std::string_view t, const Instrument &inst, book::ParsedDecimal &out) noexcept {
  return book::parse_decimal(t, inst.qty_decimals, out) == book::DecimalError::Ok;
}

// On-demand checks the structure only of what it reads: a value that is merely skipped may
// hide a broken comma or bracket. Frames we do not otherwise use (acknowledgements, events,
// other channels) and fields we skip are walked with this, so malformed input is never
// Ignored. Depth-limited; simdjson's own depth limit bounds the input anyway.
constexpr int kWalkDepth = 16;

// true, false, null or a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_atom(std::string_view t) noexcept {
  while (!t.empty() && is_space(t.back()))
    t.remove_suffix(1);
  if (t == "true" || t == "false" || t == "null")
    return true;
  std::size_t i = 0;
  auto digits = [&]() noexcept {
    const std::size_t start = i;
    while (i < t.size() && is_digit(t[i]))
      ++i;
    return i - start;
  };
  if (i < t.size() && t[i] == '-')
    ++i;
  const std::size_t int_start = i;
  const std::size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && t[int_start] == '0'))
    return false;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (digits() == 0)
      return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-'))
      ++i;
    if (digits() == 0)
      return false;
  }
  return i == t.size();
}

bool walk(od::value &v, int depth) noexcept {
  od::json_type type{};
  if (v.type().get(type))
    return false;
  if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a))
      return false;
    for (auto element_result : a) {
      od::value element;
      if (element_result.get(element))
        return false;
      if (depth > 0 && !walk(element, depth - 1))
        return false;
    }
  } else if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o))
      return false;
    for (auto field_result : o) {
      od::field field;
      if (std::move(field_result).get(field))
        return false;
      if (depth > 0 && !walk(field.value(), depth - 1))
        return false;
    }
  } else if (type != od::json_type::string) {
    return is_json_atom(v.raw_json_token()); // "6481x10283" is one token to stage 1
  }
  return true;
}

// Walks a whole frame we do not use, so that a broken one is Malformed, not Ignored.
[[maybe_unused]] bool walk_document(od::document &doc) noexcept {
  od::value root;
  if (doc.get_value().get(root) || !walk(root, kWalkDepth))
    return false;
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// Appends a zeroed event with its header set; nullptr when the batch is full. In place, field
// by field: building it with make_event and copying it in makes g++ store small fields and
// reload them as vectors, a store-forwarding stall per event.
inline Event *push_event(EventBatch &out, EventType type, Venue venue, std::uint32_t instrument,
                         std::int64_t recv_ts_ns) noexcept {
  Event *e = out.push();
  if (e != nullptr) {
    std::memset(static_cast<void *>(e), 0, sizeof(Event));
    e->type = type;
    e->venue = venue;
    e->instrument = instrument;
    e->recv_ts_ns = recv_ts_ns;
  }
  return e;
}

// One side of a book: [[price, size, more...], ...] in wire order, one BookLevel event per level
// (pushed by f.push). Elements from index 2 on go to read_more(index, element, event), which
// returns Ok or the error; a level with fewer than `min_elements` elements is Malformed.
template <class FrameT, class ReadMore>
ParseStatus parse_book_side(od::value &side_value, book::Side side, FrameT &f,
                            unsigned min_elements, std::uint32_t &count,
                            ReadMore read_more) noexcept {
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
    for (auto element_result : level) {
      od::value element;
      if (element_result.get(element))
        return ParseStatus::Malformed;
      book::ParsedDecimal d{};
      switch (index) {
      case 0:
        if (!parse_price(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.price = d.mantissa;
        e->level.price_text_dp = d.text_decimals;
        break;
      case 1:
        if (!parse_qty(scalar_text(element), *f.inst, d))
          return ParseStatus::BadNumber;
        e->level.qty = d.mantissa;
        e->level.qty_text_dp = d.text_decimals;
        break;
      default: {
        const ParseStatus st = read_more(index, element, *e);
        if (st != ParseStatus::Ok)
          return st;
        break;
      }
      }
      ++index;
    }
    if (index < min_elements)
      return ParseStatus::Malformed;
    ++count;
  }
  return ParseStatus::Ok;
}

} // namespace
} // namespace fh::venues
