// Bitfinex v2 frame parser (hot path). See bitfinex.hpp for the shape and the channels.
//
// Every function here is noexcept, pushes into the pre-sized EventBatch and reports errors as
// ParseStatus; BitfinexParser::parse removes a failed (or ignored) message's events. The
// connection state (channel table, sequence) changes only when a message parsed completely.
#include "feedhandler/venues/bitfinex.hpp"

#include <algorithm>
#include <utility>

#include "book/decimal.hpp"
#include "feedhandler/book_error.hpp"
#include "feedhandler/venues/json_tokens.hpp"

namespace fh::venues {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// The text of a JSON number token. A string keeps its quotes, so every number reader
// rejects it: Bitfinex writes numbers as numbers, a quoted one is not its shape.
std::string_view number_text(od::value &v) noexcept {
  std::string_view t = v.raw_json_token();
  while (!t.empty() && is_space(t.back()))
    t.remove_suffix(1);
  return t;
}

// Unix milliseconds (13 digits last until 2286 and keep the ns product inside int64).
bool parse_ms_to_ns(std::string_view t, std::int64_t &out_ns) noexcept {
  std::uint64_t ms = 0;
  if (t.size() > 13 || !parse_u64(t, ms))
    return false;
  out_ns = static_cast<std::int64_t>(ms) * 1'000'000;
  return true;
}

// A signed amount: the sign is the side (bid / buy > 0, ask / sell < 0), the magnitude is
// parsed at the instrument's qty decimals.
bool parse_amount(std::string_view t, const Instrument &inst, book::Side &side,
                  book::ParsedDecimal &magnitude) noexcept {
  const bool negative = !t.empty() && t.front() == '-';
  if (negative)
    t.remove_prefix(1);
  if (!parse_qty(t, inst, magnitude))
    return false;
  side = negative ? book::Side::Ask : book::Side::Bid;
  return true;
}

// The message being parsed.
struct Msg {
  EventBatch &out;
  const Instrument *inst; // the channel's instrument (nullptr for unknown / Other channels)
  std::int64_t recv_ts_ns;
  std::size_t begin_index = kNone; // this message's BookBegin, patched with its sequence number

  Event *push(EventType type) noexcept {
    return push_event(out, type, Venue::Bitfinex, inst->id, recv_ts_ns);
  }
};

// Exactly N number tokens of an array value: a book, raw-book or trade entry.
template <std::size_t N>
ParseStatus read_tuple(od::value &v, std::array<std::string_view, N> &fields) noexcept {
  od::array a;
  if (v.get_array().get(a))
    return ParseStatus::Malformed;
  std::size_t n = 0;
  for (auto r : a) {
    od::value x;
    if (r.get(x) || n == N)
      return ParseStatus::Malformed;
    od::json_type t{};
    if (x.type().get(t) || t != od::json_type::number)
      return ParseStatus::Malformed;
    fields[n++] = number_text(x);
  }
  return n == N ? ParseStatus::Ok : ParseStatus::Malformed;
}

// [PRICE, COUNT, AMOUNT] -> BookLevel. COUNT 0 deletes the level; AMOUNT is then +-1 and
// only says the side.
ParseStatus push_level(Msg &m, const std::array<std::string_view, 3> &f,
                       std::uint32_t &count) noexcept {
  book::ParsedDecimal px{};
  if (!parse_price(f[0], *m.inst, px))
    return ParseStatus::BadNumber;
  std::uint64_t orders = 0;
  if (!parse_u64(f[1], orders) || orders > 0xffffffffULL)
    return ParseStatus::BadNumber;
  book::Side side{};
  book::ParsedDecimal amount{};
  if (!parse_amount(f[2], *m.inst, side, amount))
    return ParseStatus::BadNumber;
  if (px.mantissa <= 0 || amount.mantissa == 0) // a level has a price; the sign needs a value
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::BookLevel);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->side = side;
  e->level.price = px.mantissa;
  e->level.price_text_dp = px.text_decimals;
  if (orders != 0) {
    e->level.qty = amount.mantissa;
    e->level.qty_text_dp = amount.text_decimals;
  }
  e->level.orders = static_cast<std::uint32_t>(orders);
  ++count;
  return ParseStatus::Ok;
}

// [ORDER_ID, PRICE, AMOUNT] -> Order. PRICE 0 deletes the order (AMOUNT +-1 says its side).
// A snapshot lists live orders (Add); an update is the order's whole new state (Upsert).
ParseStatus push_order(Msg &m, const std::array<std::string_view, 3> &f, bool snapshot,
                       std::uint32_t &count) noexcept {
  std::uint64_t id = 0;
  if (!parse_u64(f[0], id))
    return ParseStatus::BadNumber;
  book::ParsedDecimal px{};
  if (!parse_price(f[1], *m.inst, px))
    return ParseStatus::BadNumber;
  book::Side side{};
  book::ParsedDecimal amount{};
  if (!parse_amount(f[2], *m.inst, side, amount))
    return ParseStatus::BadNumber;
  if (px.mantissa < 0 || amount.mantissa == 0 || (snapshot && px.mantissa == 0))
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::Order);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->side = side;
  e->order.order_id = id;
  if (px.mantissa == 0) {
    e->order.action = OrderAction::Delete;
  } else {
    e->order.action = snapshot ? OrderAction::Add : OrderAction::Upsert;
    e->order.price = px.mantissa;
    e->order.qty = amount.mantissa;
    e->order.price_text_dp = px.text_decimals;
    e->order.qty_text_dp = amount.text_decimals;
  }
  ++count;
  return ParseStatus::Ok;
}

// A book payload: snapshot [[...],[...]] (also []) or one update [...]: BookBegin, entries,
// BookEnd. `raw`: R0 orders, else P0..P4 levels.
ParseStatus parse_book(od::value &payload, Msg &m, bool raw) noexcept {
  od::array a;
  if (payload.get_array().get(a))
    return ParseStatus::Malformed;
  m.begin_index = m.out.size();
  if (m.push(EventType::BookBegin) == nullptr)
    return ParseStatus::BatchOverflow;
  std::uint32_t count = 0;
  bool first = true;
  bool snapshot = true; // an empty payload is an empty snapshot
  std::array<std::string_view, 3> fields{};
  std::size_t nfields = 0;
  for (auto r : a) {
    od::value item;
    if (r.get(item))
      return ParseStatus::Malformed;
    od::json_type t{};
    if (item.type().get(t))
      return ParseStatus::Malformed;
    if (first) {
      snapshot = t == od::json_type::array;
      first = false;
    }
    if (snapshot) {
      if (t != od::json_type::array)
        return ParseStatus::Malformed;
      std::array<std::string_view, 3> entry{};
      ParseStatus st = read_tuple(item, entry);
      if (st == ParseStatus::Ok)
        st = raw ? push_order(m, entry, true, count) : push_level(m, entry, count);
      if (st != ParseStatus::Ok)
        return st;
    } else {
      if (t != od::json_type::number || nfields == fields.size())
        return ParseStatus::Malformed;
      fields[nfields++] = number_text(item);
    }
  }
  if (!snapshot) {
    if (nfields != fields.size())
      return ParseStatus::Malformed;
    const ParseStatus st = raw ? push_order(m, fields, false, count) : push_level(m, fields, count);
    if (st != ParseStatus::Ok)
      return st;
  }
  if (m.push(EventType::BookEnd) == nullptr)
    return ParseStatus::BatchOverflow;
  Event &begin = m.out[m.begin_index];
  begin.flags =
      static_cast<std::uint8_t>((snapshot ? kFlagSnapshot : 0U) | (raw ? kFlagOrders : 0U));
  begin.begin.levels = count;
  return ParseStatus::Ok;
}

// [BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, ...] -> Bbo with both prices (see bitfinex.hpp
// for why the sizes are not carried; they are still checked to be numbers).
ParseStatus parse_ticker(od::value &payload, Msg &m) noexcept {
  od::array a;
  if (payload.get_array().get(a))
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::Bbo);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  std::size_t n = 0;
  for (auto r : a) {
    od::value v;
    if (r.get(v))
      return ParseStatus::Malformed;
    if (n < 4) {
      od::json_type t{};
      if (v.type().get(t) || t != od::json_type::number)
        return ParseStatus::Malformed;
      const std::string_view text = number_text(v);
      book::ParsedDecimal px{};
      if (n == 0 || n == 2) {
        if (!parse_price(text, *m.inst, px) || px.mantissa < 0)
          return ParseStatus::BadNumber;
        (n == 0 ? e->bbo.bid_price : e->bbo.ask_price) = px.mantissa;
      } else if (!is_json_atom(text)) {
        return ParseStatus::BadNumber;
      }
    } else if (!walk(v, kWalkDepth)) {
      return ParseStatus::Malformed;
    }
    ++n;
  }
  return n >= 4 ? ParseStatus::Ok : ParseStatus::Malformed;
}

// [ID, MTS, AMOUNT, PRICE] -> Trade (AMOUNT < 0: the seller was the aggressor).
ParseStatus push_trade(Msg &m, const std::array<std::string_view, 4> &f) noexcept {
  std::uint64_t id = 0;
  std::int64_t ts_ns = 0;
  if (!parse_u64(f[0], id) || !parse_ms_to_ns(f[1], ts_ns))
    return ParseStatus::BadNumber;
  book::Side side{};
  book::ParsedDecimal amount{};
  book::ParsedDecimal px{};
  if (!parse_amount(f[2], *m.inst, side, amount) || !parse_price(f[3], *m.inst, px))
    return ParseStatus::BadNumber;
  if (amount.mantissa == 0 || px.mantissa <= 0)
    return ParseStatus::Malformed;
  Event *e = m.push(EventType::Trade);
  if (e == nullptr)
    return ParseStatus::BatchOverflow;
  e->exch_ts_ns = ts_ns;
  e->trade.trade_id = id;
  e->trade.price = px.mantissa;
  e->trade.qty = amount.mantissa;
  if (side == book::Side::Ask)
    e->flags = kFlagBuyerIsMaker;
  return ParseStatus::Ok;
}

// The trades snapshot sent on subscribe, newest first on the wire: emitted oldest first, so
// the last trade a reader sees is the latest.
ParseStatus parse_trades(od::value &payload, Msg &m) noexcept {
  od::array a;
  if (payload.get_array().get(a))
    return ParseStatus::Malformed;
  const std::size_t from = m.out.size();
  for (auto r : a) {
    od::value item;
    if (r.get(item))
      return ParseStatus::Malformed;
    std::array<std::string_view, 4> f{};
    ParseStatus st = read_tuple(item, f);
    if (st == ParseStatus::Ok)
      st = push_trade(m, f);
    if (st != ParseStatus::Ok)
      return st;
  }
  const std::size_t n = m.out.size() - from;
  if (n > 1) {
    Event *first = &m.out[from];
    std::reverse(first, first + n);
  }
  return ParseStatus::Ok;
}

} // namespace

// ---- the frame walk ------------------------------------------------------------------------

struct BitfinexParser::Impl {
  enum class Kind : std::uint8_t { Data, Heartbeat, Checksum, TradeExecuted, TradeUpdate };

  static ParseStatus payload(const Channel &ch, od::value &v, Msg &m) noexcept {
    switch (ch.kind) {
    case ChannelKind::Book:
      return parse_book(v, m, false);
    case ChannelKind::RawBook:
      return parse_book(v, m, true);
    case ChannelKind::Ticker:
      return parse_ticker(v, m);
    case ChannelKind::Trades:
      return parse_trades(v, m);
    case ChannelKind::Other:
      break;
    }
    return walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
  }

  // Status(Stale, why) for the books of `only` (a channel id), or of every book channel.
  static bool stale_books(const BitfinexParser &p, EventBatch &out, std::int64_t recv_ts_ns,
                          BookError why, const std::uint64_t *only = nullptr) noexcept {
    for (std::size_t i = 0; i < p.nchannels_; ++i) {
      const Channel &c = p.channels_[i];
      if ((c.kind != ChannelKind::Book && c.kind != ChannelKind::RawBook) ||
          (only != nullptr && c.id != *only))
        continue;
      Event *e = push_event(out, EventType::Status, Venue::Bitfinex, c.instrument, recv_ts_ns);
      if (e == nullptr)
        return false;
      e->status.status = BookStatus::Stale;
      e->status.reason = static_cast<std::uint8_t>(why);
    }
    return true;
  }

  // A lost message: every book of the connection is uncertain from here on. The Status
  // events go ahead of the revealing message's own events, so its book update is not applied
  // to a book that missed the one before.
  static ParseStatus report_gap(BitfinexParser &p, Msg &m, std::size_t mark) noexcept {
    const std::size_t own = m.out.size() - mark;
    if (!stale_books(p, m.out, m.recv_ts_ns, BookError::SequenceGap))
      return ParseStatus::BatchOverflow;
    const std::size_t total = m.out.size() - mark;
    if (own != 0 && total != own) {
      Event *first = &m.out[mark];
      std::rotate(first, first + own, first + total);
      if (m.begin_index != kNone)
        m.begin_index += total - own;
    }
    return ParseStatus::Ok;
  }

  // [chanId, payload | "hb" | "cs", cs | "te"/"tu", trade, (seq), ...]
  static ParseStatus data(BitfinexParser &p, od::document &doc, std::int64_t recv_ts_ns,
                          EventBatch &out) noexcept {
    od::array arr;
    if (doc.get_array().get(arr))
      return ParseStatus::Malformed;
    const std::size_t mark = out.size();
    Msg m{out, nullptr, recv_ts_ns};
    const Channel *ch = nullptr;
    Kind kind = Kind::Data;
    std::size_t seq_index = 2; // data and "hb": [chanId, x, seq]; "cs"/"te"/"tu": one later
    std::size_t index = 0;
    bool unknown_channel = false;
    bool has_seq = false;
    std::uint64_t seq = 0;
    for (auto r : arr) {
      od::value v;
      if (r.get(v))
        return ParseStatus::Malformed;
      ParseStatus st = ParseStatus::Ok;
      if (index == 0) {
        std::uint64_t id = 0;
        if (!parse_u64(number_text(v), id))
          return ParseStatus::Malformed;
        ch = p.find_channel(id);
        if (ch != nullptr && ch->instrument != kNoInstrument)
          m.inst = &p.registry_->at(ch->instrument);
      } else if (index == 1) {
        od::json_type t{};
        if (v.type().get(t))
          return ParseStatus::Malformed;
        if (t == od::json_type::string) {
          std::string_view s;
          if (!string_text(v, s))
            return ParseStatus::Malformed;
          if (s == "hb") {
            kind = Kind::Heartbeat;
          } else if (s == "cs") {
            kind = Kind::Checksum;
          } else if (s == "te" || s == "fte") {
            kind = Kind::TradeExecuted;
          } else if (s == "tu" || s == "ftu") {
            kind = Kind::TradeUpdate;
          } else {
            return ParseStatus::Malformed;
          }
          if (kind != Kind::Heartbeat)
            seq_index = 3;
        } else if (t == od::json_type::array) {
          if (ch == nullptr) {
            unknown_channel = true;
            st = walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
          } else {
            st = payload(*ch, v, m);
          }
        } else {
          return ParseStatus::Malformed;
        }
      } else if (index == 2 && kind == Kind::Checksum) {
        // A signed 32-bit CRC (OB_CHECKSUM flag): checked for shape, not verified (no
        // recording carries one to test a Bitfinex checksum rule against).
        std::string_view t = number_text(v);
        if (!t.empty() && t.front() == '-')
          t.remove_prefix(1);
        std::uint64_t magnitude = 0;
        if (!parse_u64(t, magnitude) || magnitude > 0x80000000ULL)
          return ParseStatus::Malformed;
      } else if (index == 2 && (kind == Kind::TradeExecuted || kind == Kind::TradeUpdate)) {
        if (ch == nullptr) {
          unknown_channel = true;
          st = walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
        } else if (kind == Kind::TradeExecuted && ch->kind == ChannelKind::Trades) {
          std::array<std::string_view, 4> f{};
          st = read_tuple(v, f);
          if (st == ParseStatus::Ok)
            st = push_trade(m, f);
        } else {
          st = walk(v, kWalkDepth) ? ParseStatus::Ok : ParseStatus::Malformed;
        }
      } else if (index == seq_index && p.seq_all_) {
        if (!parse_u64(number_text(v), seq))
          return ParseStatus::Malformed;
        has_seq = true;
      } else if (!walk(v, kWalkDepth)) { // after the sequence (TIMESTAMP flag) or without it
        return ParseStatus::Malformed;
      }
      if (st != ParseStatus::Ok)
        return st;
      ++index;
    }
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return ParseStatus::Malformed;
    if (index < seq_index)
      return ParseStatus::Malformed;
    if (unknown_channel) { // undeliverable: its number is not consumed (see bitfinex.hpp)
      ++p.counters_.unknown_channel;
      return ParseStatus::UnknownInstrument;
    }
    if (p.seq_all_) {
      if (!has_seq)
        return ParseStatus::Malformed;
      if (p.have_seq_ && seq <= p.last_seq_) {
        ++p.counters_.seq_stale;
        return ParseStatus::Ignored;
      }
      if (p.have_seq_ && seq != p.last_seq_ + 1) {
        const ParseStatus st = report_gap(p, m, mark);
        if (st != ParseStatus::Ok)
          return st;
        ++p.counters_.seq_gaps;
        p.counters_.seq_lost += seq - p.last_seq_ - 1;
      }
      p.last_seq_ = seq;
      p.have_seq_ = true;
      ++p.counters_.sequenced;
      if (m.begin_index != kNone) {
        out[m.begin_index].begin.first_seq = seq;
        out[m.begin_index].begin.last_seq = seq;
      }
    }
    return out.size() != mark ? ParseStatus::Ok : ParseStatus::Ignored;
  }

  // {"event": ...}: connection greeting, conf, subscription acknowledgements, errors. A greeting
  // (a new connection) or an unsubscribe ends the updates of the books concerned: they get
  // Status(Stale, Disconnected) until a new subscription brings a snapshot.
  static ParseStatus event(BitfinexParser &p, od::document &doc, std::int64_t recv_ts_ns,
                           EventBatch &out) noexcept {
    od::object o;
    if (doc.get_object().get(o))
      return ParseStatus::Malformed;
    std::string_view name, channel, symbol, prec, status;
    std::uint64_t chan_id = 0, flags = 0;
    bool has_chan_id = false, has_flags = false, has_version = false;
    for (auto r : o) {
      od::field field;
      if (std::move(r).get(field))
        return ParseStatus::Malformed;
      const auto key = field.key();
      od::value &v = field.value();
      bool ok = true;
      if (key == "event") {
        ok = string_text(v, name);
      } else if (key == "channel") {
        ok = string_text(v, channel);
      } else if (key == "symbol") {
        ok = string_text(v, symbol);
      } else if (key == "prec") {
        ok = string_text(v, prec);
      } else if (key == "status") {
        ok = string_text(v, status) || walk(v, kWalkDepth); // info: {"status":1} inside platform
      } else if (key == "chanId") {
        ok = parse_u64(number_text(v), chan_id);
        has_chan_id = true;
      } else if (key == "flags") {
        ok = parse_u64(number_text(v), flags);
        has_flags = true;
      } else if (key == "version") {
        ok = walk(v, kWalkDepth);
        has_version = true;
      } else {
        ok = walk(v, kWalkDepth);
      }
      if (!ok)
        return ParseStatus::Malformed;
    }
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS || name.empty())
      return ParseStatus::Malformed;

    const std::size_t mark = out.size();
    if (name == "info") {
      if (has_version) { // the greeting that opens a connection (not a maintenance notice)
        if (!stale_books(p, out, recv_ts_ns, BookError::Disconnected))
          return ParseStatus::BatchOverflow;
        p.reset();
        ++p.counters_.connections;
      }
    } else if (name == "conf") {
      if (status == "OK" && has_flags)
        p.seq_all_ = (flags & kConfSeqAll) != 0;
    } else if (name == "subscribed") {
      if (!has_chan_id || channel.empty())
        return ParseStatus::Malformed;
      return subscribed(p, chan_id, channel, symbol, prec);
    } else if (name == "unsubscribed") {
      if (!has_chan_id)
        return ParseStatus::Malformed;
      if (!stale_books(p, out, recv_ts_ns, BookError::Disconnected, &chan_id))
        return ParseStatus::BatchOverflow;
      p.remove_channel(chan_id);
    }
    // error, pong, ...: well-formed, no market data
    return out.size() != mark ? ParseStatus::Ok : ParseStatus::Ignored;
  }

  static ParseStatus subscribed(BitfinexParser &p, std::uint64_t chan_id, std::string_view channel,
                                std::string_view symbol, std::string_view prec) noexcept {
    ChannelKind kind = ChannelKind::Other;
    if (channel == "book")
      kind = prec == "R0"                            ? ChannelKind::RawBook
             : (prec.empty() || prec.front() == 'P') ? ChannelKind::Book
                                                     : ChannelKind::Other;
    else if (channel == "ticker")
      kind = ChannelKind::Ticker;
    else if (channel == "trades")
      kind = ChannelKind::Trades;
    // Trading pairs only ("t..."); funding currencies ("f...") have other payloads.
    if (symbol.size() < 2 || symbol.front() != 't')
      kind = ChannelKind::Other;
    Channel c{chan_id, kNoInstrument, kind};
    ParseStatus st = ParseStatus::Ignored;
    if (kind != ChannelKind::Other) {
      // First sight of a symbol registers it (control-path allocation), as on other venues.
      const Instrument *inst =
          p.registry_->resolve(Venue::Bitfinex, symbol, &bitfinex_default_instrument);
      if (inst != nullptr) {
        c.instrument = inst->id;
      } else {
        c.kind = ChannelKind::Other; // its data is then checked and ignored
        st = ParseStatus::UnknownInstrument;
      }
    }
    // One book per instrument: a second book channel of the same pair (P0 and R0, or two
    // precisions) would feed one book two shapes. The first one keeps it.
    if (c.kind == ChannelKind::Book || c.kind == ChannelKind::RawBook) {
      for (std::size_t i = 0; i < p.nchannels_; ++i) {
        const Channel &other = p.channels_[i];
        if (other.id != chan_id && other.instrument == c.instrument &&
            (other.kind == ChannelKind::Book || other.kind == ChannelKind::RawBook)) {
          ++p.counters_.book_conflicts;
          c.kind = ChannelKind::Other;
          break;
        }
      }
    }
    p.add_channel(c);
    return st;
  }

  static ParseStatus frame(BitfinexParser &p, std::string_view frame, std::int64_t recv_ts_ns,
                           EventBatch &out) noexcept {
    od::document doc;
    if (p.parser_
            .iterate(simdjson::padded_string_view(frame.data(), frame.size(),
                                                  frame.size() + simdjson::SIMDJSON_PADDING))
            .get(doc))
      return ParseStatus::Malformed;
    od::json_type t{};
    if (doc.type().get(t))
      return ParseStatus::Malformed;
    if (t == od::json_type::array)
      return data(p, doc, recv_ts_ns, out);
    if (t == od::json_type::object)
      return event(p, doc, recv_ts_ns, out);
    return ParseStatus::Malformed;
  }
};

BitfinexParser::BitfinexParser(InstrumentRegistry &registry, std::size_t frame_capacity)
    : registry_(&registry) {
  // Size the buffers now so parse() never allocates for frames up to frame_capacity. On
  // failure simdjson retries the allocation at the first iterate().
  if (parser_.allocate(frame_capacity) != simdjson::SUCCESS)
    return;
}

ParseStatus BitfinexParser::parse(std::string_view frame, std::int64_t recv_ts_ns,
                                  EventBatch &out) noexcept {
  const std::size_t mark = out.size();
  const ParseStatus st = Impl::frame(*this, frame, recv_ts_ns, out);
  if (st != ParseStatus::Ok)
    out.truncate(mark);
  return st;
}

void BitfinexParser::reset() noexcept {
  nchannels_ = 0;
  seq_all_ = false;
  have_seq_ = false;
  last_seq_ = 0;
}

const BitfinexParser::Channel *BitfinexParser::find_channel(std::uint64_t id) const noexcept {
  for (std::size_t i = 0; i < nchannels_; ++i)
    if (channels_[i].id == id)
      return &channels_[i];
  return nullptr;
}

void BitfinexParser::add_channel(const Channel &c) noexcept {
  for (std::size_t i = 0; i < nchannels_; ++i) {
    if (channels_[i].id == c.id) {
      channels_[i] = c;
      return;
    }
  }
  if (nchannels_ == channels_.size()) {
    ++counters_.table_full;
    return;
  }
  channels_[nchannels_++] = c;
}

void BitfinexParser::remove_channel(std::uint64_t id) noexcept {
  for (std::size_t i = 0; i < nchannels_; ++i) {
    if (channels_[i].id == id) {
      channels_[i] = channels_[--nchannels_];
      return;
    }
  }
}

} // namespace fh::venues
