#pragma once
// What a live session needs to know about a venue's current public WebSocket protocol:
// default endpoints, the limits it enforces, how it keeps a connection alive, and how to
// subscribe. Control path only (strings are built once per connection).
//
// Sources (venue documentation, 2026): Binance spot/USD-M/COIN-M "WebSocket Market Streams"
// (24 h connection life, server ping frames every 20 s spot / 3 min futures answered by
// pongs, 1024 streams per connection, 5 (spot) / 10 (futures) incoming messages per second);
// OKX v5 "WebSocket API connect" (3 connections per second per IP, 480 subscribe requests per
// hour per connection, text "ping" when idle < 30 s, answered with "pong"; checksum reads 0
// from June 2026, seqId/prevSeqId remain: VENUE_RULES.md); Kraken spot WebSocket v1 and v2
// (heartbeat messages about once a second when idle; v2 is current, v1 is the recordings');
// Deribit JSON-RPC over WebSocket ("book.X.interval" with change_id chain; public/test as the
// client keep-alive; raw intervals need authorisation, so the public default is 100ms).
// Limits below are the venue's minus a margin; they are the defaults a config may tighten.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venue.hpp"

namespace fh::venues {

enum class Heartbeat : std::uint8_t {
  AnswerServerPings, // Binance: the server pings at the WebSocket level; the client pongs
  ClientTextPing,    // OKX: send text "ping" after `ping_idle_ms` without data; expect "pong"
  VenueHeartbeats,   // Kraken: the server sends heartbeat messages; silence is the alarm
};

struct LiveProfile {
  Venue venue;
  std::string_view ws_url;           // default public endpoint
  std::string_view rest_base;        // REST base for snapshots / metadata ("" if none used)
  std::uint32_t max_streams_per_connection;
  std::uint32_t max_args_per_subscribe;  // entries in one subscribe request
  std::int64_t subscribe_interval_ms;    // pacing between subscribe requests on a connection
  std::int64_t connect_interval_ms;      // pacing between new connections to the venue
  std::int64_t max_connection_age_s;     // reconnect before the venue cuts us (0 = none)
  Heartbeat heartbeat;
  std::int64_t ping_idle_ms;             // ClientTextPing: idle time before "ping"
  std::int64_t no_data_timeout_ms;       // nothing at all received for this long: reconnect
  // Subscribe/unsubscribe requests allowed per connection per hour (0 = no such limit). A
  // session that would exceed it reconnects instead (a new connection, a new budget).
  std::uint32_t max_requests_per_hour = 0;
};

// The venue's live profile, nullptr for venues we replay but do not connect to yet.
const LiveProfile* find_live_profile(Venue v) noexcept;
// Only for venues find_live_profile() knows (callers check first; config refuses others).
const LiveProfile& live_profile(Venue v) noexcept;

// Kraken's two live protocols (the recordings are v1; v2 is the current one).
enum class KrakenApi : std::uint8_t { V1, V2 };

struct SubscriptionSet {
  std::vector<std::string> natives; // venue symbols as the stream spells them
  bool book = true;
  bool trades = true;
  bool bbo = true;                  // bookTicker / tickers / ticker
  std::uint32_t kraken_depth = 1000;
  std::string okx_book_channel = "books"; // books (400, seqId), books-l2-tbt (VIP), books5, ...
  std::string binance_depth_speed = "@100ms"; // "" = 1000 ms; futures also "@0ms" (like the recording)
  KrakenApi kraken_api = KrakenApi::V2;
  // Deribit channel interval: "100ms" (public) or "raw" (Deribit requires an authorised
  // connection for raw since 2023; the 2021 recordings used raw).
  std::string deribit_interval = "100ms";
};

// One connection's worth of streams: its URL (Binance puts streams in the URL) and the
// subscribe requests to send, in order, paced by subscribe_interval_ms.
struct ConnectionPlan {
  std::string url;
  std::vector<std::string> subscribe_messages;
  std::vector<std::string> natives; // the instruments this connection carries
  // The set the plan was made from (its `natives` left empty: see above), so a session can
  // resubscribe one book later with the same channel, depth and protocol.
  SubscriptionSet spec;
};

// Splits the set over connections within the venue's limits and builds each one's URL and
// subscribe requests. `ws_url` overrides the profile's endpoint (e.g. a local fh-venue).
std::vector<ConnectionPlan> plan_connections(Venue v, const SubscriptionSet& s,
                                             std::string_view ws_url = {});

// Per-instrument resync on a live connection (OKX, Kraken: their snapshot comes with every
// subscription): unsubscribe, then subscribe again, the book channel of `natives` only, worded
// like plan_connections() words it. OKX v5 {"op":"unsubscribe","args":[{"channel":C,"instId":X}]};
// Kraken v1 {"event":"unsubscribe","pair":[X],"subscription":{"name":"book","depth":N}}; Kraken
// v2 {"method":"unsubscribe","params":{"channel":"book","symbol":[X],"depth":N}}; each followed by
// the matching subscribe. Empty for Binance (a REST snapshot resyncs it) or when `s` has no book.
std::vector<std::string> book_resubscribe_messages(Venue v, const SubscriptionSet& s,
                                                   const std::vector<std::string>& natives);

// REST depth snapshot for a Binance symbol (the diff-depth procedure's snapshot).
std::string binance_depth_snapshot_url(Venue v, std::string_view native, std::uint32_t limit,
                                       std::string_view rest_base = {});

// Client keep-alive text for ClientTextPing / Kraken, and whether a received text is the
// venue's answer to it or one of its heartbeats (so it is not parsed as market data).
std::string_view ping_text(Venue v, KrakenApi api = KrakenApi::V2) noexcept;

// The instrument a subscribed symbol names. Kraken v2 writes BTC/USD where the AssetPairs
// metadata's wsname is XBT/USD: both are the canonical BTC-USD, looked up when the native
// name is not known. Control path.
const Instrument* find_subscribed(const InstrumentRegistry& registry, Venue v,
                                  std::string_view native) noexcept;
bool is_keepalive_text(Venue v, std::string_view text) noexcept;

} // namespace fh::venues
