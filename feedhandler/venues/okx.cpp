// OKX v5 public frame parser (hot path). See okx.hpp for the shape and the channels.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; the caller (OkxParser::parse) removes a failed message's events. Numbers are
// read from raw JSON tokens: strings ("61800.2") and bare numbers (checksum) alike.
#include "feedhandler/venues/okx.hpp"

#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

enum class Channel : std::uint8_t {
  Unknown = 0,
  Book,         // books, books-l2-tbt, books50-l2-tbt: action snapshot/update
  BookSnapshot, // books5, bbo-tbt: every push is the whole (shallow) book
  Tickers,
  Trades,
};

Channel classify(std::string_view name) noexcept {
  if (name == "books-l2-tbt" || name == "books" || name == "books50-l2-tbt")
    return Channel::Book;
  if (name == "books5" || name == "bbo-tbt")
    return Channel::BookSnapshot;
  if (name == "tickers")
    return Channel::Tickers;
  if (name == "trades" || name == "trades-all")
    return Channel::Trades;
  return Channel::Unknown;
}

// Signed decimal integer (checksum, seqId, prevSeqId), |v| < 10^18.
bool parse_i64(std::string_view t, std::int64_t &out) noexcept {
  const bool negative = !t.empty() && t.front() == '-';
  if (negative)
    t.remove_prefix(1);
  std::uint64_t v = 0;
  if (t.size() > 18 || !parse_u64(t, v))
    return false;
  out = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return true;
}

// OKX times are Unix milliseconds as strings. 13 digits last until the year 2286 and keep
// the nanosecond product inside int64.
bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

// State of one frame being parsed.
struct Frame {
  EventBatch &out;
  const Instrument *inst;
  std::int64_t recv_ts_ns;
  bool snapshot; // action == "snapshot" (or a snapshot-only channel)

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Okx, inst->id, recv_ts_ns);
  }
};

// One side of a book entry: [[px, sz, "0", numOrders], ...] in wire order.
ParseStatus parse_levels(od::value &side_value, book::Side side, Frame &f,
                         std::uint32_t &count) noexcept {
  return parse_book_side(side_value, side, f, 2, count,
                         [](unsigned index, od::value &element, Event &e) noexcept {
                           if (index != 3)
                             return ParseStatus::Ok; // [2] is the deprecated liquidated-orders "0"
                           std::uint64_t orders = 0;
                           if (!parse_u64(scalar_text(element), orders) || orders > 0xffffffffULL)
                             return ParseStatus::BadNumber;
                           e.level.orders = static_cast<std::uint32_t>(orders);
                           return ParseStatus::Ok;
                         });
}

// One element of `data` on a book channel: BookBegin, levels, BookEnd. ts, checksum and the
// sequence ids follow the levels on the wire, so the BookBegin is patched at the end.
ParseStatus parse_book_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  const std::size_t begin_index = f.out.size();
  if (f.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;

  std::uint32_t levels = 0;
  std::int64_t ts_ns = 0;
  std::int64_t checksum = 0;
  std::int64_t seq = 0;
  std::int64_t prev_seq = 0;
  bool has_seq = false;
  bool has_prev_seq = false;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    ParseStatus st = ParseStatus::Ok;
    if (key == "asks") {
      st = parse_levels(v, book::Side::Ask, f, levels);
    } else if (key == "bids") {
      st = parse_levels(v, book::Side::Bid, f, levels);
    } else if (key == "ts") {
      if (!parse_ms_to_ns(scalar_text(v), ts_ns))
        st = ParseStatus::BadNumber;
    } else if (key == "checksum") {
      if (!parse_i64(scalar_text(v), checksum))
        st = ParseStatus::BadNumber;
    } else if (key == "seqId") {
      if (!parse_i64(scalar_text(v), seq))
        st = ParseStatus::BadNumber;
      has_seq = true;
    } else if (key == "prevSeqId") {
      if (!parse_i64(scalar_text(v), prev_seq))
        st = ParseStatus::BadNumber;
      has_prev_seq = true;
    } else if (!walk(v, kWalkDepth)) {
      st = ParseStatus::Malformed;
    }
    if (st != ParseStatus::Ok)
      return st;
  }

  Event *end = f.push(EventType::BookEnd);
  if (end == nullptr)
    return ParseStatus::BatchOverflow;
  end->exch_ts_ns = ts_ns;
  // Checksum 0 means "not provided" (OKX stops sending it in June 2026).
  if (checksum != 0) {
    end->flags = kFlagHasChecksum;
    end->end.checksum = checksum;
  }

  Event &begin = f.out[begin_index];
  begin.exch_ts_ns = ts_ns;
  begin.begin.levels = levels;
  std::uint8_t flags = f.snapshot ? kFlagSnapshot : std::uint8_t{0};
  if (has_seq) {
    flags |= kFlagHasSeq;
    begin.begin.first_seq = static_cast<std::uint64_t>(seq);
    begin.begin.last_seq = static_cast<std::uint64_t>(seq);
  }
  if (has_prev_seq) {
    flags |= kFlagHasPrevSeq;
    begin.begin.prev_seq = static_cast<std::uint64_t>(prev_seq); // -1 for a snapshot
  }
  begin.flags = flags;
  return ParseStatus::Ok;
}

// Best bid/ask text: "" means the side is empty (price 0, qty 0).
bool parse_bbo_field(std::string_view t, std::uint8_t decimals, std::int64_t &out) noexcept {
  if (t.empty()) {
    out = 0;
    return true;
  }
  book::ParsedDecimal d{};
  if (book::parse_decimal(t, decimals, d) != book::DecimalError::Ok)
    return false;
  out = d.mantissa;
  return true;
}

ParseStatus parse_ticker_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  const std::uint8_t px_dp = f.inst->price_decimals;
  const std::uint8_t sz_dp = f.inst->qty_decimals;
  unsigned seen = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    bool ok = true;
    if (key == "bidPx") {
      ok = parse_bbo_field(scalar_text(v), px_dp, e->bbo.bid_price);
      seen |= 1U;
    } else if (key == "bidSz") {
      ok = parse_bbo_field(scalar_text(v), sz_dp, e->bbo.bid_qty);
      seen |= 2U;
    } else if (key == "askPx") {
      ok = parse_bbo_field(scalar_text(v), px_dp, e->bbo.ask_price);
      seen |= 4U;
    } else if (key == "askSz") {
      ok = parse_bbo_field(scalar_text(v), sz_dp, e->bbo.ask_qty);
      seen |= 8U;
    } else if (key == "ts") {
      ok = parse_ms_to_ns(scalar_text(v), e->exch_ts_ns);
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 15U ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_trade_entry(od::value &entry_value, Frame &f) noexcept {
  od::object entry;
  if (entry_value.get_object().get(entry))
    return ParseStatus::Malformed;
  Event *e = f.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  unsigned seen = 0;
  for (auto field_result : entry) {
    od::field field;
    if (std::move(field_result).get(field))
      return ParseStatus::Malformed;
    const auto key = field.key();
    od::value &v = field.value();
    book::ParsedDecimal d{};
    bool ok = true;
    if (key == "px") {
      ok = parse_price(scalar_text(v), *f.inst, d);
      e->trade.price = d.mantissa;
      seen |= 1U;
    } else if (key == "sz") {
      ok = parse_qty(scalar_text(v), *f.inst, d);
      e->trade.qty = d.mantissa;
      seen |= 2U;
    } else if (key == "tradeId") {
      ok = parse_u64(scalar_text(v), e->trade.trade_id);
    } else if (key == "side") {
      std::string_view side;
      if (!string_text(v, side))
        return ParseStatus::Malformed;
      if (side == "sell")
        e->flags |= kFlagBuyerIsMaker;
      else if (side != "buy")
        return ParseStatus::Malformed;
    } else if (key == "ts") {
      ok = parse_ms_to_ns(scalar_text(v), e->exch_ts_ns);
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    if (!ok)
      return ParseStatus::BadNumber;
  }
  return seen == 3U ? ParseStatus::Ok : ParseStatus::Malformed;
}

ParseStatus parse_data(od::value &data_value, Channel channel, Frame &f) noexcept {
  od::array data;
  if (data_value.get_array().get(data))
    return ParseStatus::Malformed;
  for (auto entry_result : data) {
    od::value entry;
    if (entry_result.get(entry))
      return ParseStatus::Malformed;
    ParseStatus st = ParseStatus::Malformed;
    switch (channel) {
    case Channel::Book:
    case Channel::BookSnapshot:
      st = parse_book_entry(entry, f);
      break;
    case Channel::Tickers:
      st = parse_ticker_entry(entry, f);
      break;
    case Channel::Trades:
      st = parse_trade_entry(entry, f);
      break;
    case Channel::Unknown:
      break;
    }
    if (st != ParseStatus::Ok)
      return st;
  }
  return ParseStatus::Ok;
}

// Rare: "action" came after "data" (OKX writes it first). Set the flag on what was pushed.
void mark_snapshot(EventBatch &out, std::size_t from) noexcept {
  for (std::size_t i = from; i < out.size(); ++i)
    if (out[i].type == EventType::BookBegin)
      out[i].flags |= kFlagSnapshot;
}

} // namespace

OkxParser::OkxParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

namespace {

ParseStatus parse_frame(od::parser &parser, InstrumentRegistry &registry, std::string_view frame,
                        std::int64_t recv_ts_ns, EventBatch &out) noexcept {
  if (frame == "pong")
    return ParseStatus::Ignored;
  od::document doc;
  if (parser
          .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc))
    return ParseStatus::Malformed;

  Channel channel = Channel::Unknown;
  Frame f{out, nullptr, recv_ts_ns, false};
  bool data_seen = false;
  bool data_deferred = false; // "data" came before "arg": parse it on a second pass
  bool ignored = false;       // an acknowledgement or a channel we do not consume
  const std::size_t mark = out.size();

  for (int pass = 0; pass < 2; ++pass) {
    od::object root;
    if (doc.get_object().get(root))
      return ParseStatus::Malformed;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      if (ignored) {
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
      } else if (key == "data") {
        if (f.inst == nullptr) {
          data_deferred = true; // skipped by the iterator
          continue;
        }
        if (data_seen)
          return ParseStatus::Malformed;
        data_seen = true;
        const ParseStatus st = parse_data(v, channel, f);
        if (st != ParseStatus::Ok)
          return st;
      } else if (pass == 1) {
        continue; // arg and action were read on the first pass
      } else if (key == "arg") {
        od::object arg;
        if (v.get_object().get(arg))
          return ParseStatus::Malformed;
        std::string_view channel_name;
        std::string_view inst_id;
        for (auto arg_result : arg) {
          od::field arg_field;
          if (std::move(arg_result).get(arg_field))
            return ParseStatus::Malformed;
          const auto arg_key = arg_field.key();
          if (arg_key == "channel") {
            if (!string_text(arg_field.value(), channel_name))
              return ParseStatus::Malformed;
          } else if (arg_key == "instId") {
            if (!string_text(arg_field.value(), inst_id))
              return ParseStatus::Malformed;
          } else if (!walk(arg_field.value(), kWalkDepth)) {
            return ParseStatus::Malformed;
          }
        }
        channel = classify(channel_name);
        if (channel == Channel::Unknown) {
          ignored = true;
          continue;
        }
        if (channel == Channel::BookSnapshot)
          f.snapshot = true;
        f.inst = registry.resolve(Venue::Okx, inst_id, &okx_default_instrument);
        if (f.inst == nullptr)
          return inst_id.empty() ? ParseStatus::Malformed : ParseStatus::UnknownInstrument;
      } else if (key == "action") {
        std::string_view action;
        if (!string_text(v, action))
          return ParseStatus::Malformed;
        if (action == "snapshot") {
          f.snapshot = true;
          if (data_seen)
            mark_snapshot(out, mark);
        } else if (action != "update") {
          return ParseStatus::Malformed;
        }
      } else if (key == "event") {
        // subscribe / unsubscribe / error acknowledgements: checked, not used
        if (!walk(v, kWalkDepth))
          return ParseStatus::Malformed;
        ignored = true;
      } else if (!walk(v, kWalkDepth)) {
        return ParseStatus::Malformed;
      }
    }
    // The whole document must have been consumed (nothing after the root object).
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (ignored || !data_deferred || f.inst == nullptr)
      break;
    data_deferred = false;
    doc.rewind();
  }
  if (ignored)
    return ParseStatus::Ignored;
  if (f.inst == nullptr) // no "arg": a data message without it is not OKX's shape
    return data_deferred ? ParseStatus::Malformed : ParseStatus::Ignored;
  return data_seen ? ParseStatus::Ok : ParseStatus::Malformed;
}

} // namespace

ParseStatus OkxParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                             EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = parse_frame(parser_, *registry_, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

} // namespace fh::venues
