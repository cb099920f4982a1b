#pragma once
// Shared by the parser tests that corrupt real messages mechanically: where to cut a message,
// which bytes are structural, and how to hand a corrupted copy to a parser with the padding its
// contract asks for. The corruption itself stays in each test, next to what it expects.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::test {

// Prefix lengths of a message of `size` bytes to parse as truncated: at 0%, 10%, 25%, 50%,
// 75%, 90% and 99% of it, each followed by the message minus its last byte.
inline std::vector<std::size_t> truncation_lengths(std::size_t size) {
  std::vector<std::size_t> lengths;
  for (const double frac : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}) {
    const auto cut = static_cast<std::size_t>(static_cast<double>(size) * frac);
    lengths.push_back(cut);
    lengths.push_back(size - 1);
  }
  return lengths;
}

// A byte that shapes JSON: brackets, braces, comma, colon, quote.
inline bool is_structural(char c) {
  return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"';
}

// Parses a copy of `text` followed by SIMDJSON_PADDING zero bytes (the parser contract), with
// recv_ts 0.
template <class Parser>
ParseStatus parse_padded_copy(Parser &parser, std::string text, EventBatch &out) {
  const std::size_t n = text.size();
  text.append(simdjson::SIMDJSON_PADDING, '\0');
  return parser.parse(std::string_view(text.data(), n), 0, out);
}

} // namespace fh::test
