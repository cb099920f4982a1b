#pragma once
// IEX TOPS 1.6 messages (protocol 0x8003; 1.5 = 0x8002 has the same layouts for these types):
// the quote update ('Q': IEX best bid and offer) plus the types TOPS shares with DEEP.
//
// Why separate from DEEP: the two protocols differ only in their book messages (TOPS a top of
// book quote, DEEP price levels); the shared types decode in one place (iex_deep.hpp).
// No TOPS capture is in data/ (PROVENANCE.md: only the DEEP sample), so the quote layout is
// the specification's and is exercised by no recorded message; the shared types are tested
// on the DEEP capture.
#include <cstddef>
#include <cstdint>

#include "feedhandler/iex/iex_deep.hpp"

namespace fh::iex {

// Quote update flags (byte 1).
inline constexpr std::uint8_t kQuoteSymbolHalted = 0x80; // symbol not available for trading
inline constexpr std::uint8_t kQuotePreOrPostMarket = 0x40;

// A TOPS message: the shared types plus 'Q' (size = bid size, price = bid price,
// price2 = ask price, size2 = ask size).
[[nodiscard]] DecodeError decode_tops(const std::uint8_t* msg, std::size_t len,
                                      Message& out) noexcept;

} // namespace fh::iex
