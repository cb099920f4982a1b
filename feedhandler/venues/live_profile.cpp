#include "feedhandler/venues/live_profile.hpp"

#include <algorithm>
#include <cctype>

namespace fh::venues {

namespace {

constexpr LiveProfile kProfiles[] = {
    // venue, ws, rest, streams/conn, args/sub, sub ms, conn ms, age s, heartbeat, ping, no-data
    {Venue::BinanceSpot, "wss://stream.binance.com:9443", "https://api.binance.com", 200, 200,
     300, 400, 23 * 3600 + 50 * 60, Heartbeat::AnswerServerPings, 0, 60'000},
    {Venue::BinanceUsdm, "wss://fstream.binance.com", "https://fapi.binance.com", 200, 200, 150,
     400, 23 * 3600 + 50 * 60, Heartbeat::AnswerServerPings, 0, 60'000},
    {Venue::BinanceCoinm, "wss://dstream.binance.com", "https://dapi.binance.com", 200, 200, 150,
     400, 23 * 3600 + 50 * 60, Heartbeat::AnswerServerPings, 0, 60'000},
    {Venue::BinanceUs, "wss://stream.binance.us:9443", "https://api.binance.us", 200, 200, 300,
     400, 23 * 3600 + 50 * 60, Heartbeat::AnswerServerPings, 0, 60'000},
    // OKX: 480 subscribes per hour per connection -> one every 7.5 s sustained; a connection
    // sends a handful at start, so pace at 400 ms and keep the count per connection small.
    {Venue::Okx, "wss://ws.okx.com:8443/ws/v5/public", "https://www.okx.com", 300, 100, 400, 400,
     0, Heartbeat::ClientTextPing, 20'000, 30'000, 440 /* of 480: a margin */},
    {Venue::Kraken, "wss://ws.kraken.com/v2", "https://api.kraken.com", 100, 100, 200, 400, 0,
     Heartbeat::VenueHeartbeats, 0, 10'000},
    // Deribit: public requests are credit-limited (about 20 per second sustained); a subscribe
    // takes a list of channels, three per instrument (book, trades, ticker).
    {Venue::Deribit, "wss://www.deribit.com/ws/api/v2", "https://www.deribit.com", 300, 150, 200,
     400, 0, Heartbeat::ClientTextPing, 10'000, 30'000},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// JSON string literal for a venue symbol (symbols are [A-Za-z0-9/_.-], escaped anyway).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::vector<std::vector<std::string>> chunk(const std::vector<std::string>& v, std::size_t n) {
  std::vector<std::vector<std::string>> out;
  for (std::size_t i = 0; i < v.size(); i += n)
    out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(i),
                     v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), i + n)));
  return out;
}

std::size_t streams_per_symbol(const SubscriptionSet& s) {
  return std::max<std::size_t>(1, std::size_t{s.book} + s.trades + s.bbo);
}

std::vector<ConnectionPlan> plan_binance(const LiveProfile& p, const SubscriptionSet& s,
                                         std::string_view ws_url) {
  std::vector<ConnectionPlan> plans;
  const bool futures = p.venue == Venue::BinanceUsdm || p.venue == Venue::BinanceCoinm;
  const std::size_t per_conn =
      std::max<std::size_t>(1, p.max_streams_per_connection / streams_per_symbol(s));
  for (auto& group : chunk(s.natives, per_conn)) {
    // Combined-stream URL, grouped by stream type like the recordings: a reconnect resumes
    // every stream without subscribe requests (and without their rate limit).
    std::vector<std::string> streams;
    if (s.trades)
      for (const auto& n : group) streams.push_back(lower(n) + (futures ? "@aggTrade" : "@trade"));
    if (s.book)
      for (const auto& n : group) streams.push_back(lower(n) + "@depth" + s.binance_depth_speed);
    if (s.bbo)
      for (const auto& n : group) streams.push_back(lower(n) + "@bookTicker");
    ConnectionPlan plan;
    plan.url = std::string(ws_url.empty() ? p.ws_url : ws_url) + "/stream?streams=";
    for (std::size_t i = 0; i < streams.size(); ++i) {
      if (i != 0) plan.url += '/';
      plan.url += streams[i];
    }
    plan.natives = group;
    plans.push_back(std::move(plan));
  }
  return plans;
}

// {"op":OP,"args":[{"channel":C,"instId":X},...]}
std::string okx_request(std::string_view op, std::string_view channel,
                        const std::vector<std::string>& natives) {
  std::string m = R"({"op":)";
  append_json_string(m, op);
  m += R"(,"args":[)";
  for (std::size_t i = 0; i < natives.size(); ++i) {
    if (i != 0) m += ',';
    m += R"({"channel":)";
    append_json_string(m, channel);
    m += R"(,"instId":)";
    append_json_string(m, natives[i]);
    m += '}';
  }
  m += "]}";
  return m;
}

// Kraken v1 {"event":E,"pair":[..],"subscription":{"name":N(,"depth":D)}} or v2
// {"method":E,"params":{"channel":N,"symbol":[..](,"depth":D)(,"snapshot":true)}} (the
// snapshot flag only on a v2 subscribe: an unsubscribe takes channel, symbol and depth).
std::string kraken_request(bool v1, std::string_view event, std::string_view name,
                           const std::vector<std::string>& natives, std::uint32_t depth) {
  std::string pairs = "[";
  for (std::size_t i = 0; i < natives.size(); ++i) {
    if (i != 0) pairs += ',';
    append_json_string(pairs, natives[i]);
  }
  pairs += ']';
  std::string m;
  if (v1) {
    m = R"({"event":")" + std::string(event) + R"(","pair":)" + pairs +
        R"(,"subscription":{"name":")" + std::string(name) + '"';
    if (depth != 0) m += R"(,"depth":)" + std::to_string(depth);
    m += "}}";
  } else {
    m = R"({"method":")" + std::string(event) + R"(","params":{"channel":")" + std::string(name) +
        R"(","symbol":)" + pairs;
    if (depth != 0) m += R"(,"depth":)" + std::to_string(depth);
    m += event == "subscribe" ? R"(,"snapshot":true}})" : "}}";
  }
  return m;
}

std::vector<ConnectionPlan> plan_okx(const LiveProfile& p, const SubscriptionSet& s,
                                     std::string_view ws_url) {
  std::vector<ConnectionPlan> plans;
  std::vector<std::string> channels;
  if (s.trades) channels.emplace_back("trades");
  if (s.book) channels.push_back(s.okx_book_channel);
  if (s.bbo) channels.emplace_back("tickers");
  const std::size_t per_conn = std::max<std::size_t>(
      1, p.max_streams_per_connection / std::max<std::size_t>(1, channels.size()));
  const std::size_t per_msg = std::max<std::size_t>(1, p.max_args_per_subscribe);
  for (auto& group : chunk(s.natives, per_conn)) {
    ConnectionPlan plan;
    plan.url = std::string(ws_url.empty() ? p.ws_url : ws_url);
    plan.natives = group;
    // One request per channel (and per chunk of instruments), like the recording.
    for (const auto& ch : channels)
      for (auto& part : chunk(group, per_msg))
        plan.subscribe_messages.push_back(okx_request("subscribe", ch, part));
    plans.push_back(std::move(plan));
  }
  return plans;
}

// Deribit {"jsonrpc":"2.0","id":N,"method":"public/(un)subscribe","params":{"channels":[..]}}.
std::string deribit_request(std::string_view method, const std::vector<std::string>& channels,
                            std::uint64_t id) {
  std::string m = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"public/)" +
                  std::string(method) + R"(","params":{"channels":[)";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i != 0) m += ',';
    append_json_string(m, channels[i]);
  }
  return m + "]}}";
}

std::vector<std::string> deribit_channels(std::string_view kind, const std::vector<std::string>& natives,
                                          std::string_view interval) {
  std::vector<std::string> out;
  for (const auto& n : natives) out.push_back(std::string(kind) + "." + n + "." + std::string(interval));
  return out;
}

std::vector<ConnectionPlan> plan_deribit(const LiveProfile& p, const SubscriptionSet& s,
                                         std::string_view ws_url) {
  std::vector<ConnectionPlan> plans;
  const std::size_t per_conn =
      std::max<std::size_t>(1, p.max_streams_per_connection / streams_per_symbol(s));
  for (auto& group : chunk(s.natives, per_conn)) {
    ConnectionPlan plan;
    plan.url = std::string(ws_url.empty() ? p.ws_url : ws_url);
    plan.natives = group;
    // Book, trades, ticker: the recording's order; one request per chunk of channels.
    std::vector<std::string> channels;
    auto add = [&](std::string_view kind) {
      auto c = deribit_channels(kind, group, s.deribit_interval);
      channels.insert(channels.end(), c.begin(), c.end());
    };
    if (s.book) add("book");
    if (s.trades) add("trades");
    if (s.bbo) add("ticker");
    std::uint64_t id = 0;
    for (auto& part : chunk(channels, std::max<std::size_t>(1, p.max_args_per_subscribe)))
      plan.subscribe_messages.push_back(deribit_request("subscribe", part, id++));
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::vector<ConnectionPlan> plan_kraken(const LiveProfile& p, const SubscriptionSet& s,
                                        std::string_view ws_url) {
  std::vector<ConnectionPlan> plans;
  const bool v1 = s.kraken_api == KrakenApi::V1;
  const std::size_t per_conn =
      std::max<std::size_t>(1, p.max_streams_per_connection / streams_per_symbol(s));
  for (auto& group : chunk(s.natives, per_conn)) {
    ConnectionPlan plan;
    plan.url = std::string(ws_url.empty() ? (v1 ? std::string_view("wss://ws.kraken.com") : p.ws_url)
                                          : ws_url);
    plan.natives = group;
    auto add = [&](std::string_view name_v1, std::string_view channel_v2, bool with_depth) {
      plan.subscribe_messages.push_back(kraken_request(v1, "subscribe", v1 ? name_v1 : channel_v2,
                                                       group, with_depth ? s.kraken_depth : 0));
    };
    if (s.book) add("book", "book", true);
    if (s.bbo) add("ticker", "ticker", false);
    if (s.trades) add("trade", "trade", false);
    plans.push_back(std::move(plan));
  }
  return plans;
}

} // namespace

const LiveProfile* find_live_profile(Venue v) noexcept {
  for (const LiveProfile& p : kProfiles)
    if (p.venue == v) return &p;
  return nullptr;
}

const LiveProfile& live_profile(Venue v) noexcept {
  const LiveProfile* p = find_live_profile(v);
  return p != nullptr ? *p : kProfiles[0];
}

std::vector<ConnectionPlan> plan_connections(Venue v, const SubscriptionSet& s,
                                             std::string_view ws_url) {
  const LiveProfile& p = live_profile(v);
  std::vector<ConnectionPlan> plans;
  switch (v) {
  case Venue::BinanceSpot:
  case Venue::BinanceUsdm:
  case Venue::BinanceCoinm:
  case Venue::BinanceUs: plans = plan_binance(p, s, ws_url); break;
  case Venue::Okx: plans = plan_okx(p, s, ws_url); break;
  case Venue::Kraken: plans = plan_kraken(p, s, ws_url); break;
  case Venue::Deribit: plans = plan_deribit(p, s, ws_url); break;
  default: break; // no live session for this venue (find_live_profile() is null)
  }
  for (auto& plan : plans) {
    plan.spec = s;
    plan.spec.natives.clear();
  }
  return plans;
}

std::vector<std::string> book_resubscribe_messages(Venue v, const SubscriptionSet& s,
                                                   const std::vector<std::string>& natives) {
  if (!s.book || natives.empty()) return {};
  switch (v) {
  case Venue::Okx:
    return {okx_request("unsubscribe", s.okx_book_channel, natives),
            okx_request("subscribe", s.okx_book_channel, natives)};
  case Venue::Kraken: {
    const bool v1 = s.kraken_api == KrakenApi::V1;
    return {kraken_request(v1, "unsubscribe", "book", natives, s.kraken_depth),
            kraken_request(v1, "subscribe", "book", natives, s.kraken_depth)};
  }
  case Venue::Deribit: {
    const auto channels = deribit_channels("book", natives, s.deribit_interval);
    // Ids above the subscribe round's, so the answers are told apart in a recording.
    return {deribit_request("unsubscribe", channels, 1000),
            deribit_request("subscribe", channels, 1001)};
  }
  default: return {};
  }
}

std::string binance_depth_snapshot_url(Venue v, std::string_view native, std::uint32_t limit,
                                       std::string_view rest_base) {
  const LiveProfile& p = live_profile(v);
  std::string url(rest_base.empty() ? p.rest_base : rest_base);
  switch (v) {
  case Venue::BinanceUsdm: url += "/fapi/v1/depth"; break;
  case Venue::BinanceCoinm: url += "/dapi/v1/depth"; break;
  default: url += "/api/v3/depth"; break;
  }
  std::string sym(native);
  std::transform(sym.begin(), sym.end(), sym.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return url + "?symbol=" + sym + "&limit=" + std::to_string(limit);
}

const Instrument* find_subscribed(const InstrumentRegistry& registry, Venue v,
                                  std::string_view native) noexcept {
  if (const Instrument* inst = registry.find(v, native)) return inst;
  if (v != Venue::Kraken) return nullptr;
  char canonical[64];
  if (native.size() >= sizeof canonical) return nullptr;
  for (std::size_t i = 0; i < native.size(); ++i) canonical[i] = native[i] == '/' ? '-' : native[i];
  return registry.find_canonical(v, std::string_view(canonical, native.size()));
}

std::string_view ping_text(Venue v, KrakenApi api) noexcept {
  switch (v) {
  case Venue::Okx: return "ping";
  case Venue::Kraken: return api == KrakenApi::V1 ? R"({"event":"ping"})" : R"({"method":"ping"})";
  // Deribit's keep-alive request; its answer carries the id 9929 (see is_keepalive_text).
  case Venue::Deribit: return R"({"jsonrpc":"2.0","id":9929,"method":"public/test"})";
  default: return {};
  }
}

bool is_keepalive_text(Venue v, std::string_view text) noexcept {
  // Called on every received message: keep-alives are a few dozen bytes, so a long message
  // (every book update) is rejected without scanning it.
  constexpr std::size_t kMaxKeepalive = 96;
  if (v == Venue::Deribit) {
    // public/test's answer ({"jsonrpc":"2.0","id":9929,"result":{"version":..},"usIn":..})
    // and the venue's heartbeat notice; both well under 256 bytes.
    return text.size() < 256 && (text.find(R"("id":9929,)") != std::string_view::npos ||
                                 text.find(R"("method":"heartbeat")") != std::string_view::npos);
  }
  if (text.size() > kMaxKeepalive) return false;
  switch (v) {
  case Venue::Okx: return text == "pong";
  case Venue::Kraken:
    return text.find(R"("event":"heartbeat")") != std::string_view::npos ||
           text.find(R"("event":"pong")") != std::string_view::npos ||
           text.find(R"("channel":"heartbeat")") != std::string_view::npos ||
           text.find(R"("method":"pong")") != std::string_view::npos;
  default: return false;
  }
}

} // namespace fh::venues
