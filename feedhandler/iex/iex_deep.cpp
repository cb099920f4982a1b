// IEX DEEP 1.0 message layouts (see iex_deep.hpp). Offsets are the specification's.
#include "feedhandler/iex/iex_deep.hpp"

#include "feedhandler/iex/iex_tp.hpp"

namespace fh::iex {
namespace {

// The part every symbol-carrying message starts with: type, code, timestamp, symbol.
DecodeError head(const std::uint8_t* m, Message& out) noexcept {
  out.timestamp_ns = static_cast<std::int64_t>(le64(m + 2));
  if (!valid_symbol(m + 10)) return DecodeError::BadSymbol;
  out.symbol = le64(m + 10);
  return DecodeError::None;
}

} // namespace

bool valid_symbol(const std::uint8_t* p) noexcept {
  std::size_t n = 8;
  while (n > 0 && p[n - 1] == ' ') --n;
  if (n == 0) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] < 0x21 || p[i] > 0x7e) return false;
  return true;
}

std::size_t layout_length(std::uint8_t type) noexcept {
  switch (type) {
  case kSystemEvent: return 10;
  case kSecurityDirectory: return 31;
  case kTradingStatus: return 22;
  case kOperationalHalt: return 18;
  case kShortSalePriceTest: return 19;
  case kSecurityEvent: return 18;
  case kPriceLevelBuy:
  case kPriceLevelSell: return 30;
  case kTradeReport: return 38;
  case kOfficialPrice: return 26;
  case kTradeBreak: return 38;
  case kAuctionInformation: return 80;
  case kQuoteUpdate: return 42;
  default: return 0;
  }
}

DecodeError decode_shared(const std::uint8_t* m, std::size_t len, Message& out) noexcept {
  if (len == 0) return DecodeError::ShortMessage;
  out = Message{};
  out.type = m[0];
  switch (out.type) {
  case kSystemEvent:
  case kSecurityDirectory:
  case kTradingStatus:
  case kOperationalHalt:
  case kShortSalePriceTest:
  case kTradeReport:
  case kOfficialPrice:
  case kTradeBreak:
  case kAuctionInformation: break;
  default: return DecodeError::UnknownType;
  }
  if (len < layout_length(out.type)) return DecodeError::ShortMessage;
  out.code = m[1];
  if (out.type == kSystemEvent) {
    out.timestamp_ns = static_cast<std::int64_t>(le64(m + 2));
    return DecodeError::None;
  }
  if (const DecodeError e = head(m, out); e != DecodeError::None) return e;
  switch (out.type) {
  case kSecurityDirectory:
    out.size = le32(m + 18);                             // round lot size
    out.price = static_cast<std::int64_t>(le64(m + 22)); // adjusted POC price
    out.detail = m[30];                                  // LULD tier
    break;
  case kTradingStatus:
    for (std::size_t i = 0; i < 4; ++i) out.reason[i] = static_cast<char>(m[18 + i]);
    break;
  case kShortSalePriceTest: out.detail = m[18]; break;
  case kTradeReport:
  case kTradeBreak:
    out.size = le32(m + 18);
    out.price = static_cast<std::int64_t>(le64(m + 22));
    out.trade_id = le64(m + 30);
    break;
  case kOfficialPrice: out.price = static_cast<std::int64_t>(le64(m + 18)); break;
  case kAuctionInformation:
    out.size = le32(m + 18);                             // paired shares
    out.price = static_cast<std::int64_t>(le64(m + 22)); // reference price
    out.size2 = le32(m + 38);                            // imbalance shares
    out.detail = m[42];                                  // imbalance side
    break;
  default: break; // operational halt: code only
  }
  return DecodeError::None;
}

DecodeError decode_deep(const std::uint8_t* m, std::size_t len, Message& out) noexcept {
  if (len == 0) return DecodeError::ShortMessage;
  const std::uint8_t type = m[0];
  if (type != kPriceLevelBuy && type != kPriceLevelSell && type != kSecurityEvent)
    return decode_shared(m, len, out);
  out = Message{};
  out.type = type;
  if (len < layout_length(type)) return DecodeError::ShortMessage;
  out.code = m[1]; // event flags (price level update) or security event code
  if (const DecodeError e = head(m, out); e != DecodeError::None) return e;
  if (type != kSecurityEvent) {
    out.size = le32(m + 18);
    out.price = static_cast<std::int64_t>(le64(m + 22));
  }
  return DecodeError::None;
}

} // namespace fh::iex
