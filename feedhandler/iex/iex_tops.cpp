// IEX TOPS quote update layout (see iex_tops.hpp). Offsets are the specification's.
#include "feedhandler/iex/iex_tops.hpp"

#include "feedhandler/iex/iex_tp.hpp"

namespace fh::iex {

DecodeError decode_tops(const std::uint8_t* m, std::size_t len, Message& out) noexcept {
  if (len == 0) return DecodeError::ShortMessage;
  if (m[0] != kQuoteUpdate) return decode_shared(m, len, out);
  out = Message{};
  out.type = kQuoteUpdate;
  if (len < layout_length(kQuoteUpdate)) return DecodeError::ShortMessage;
  out.code = m[1];
  out.timestamp_ns = static_cast<std::int64_t>(le64(m + 2));
  if (!valid_symbol(m + 10)) return DecodeError::BadSymbol;
  out.symbol = le64(m + 10);
  out.size = le32(m + 18);                              // bid size
  out.price = static_cast<std::int64_t>(le64(m + 22));  // bid price
  out.price2 = static_cast<std::int64_t>(le64(m + 30)); // ask price
  out.size2 = le32(m + 38);                             // ask size
  return DecodeError::None;
}

} // namespace fh::iex
