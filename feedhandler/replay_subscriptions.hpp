#pragma once
// What a recorded session subscribed to, so that `fh-replay --network` connects the live
// session code to fh-venue asking for the same streams (built by our own plan_connections,
// not by replaying the recorded requests); also what the live tests and benches subscribe to.
// Control path.
//   OKX:     the `instId`s and channels of the recorded subscribe requests
//   Kraken:  v1 `pair` lists and the subscription name/depth of the recorded requests
//   Binance: the streams in the recorded URL (combined streams)
#include <optional>
#include <string>

#include "feedhandler/capture.hpp"
#include "feedhandler/venues/live_profile.hpp"

namespace fh::replay {

// nullopt, with `why`, when the capture shows no subscription to rebuild.
std::optional<venues::SubscriptionSet> recorded_subscriptions(Venue v, const capture::CaptureFile& f,
                                                              std::string& why);

} // namespace fh::replay
