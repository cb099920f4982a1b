// IEX-TP segments -> events (see iex_feed.hpp for the book and continuity rules).
#include "feedhandler/iex/iex_feed.hpp"

#include <string>

#include "feedhandler/book_error.hpp"
#include "feedhandler/iex/iex_tops.hpp"

namespace fh::iex {
namespace {

Instrument make_default(Venue v, std::string_view native) {
  return IexFeed::default_instrument(v, native);
}

// Fibonacci hashing of the symbol word into the table's 16-bit index space.
inline std::size_t home_slot(std::uint64_t symbol) noexcept {
  return static_cast<std::size_t>((symbol * 0x9E3779B97F4A7C15ull) >> 48);
}

inline Event* push_event(EventBatch& out, EventType t, Venue v, std::uint32_t id,
                         std::int64_t recv_ts_ns) noexcept {
  Event* e = out.push();
  if (e != nullptr) *e = make_event(t, v, id, recv_ts_ns);
  return e;
}

inline void fill_level(Event& e, bool buy, std::int64_t price, std::uint32_t size) noexcept {
  e.side = buy ? book::Side::Bid : book::Side::Ask;
  e.level.price = price;
  e.level.qty = size;
  e.level.price_text_dp = 4; // IEX prices: 4 implied decimals
  e.level.qty_text_dp = 0;
}

} // namespace

Instrument IexFeed::default_instrument(Venue venue, std::string_view native) {
  Instrument i;
  i.venue = venue;
  i.kind = InstrumentKind::Spot;
  i.native = std::string(native);
  i.base = i.native;
  i.quote = "USD";
  i.canonical = i.native + "-USD";
  i.price_decimals = 4; // IEX price type: int64, 4 implied decimals
  i.qty_decimals = 0;   // shares
  i.tick = 1;           // the wire's resolution; the Reg NMS tick depends on the price
  i.lot = 1;
  return i;
}

IexFeed::IexFeed(InstrumentRegistry& registry, Venue venue)
    : registry_(&registry), venue_(venue),
      symbols_(std::make_unique<SymbolSlot[]>(kSymbolSlots)), // zeroed: symbol 0 = empty slot
      securities_(InstrumentRegistry::kMaxInstruments),
      pending_(std::make_unique<Pending[]>(kPendingSlots)) {
  booked_.reserve(InstrumentRegistry::kMaxInstruments);
  for (std::size_t i = 0; i < kPendingSlots; ++i) free_[i] = &pending_[kPendingSlots - 1 - i];
  free_count_ = kPendingSlots;
}

const SecurityState* IexFeed::security(std::uint32_t instrument) const noexcept {
  if (instrument >= securities_.size() || instrument >= registry_->size()) return nullptr;
  if (registry_->at(instrument).venue != venue_) return nullptr;
  return &securities_[instrument];
}

ParseStatus IexFeed::on_segment(const std::uint8_t* data, std::size_t len, std::int64_t recv_ts_ns,
                                EventBatch& out) noexcept {
  TpHeader h;
  if (const TpError err = parse_segment(data, len, h); err != TpError::None) [[unlikely]] {
    ++counters_.segment_errors[static_cast<std::size_t>(err)];
    return ParseStatus::Malformed;
  }
  const bool known = h.protocol == kProtocolDeep10 || h.protocol == kProtocolTops16 ||
                     h.protocol == kProtocolTops15;
  if (!known || (protocol_ != 0 && h.protocol != protocol_)) [[unlikely]] {
    ++counters_.wrong_protocol;
    return ParseStatus::Malformed;
  }
  protocol_ = h.protocol;
  ++counters_.segments;
  if (h.message_count == 0) ++counters_.heartbeats;

  const std::size_t mark = out.size();
  std::uint64_t skip = 0;
  const SeqVerdict verdict = sequencer_.on_segment(h);
  switch (verdict) {
  case SeqVerdict::InOrder: break;
  case SeqVerdict::First: trusted_ = sequencer_.starts_session(h); break;
  case SeqVerdict::Duplicate: ++counters_.duplicate_segments; return ParseStatus::Ignored;
  case SeqVerdict::Overlap:
    skip = sequencer_.skip_messages();
    counters_.overlap_messages += skip;
    break;
  case SeqVerdict::Gap:
  case SeqVerdict::Restart: on_break(verdict, h, recv_ts_ns, out); break;
  }

  const bool deep = protocol_ == kProtocolDeep10;
  TpBlocks blocks(data, len);
  const std::uint8_t* msg = nullptr;
  std::uint16_t msg_len = 0;
  std::uint64_t seq = h.first_seq;
  Message m;
  while (blocks.next(msg, msg_len)) {
    if (skip != 0) {
      --skip;
      ++seq;
      continue;
    }
    ++counters_.messages;
    ++counters_.by_type[msg[0]];
    const DecodeError e = deep ? decode_deep(msg, msg_len, m) : decode_tops(msg, msg_len, m);
    switch (e) {
    case DecodeError::None: on_message(m, seq, recv_ts_ns, out); break;
    case DecodeError::ShortMessage: ++counters_.short_messages; break;
    case DecodeError::UnknownType: ++counters_.unknown_types; break; // IEX may add types
    case DecodeError::BadSymbol: ++counters_.bad_symbols; break;
    }
    ++seq;
  }
  if (out.overflow()) [[unlikely]] {
    ++counters_.batch_overflow;
    return ParseStatus::BatchOverflow;
  }
  return out.size() > mark ? ParseStatus::Ok : ParseStatus::Ignored;
}

void IexFeed::on_message(const Message& m, std::uint64_t seq, std::int64_t recv_ts_ns,
                         EventBatch& out) noexcept {
  if (m.type == kSystemEvent) {
    system_event_ = m.code;
    return;
  }
  const std::uint32_t id = instrument_of(m.symbol);
  if (id == kNoInstrument) [[unlikely]]
    return;
  SecurityState& s = securities_[id];
  switch (m.type) {
  case kPriceLevelBuy:
  case kPriceLevelSell: on_price_level(m, id, seq, recv_ts_ns, out); break;
  case kTradeReport: {
    ++counters_.trades;
    Event* e = push_event(out, EventType::Trade, venue_, id, recv_ts_ns);
    if (e == nullptr) return;
    // IEX reports no aggressor side: flags stay 0.
    e->exch_ts_ns = m.timestamp_ns;
    e->trade.price = m.price;
    e->trade.qty = m.size;
    e->trade.trade_id = m.trade_id;
    break;
  }
  case kQuoteUpdate: {
    ++counters_.quotes;
    Event* e = push_event(out, EventType::Bbo, venue_, id, recv_ts_ns);
    if (e == nullptr) return;
    e->exch_ts_ns = m.timestamp_ns;
    e->bbo.bid_price = m.price;
    e->bbo.bid_qty = m.size;
    e->bbo.ask_price = m.price2;
    e->bbo.ask_qty = m.size2;
    e->bbo.update_id = seq;
    break;
  }
  case kTradeBreak: ++counters_.trade_breaks; break;
  case kSecurityDirectory:
    s.directory_flags = m.code;
    s.round_lot = m.size;
    s.adjusted_poc_price = m.price;
    s.luld_tier = m.detail;
    break;
  case kTradingStatus: s.trading_status = m.code; break;
  case kOperationalHalt: s.operational_halt = m.code; break;
  case kShortSalePriceTest: s.short_sale_test = m.code; break;
  case kSecurityEvent: s.security_event = m.code; break;
  case kOfficialPrice: s.official_price = m.price; break;
  default: break; // auction information: nothing in the normalized model
  }
}

void IexFeed::on_price_level(const Message& m, std::uint32_t id, std::uint64_t seq,
                             std::int64_t recv_ts_ns, EventBatch& out) noexcept {
  SecurityState& s = securities_[id];
  const bool buy = m.type == kPriceLevelBuy;
  Pending* p = pending_of(id);
  if ((m.code & kEventProcessingComplete) == 0) {
    // The book is in transition: keep the update until its event completes.
    if (p == nullptr && free_count_ != 0) {
      p = free_[--free_count_];
      p->instrument = id;
      p->count = 0;
      p->first_seq = seq;
      open_[open_count_++] = p;
    }
    if (p == nullptr || p->count == kPendingLevels) [[unlikely]] {
      // Cannot hold the whole event: this book is unknown until the stream starts over.
      ++counters_.pending_overflow;
      if (p != nullptr) close_pending(p);
      if (s.book_generation == generation_ && s.blocked_generation != generation_)
        emit_stale(id, BookError::BufferOverflow, recv_ts_ns, out);
      s.blocked_generation = generation_;
      return;
    }
    p->levels[p->count++] = PendingLevel{m.price, m.size, static_cast<std::uint8_t>(buy)};
    return;
  }

  // Event complete: the book may be seen again. First batch of this book in a stream received
  // from its start: the book starts from empty.
  if (trusted_ && s.book_generation != generation_ && s.blocked_generation != generation_) {
    emit_empty_snapshot(id, recv_ts_ns, out);
    s.book_generation = generation_;
    if (!s.booked) {
      s.booked = true;
      booked_.push_back(id); // reserved for every id: never allocates
    }
  }
  const std::uint32_t pending = p != nullptr ? p->count : 0;
  Event* b = push_event(out, EventType::BookBegin, venue_, id, recv_ts_ns);
  if (b == nullptr) return;
  b->exch_ts_ns = m.timestamp_ns;
  b->begin.first_seq = p != nullptr ? p->first_seq : seq;
  b->begin.last_seq = seq;
  b->begin.levels = pending + 1;
  for (std::uint32_t i = 0; i < pending; ++i) {
    Event* e = push_event(out, EventType::BookLevel, venue_, id, recv_ts_ns);
    if (e == nullptr) return;
    e->exch_ts_ns = m.timestamp_ns;
    fill_level(*e, p->levels[i].buy != 0, p->levels[i].price, p->levels[i].size);
  }
  Event* e = push_event(out, EventType::BookLevel, venue_, id, recv_ts_ns);
  if (e == nullptr) return;
  e->exch_ts_ns = m.timestamp_ns;
  fill_level(*e, buy, m.price, m.size);
  Event* end = push_event(out, EventType::BookEnd, venue_, id, recv_ts_ns);
  if (end == nullptr) return;
  end->exch_ts_ns = m.timestamp_ns;
  if (p != nullptr) close_pending(p);
  ++counters_.book_events;
}

void IexFeed::on_break(SeqVerdict v, const TpHeader& h, std::int64_t recv_ts_ns,
                       EventBatch& out) noexcept {
  ++counters_.seq_gaps;
  if (v == SeqVerdict::Gap) {
    ++counters_.gaps;
    counters_.lost_messages += sequencer_.lost_messages();
  } else {
    ++counters_.restarts;
  }
  // Runs still open belong to a stream position that is gone.
  counters_.abandoned_events += open_count_;
  while (open_count_ != 0) close_pending(open_[open_count_ - 1]);

  const std::uint32_t old = generation_++;
  const bool fresh = v == SeqVerdict::Restart && sequencer_.starts_session(h);
  trusted_ = fresh;
  for (const std::uint32_t id : booked_) {
    SecurityState& s = securities_[id];
    if (fresh) {
      emit_empty_snapshot(id, recv_ts_ns, out); // the new stream starts every book empty
      s.book_generation = generation_;
    } else if (s.book_generation == old && s.blocked_generation != old) {
      emit_stale(id, BookError::SequenceGap, recv_ts_ns, out);
    }
  }
}

void IexFeed::emit_empty_snapshot(std::uint32_t id, std::int64_t recv_ts_ns,
                                  EventBatch& out) noexcept {
  ++counters_.empty_snapshots;
  Event* b = push_event(out, EventType::BookBegin, venue_, id, recv_ts_ns);
  if (b == nullptr) return;
  b->flags = kFlagSnapshot;
  b->begin.levels = 0;
  (void)push_event(out, EventType::BookEnd, venue_, id, recv_ts_ns);
}

void IexFeed::emit_stale(std::uint32_t id, BookError why, std::int64_t recv_ts_ns,
                         EventBatch& out) noexcept {
  ++counters_.stale_marks;
  Event* e = push_event(out, EventType::Status, venue_, id, recv_ts_ns);
  if (e == nullptr) return;
  e->status.status = BookStatus::Stale;
  e->status.reason = static_cast<std::uint8_t>(why);
}

IexFeed::Pending* IexFeed::pending_of(std::uint32_t id) noexcept {
  for (std::size_t i = 0; i < open_count_; ++i)
    if (open_[i]->instrument == id) return open_[i];
  return nullptr;
}

void IexFeed::close_pending(Pending* p) noexcept {
  for (std::size_t i = 0; i < open_count_; ++i) {
    if (open_[i] == p) {
      open_[i] = open_[--open_count_];
      free_[free_count_++] = p;
      return;
    }
  }
}

std::uint32_t IexFeed::instrument_of(std::uint64_t symbol) noexcept {
  std::size_t i = home_slot(symbol);
  for (;;) {
    const SymbolSlot& slot = symbols_[i];
    if (slot.symbol == symbol) [[likely]]
      return slot.id;
    if (slot.symbol == 0) break;
    i = (i + 1) & (kSymbolSlots - 1);
  }
  return register_symbol(symbol);
}

// First sight of a symbol: the one allocation per instrument (registry), off the steady state.
std::uint32_t IexFeed::register_symbol(std::uint64_t symbol) noexcept {
  if (symbol_count_ >= kSymbolSlots / 2) { // keep probes short; 32k symbols is 4x IEX's list
    ++counters_.unknown_instruments;
    return kNoInstrument;
  }
  const Instrument* inst = registry_->resolve(venue_, symbol_text(symbol), &make_default);
  if (inst == nullptr || inst->id >= securities_.size()) {
    ++counters_.unknown_instruments;
    return kNoInstrument;
  }
  std::size_t i = home_slot(symbol);
  while (symbols_[i].symbol != 0) i = (i + 1) & (kSymbolSlots - 1);
  symbols_[i] = SymbolSlot{symbol, inst->id};
  ++symbol_count_;
  return inst->id;
}

} // namespace fh::iex
