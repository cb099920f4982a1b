#include "feedhandler/venues/metadata_urls.hpp"

#include <algorithm>

#include "feedhandler/venues/live_profile.hpp"

namespace fh::venues {

namespace {

// "BTC-USD-220325-40000-C" -> "BTC-USD"; "" for anything that is not an OKX option id.
std::string okx_option_underlying(std::string_view id) {
  std::size_t dashes[4] = {}, n = 0;
  for (std::size_t i = 0; i < id.size() && n < 4; ++i)
    if (id[i] == '-') dashes[n++] = i;
  const bool option = n == 4 && id.size() == dashes[3] + 2 &&
                      (id.back() == 'C' || id.back() == 'P') && dashes[2] - dashes[1] == 7;
  return option ? std::string(id.substr(0, dashes[1])) : std::string();
}

} // namespace

std::vector<std::string> metadata_urls(Venue v, std::string_view rest_base,
                                       const std::vector<std::string>& natives) {
  const std::string base(rest_base.empty() ? live_profile(v).rest_base : rest_base);
  switch (v) {
  case Venue::BinanceSpot:
  case Venue::BinanceUs: return {base + "/api/v3/exchangeInfo"};
  case Venue::BinanceUsdm: return {base + "/fapi/v1/exchangeInfo"};
  case Venue::BinanceCoinm: return {base + "/dapi/v1/exchangeInfo"};
  // OKX: one request per instrument type, options one per underlying subscribed.
  case Venue::Okx: {
    std::vector<std::string> urls{base + "/api/v5/public/instruments?instType=SPOT",
                                  base + "/api/v5/public/instruments?instType=SWAP",
                                  base + "/api/v5/public/instruments?instType=FUTURES"};
    std::vector<std::string> underlyings;
    for (const auto& n : natives) {
      std::string u = okx_option_underlying(n);
      if (u.empty() || std::find(underlyings.begin(), underlyings.end(), u) != underlyings.end())
        continue;
      urls.push_back(base + "/api/v5/public/instruments?instType=OPTION&uly=" + u);
      underlyings.push_back(std::move(u));
    }
    return urls;
  }
  case Venue::Kraken: return {base + "/0/public/AssetPairs"};
  // Deribit: one get_instruments per settlement currency named by the subscribed instruments
  // (BTC-PERPETUAL -> BTC; linear BTC_USDC-PERPETUAL -> USDC), as the recording asked.
  case Venue::Deribit: {
    std::vector<std::string> urls;
    for (const auto& n : natives) {
      std::string cur = n.substr(0, n.find('-'));
      if (const auto us = cur.find('_'); us != std::string::npos) cur = cur.substr(us + 1);
      std::string url = base + "/api/v2/public/get_instruments?currency=" + cur + "&expired=false";
      if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(std::move(url));
    }
    return urls;
  }
  default: return {};
  }
}

} // namespace fh::venues
