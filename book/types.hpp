#pragma once
// Fixed-point vocabulary shared by every layer. Prices and quantities are int64 mantissas
// with a per-instrument number of decimals (exponent = -decimals), parsed straight from the
// venue's text; doubles are for display only.
#include <cstdint>

namespace fh::book {

enum class Side : std::uint8_t { Bid = 0, Ask = 1 };

constexpr Side opposite(Side s) noexcept { return s == Side::Bid ? Side::Ask : Side::Bid; }

// Maximum decimals we represent; 10^18 is the largest power of ten in int64.
inline constexpr int kMaxDecimals = 18;

inline constexpr std::int64_t kPow10[19] = {1LL,
                                            10LL,
                                            100LL,
                                            1000LL,
                                            10000LL,
                                            100000LL,
                                            1000000LL,
                                            10000000LL,
                                            100000000LL,
                                            1000000000LL,
                                            10000000000LL,
                                            100000000000LL,
                                            1000000000000LL,
                                            10000000000000LL,
                                            100000000000000LL,
                                            1000000000000000LL,
                                            10000000000000000LL,
                                            100000000000000000LL,
                                            1000000000000000000LL};

} // namespace fh::book
