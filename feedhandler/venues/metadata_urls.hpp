#pragma once
// The REST requests that load a venue's symbol metadata (tick, lot, contract type) at start:
// the same endpoints the recorded sessions in data/ fetched, so a local fh-venue serving
// those recordings answers them too. Control path.
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/venue.hpp"

namespace fh::venues {

// Full URLs; `rest_base` ("https://host[:port]") overrides the venue's public REST base.
// `natives`: the symbols to be subscribed; OKX options are listed per underlying, so each
// option's underlying (BTC-USD of BTC-USD-220325-40000-C) adds one request.
std::vector<std::string> metadata_urls(Venue v, std::string_view rest_base = {},
                                       const std::vector<std::string>& natives = {});

} // namespace fh::venues
