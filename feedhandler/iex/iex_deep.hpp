#pragma once
// IEX DEEP 1.0 messages (protocol 0x8004): byte layouts -> one flat decoded record.
//
// Why this shape: every IEX message is fixed-layout little endian with the type in byte 0,
// so decoding is a switch on that byte and a handful of loads at spec offsets; no framing
// state. One flat Message for all types keeps the caller a switch too (no virtual calls, no
// variant visits). IEX may grow a message at its end without notice, so a message longer
// than its layout is fine; a shorter one is an error.
// DEEP and TOPS share most types byte for byte (system event, security directory, trading
// status, operational halt, short sale price test, trade report, official price, trade break,
// auction information): decode_shared() handles those for both; DEEP adds the price level
// updates ('8' buy, '5' sell) and the security event ('E'); TOPS adds the quote update
// (iex_tops.hpp).
// Prices are int64 with 4 implied decimals, sizes are shares (uint32), timestamps are ns
// since the epoch: events take them as they are (Instrument price_decimals 4, qty 0).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fh::iex {

// Message type bytes.
inline constexpr std::uint8_t kSystemEvent = 'S';
inline constexpr std::uint8_t kSecurityDirectory = 'D';
inline constexpr std::uint8_t kTradingStatus = 'H';
inline constexpr std::uint8_t kOperationalHalt = 'O';
inline constexpr std::uint8_t kShortSalePriceTest = 'P';
inline constexpr std::uint8_t kSecurityEvent = 'E';      // DEEP only
inline constexpr std::uint8_t kPriceLevelBuy = '8';      // DEEP only (0x38)
inline constexpr std::uint8_t kPriceLevelSell = '5';     // DEEP only (0x35)
inline constexpr std::uint8_t kTradeReport = 'T';
inline constexpr std::uint8_t kOfficialPrice = 'X';
inline constexpr std::uint8_t kTradeBreak = 'B';
inline constexpr std::uint8_t kAuctionInformation = 'A';
inline constexpr std::uint8_t kQuoteUpdate = 'Q';        // TOPS only

// Price level update event flag: set on the last update of an atomic book event. Updates with
// it clear describe a book "in transition" that readers must not see (DEEP spec).
inline constexpr std::uint8_t kEventProcessingComplete = 0x01;

// Security directory flags (byte 1).
inline constexpr std::uint8_t kDirectoryTestSecurity = 0x80;
inline constexpr std::uint8_t kDirectoryWhenIssued = 0x40;
inline constexpr std::uint8_t kDirectoryEtp = 0x20;

struct Message {
  std::uint8_t type = 0;
  std::uint8_t code = 0;      // byte 1: event flags, status, sale conditions, system event...
  std::int64_t timestamp_ns = 0;
  std::uint64_t symbol = 0;   // the 8 symbol bytes as a little-endian word (0 if none)
  std::uint32_t size = 0;     // level size, trade size, quote bid size, round lot, paired shares
  std::int64_t price = 0;     // level, trade, official, adjusted POC, quote bid, reference price
  std::int64_t price2 = 0;    // quote ask price
  std::uint32_t size2 = 0;    // quote ask size
  std::uint64_t trade_id = 0; // trade report / trade break
  std::uint8_t detail = 0;    // LULD tier (directory), SSR detail (short sale test)
  char reason[4] = {};        // trading status reason, space padded
};

enum class DecodeError : std::uint8_t { None = 0, ShortMessage, UnknownType, BadSymbol };

// The 8 symbol bytes at p: printable ASCII, left justified, space padded, at least one char.
bool valid_symbol(const std::uint8_t* p) noexcept;

// Minimum length of a type's layout; 0 for a type neither protocol defines.
std::size_t layout_length(std::uint8_t type) noexcept;

// Types both protocols define; UnknownType for anything else.
[[nodiscard]] DecodeError decode_shared(const std::uint8_t* msg, std::size_t len,
                                        Message& out) noexcept;

// A DEEP 1.0 message: the shared types plus '8', '5', 'E'.
[[nodiscard]] DecodeError decode_deep(const std::uint8_t* msg, std::size_t len,
                                      Message& out) noexcept;

// The symbol as text: the 8 bytes without their trailing space padding. The word holds the
// wire bytes in order because it was loaded little endian on a little-endian host.
static_assert(std::endian::native == std::endian::little, "symbol words hold wire byte order");
inline std::string_view symbol_text(const std::uint64_t& symbol) noexcept {
  const char* p = reinterpret_cast<const char*>(&symbol);
  std::size_t n = 8;
  while (n > 0 && p[n - 1] == ' ') --n;
  return {p, n};
}

} // namespace fh::iex
