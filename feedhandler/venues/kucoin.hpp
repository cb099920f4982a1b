#pragma once
// KuCoin spot adapter: WebSocket frame parser, REST level-2 snapshot parser and symbol metadata.
//
// Why this shape: KuCoin's `/market/level2:{symbol}` is a diff stream plus a REST snapshot, the
// procedure of Binance spot (VENUE_RULES.md "KuCoin"): an update carries sequenceStart and
// sequenceEnd, the REST snapshot `sequence`; drop sequenceEnd <= sequence, then sequenceStart ==
// previous sequenceEnd + 1. So the builder's SyncRule::RestSnapshotChain applies unchanged: an
// update becomes BookBegin{kFlagHasSeq, first_seq sequenceStart, last_seq sequenceEnd} ->
// BookLevel* -> BookEnd and the REST body BookBegin{kFlagSnapshot | kFlagRest | kFlagHasSeq,
// last_seq sequence}. Each change is [price, size, sequence]; a change priced "0" (["0","0",seq])
// is a sequence marker with no level: it yields no BookLevel, its sequence still counts. KuCoin
// numbers every change, but applying a whole message that straddles the snapshot is the same as
// applying only its changes newer than the snapshot: a message covers a contiguous sequence
// range, so every change it repeats is followed, for that price, by the snapshot's own value.
//
// KuCoin writes "data" before "topic" (which names the channel and, for tickers, the only
// symbol), so the parser keeps the texts of data's scalar fields (views into the frame) and
// converts them once the topic is read: one pass. Level changes are converted as they stream
// past when data.symbol precedes them (always, on the wire); otherwise a cold second pass does
// it. simdjson on-demand with error codes, parser sized once: no allocation per message.
//
// Channels: /market/level2 (-> book), /market/ticker (-> Bbo with update_id = the ticker's
// `sequence`, on the same sequence as level2), /market/match (-> Trade; trade_id = the match's
// `sequence`, because KuCoin's tradeId is a 96-bit hex ObjectId). welcome, ack, pong, candles and
// other topics are walked (a broken one is Malformed) and Ignored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <simdjson.h>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/instrument.hpp"
#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/parse_status.hpp"

namespace fh::venues {

class KucoinParser {
public:
  // Largest frame parsed without growing simdjson's buffers. Stream frames are small; a full
  // REST level-2 snapshot (every level of a busy symbol) reaches a few hundred KB.
  static constexpr std::size_t kDefaultFrameCapacity = 1024 * 1024;

  explicit KucoinParser(InstrumentRegistry &registry,
                        std::size_t frame_capacity = kDefaultFrameCapacity);

  KucoinParser(const KucoinParser &) = delete;
  KucoinParser &operator=(const KucoinParser &) = delete;

  // One received text frame of the public endpoint. `frame` has SIMDJSON_PADDING readable
  // bytes after it. On an error status `out` is left exactly as it was.
  [[nodiscard]] ParseStatus parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept;

  // A REST GET /api/v3/market/orderbook/level2?symbol=X (or the v2/v1 level2 forms) body for
  // `symbol`, same padding contract. A response whose code is not "200000" is Malformed.
  [[nodiscard]] ParseStatus parse_level2_snapshot(std::string_view body, std::string_view symbol,
                                                  std::int64_t recv_ts_ns,
                                                  EventBatch &out) noexcept;

private:
  simdjson::ondemand::parser parser_;
  InstrumentRegistry *registry_;
};

// Control path (allocates, simdjson DOM): loads a REST GET /api/v1/symbols (or /api/v2/symbols)
// response. Native = "symbol" (BCHSV-USDT); canonical BASE-QUOTE from "baseCurrency" and
// "quoteCurrency", KuCoin's display names (BCHSV-USDT is BSV-USDT, its "name"). Prices at
// priceIncrement's decimals, tick = priceIncrement; sizes on a wider scale than baseIncrement
// (resting sizes are finer; see kucoin_metadata.cpp), lot = baseIncrement, min_qty = baseMinSize.
// Marks KuCoin metadata as loaded when at least one symbol was added; returns the number added
// (0 for a body that is not a successful symbols response).
std::size_t load_kucoin_symbols(std::string_view body, InstrumentRegistry &registry);

// The instrument assumed for a symbol seen without metadata: BASE-QUOTE as written (no alias
// is known without metadata), prices and sizes at 10 decimals.
Instrument kucoin_default_instrument(Venue venue, std::string_view native);

} // namespace fh::venues
