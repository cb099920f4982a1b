#pragma once
// Venue book checksums: CRC32 over a text rebuilt from the top of the book.
//
// Why this shape: the venues checksum their own *text* of prices and sizes, so the book keeps
// each level's fractional digit counts and the text is rebuilt exactly: byte for byte what
// format_decimal writes (the reference the tests compare against). It is built in a stack
// buffer (no allocation): the top levels are copied out with L2Book::top(), each number's
// digits are computed eight at a time in a register (SWAR multiply-shifts, no division
// chain) and stored with fixed-size stores; rare shapes (|mantissa| >= 10^16, more text
// decimals than the book's) fall back to format_decimal. The CRC is libdeflate's
// (PCLMUL/AVX folding picked at run time), several times faster than zlib's on these
// ~1 KB texts. One free function per venue rule (VENUE_RULES.md); the caller compares
// against the value on the wire.
#include <cstdint>

#include "book/l2_book.hpp"

namespace fh::book {

// OKX v5 books: best 25 bids and asks interleaved bid_px:bid_sz:ask_px:ask_sz per level; when
// one side runs out the other keeps going; joined with ':'. The venue sends the CRC as a
// signed int32: compare static_cast<std::int32_t>(okx_checksum(book)) with it.
[[nodiscard]] std::uint32_t okx_checksum(const L2Book &book) noexcept;

// Kraken WS v1 book: top 10 asks (low -> high) then top 10 bids (high -> low); per level the
// price text then the volume text, each with '.' removed and leading zeros stripped,
// concatenated. CRC32, unsigned (v1 sends it as a decimal string).
[[nodiscard]] std::uint32_t kraken_checksum(const L2Book &book) noexcept;

} // namespace fh::book
