#include "feedhandler/book_builder.hpp"

namespace fh {

namespace {

BookNotice notice(BookNotice::Kind kind, const InstrumentBook* b, bool status_changed) noexcept {
  BookNotice n;
  n.kind = kind;
  n.book = b;
  n.status_changed = status_changed;
  return n;
}

bool same_level(const book::Level* ours, std::int64_t price, std::int64_t qty) noexcept {
  return ours != nullptr && ours->price == price && ours->qty == qty;
}

} // namespace

InstrumentBook::InstrumentBook(const Instrument& inst, std::size_t reserve_levels,
                               std::size_t reserve_buffer)
    : instrument_(&inst), book_(inst.price_decimals, inst.qty_decimals, reserve_levels) {
  if (needs_rest_snapshot(inst.venue)) buffer_.reserve(reserve_buffer);
}

BookBuilder::BookBuilder(const InstrumentRegistry& registry) : BookBuilder(registry, Options{}) {}

BookBuilder::BookBuilder(const InstrumentRegistry& registry, Options options)
    : registry_(&registry), options_(options) {}

InstrumentBook& BookBuilder::prepare(std::uint32_t instrument) {
  if (instrument >= books_.size()) books_.resize(instrument + 1);
  auto& slot = books_[instrument];
  if (!slot) {
    const Instrument& inst = registry_->at(instrument);
    const std::size_t levels =
        needs_rest_snapshot(inst.venue) ? options_.reserve_levels_binance : options_.reserve_levels;
    slot = std::make_unique<InstrumentBook>(inst, levels, options_.reserve_buffer);
  }
  return *slot;
}

InstrumentBook* BookBuilder::get(std::uint32_t instrument) noexcept {
  if (instrument < books_.size() && books_[instrument]) [[likely]]
    return books_[instrument].get();
  if (instrument >= InstrumentRegistry::kMaxInstruments) return nullptr;
  // First sight of an instrument: the one allocation per instrument, off the steady state.
  return &prepare(instrument);
}

BookNotice BookBuilder::on_event(const Event& e) noexcept {
  switch (e.type) {
  case EventType::BookBegin: {
    InstrumentBook* b = get(e.instrument);
    if (b == nullptr) {
      ++orphans_.malformed_batches;
      return {};
    }
    bool changed = false;
    if (current_ != nullptr && current_->mode_ != InstrumentBook::Mode::Idle) {
      // The previous batch never ended: whatever it applied is half a message.
      ++current_->counters_.malformed_batches;
      const bool applying = current_->mode_ == InstrumentBook::Mode::Apply ||
                            current_->mode_ == InstrumentBook::Mode::Snapshot;
      current_->mode_ = InstrumentBook::Mode::Idle;
      if (applying) {
        mark_stale(*current_, BookError::SequenceGap);
        changed = current_ == b;
      }
    }
    current_ = b;
    BookNotice n = on_begin(*b, e);
    b->begin_status_ = b->status_;
    n.status_changed = n.status_changed || changed;
    return n;
  }
  case EventType::BookLevel:
    if (current_ == nullptr || current_->instrument_->id != e.instrument ||
        current_->mode_ == InstrumentBook::Mode::Idle) [[unlikely]] {
      ++orphans_.malformed_batches;
      return {};
    }
    on_level(*current_, e);
    return {};
  case EventType::Order:
    if (current_ == nullptr || current_->instrument_->id != e.instrument ||
        current_->mode_ == InstrumentBook::Mode::Idle) [[unlikely]] {
      ++orphans_.malformed_batches;
      return {};
    }
    if (current_->mode_ == InstrumentBook::Mode::Apply ||
        current_->mode_ == InstrumentBook::Mode::Snapshot)
      apply_order(*current_, e);
    return {};
  case EventType::BookEnd: {
    if (current_ == nullptr || current_->instrument_->id != e.instrument ||
        current_->mode_ == InstrumentBook::Mode::Idle) [[unlikely]] {
      ++orphans_.malformed_batches;
      return {};
    }
    InstrumentBook* b = current_;
    current_ = nullptr;
    return on_end(*b, e);
  }
  case EventType::Trade: {
    InstrumentBook* b = get(e.instrument);
    if (b == nullptr) return {};
    ++b->counters_.trades;
    return notice(BookNotice::Trade, b, false);
  }
  case EventType::Bbo: {
    InstrumentBook* b = get(e.instrument);
    if (b == nullptr) return {};
    return on_bbo(*b, e);
  }
  case EventType::Status: {
    // A session reports that the stream carrying this book broke (disconnect, forced resync):
    // in band, so every update before it was applied and none after it is trusted until a
    // snapshot. A session can only take trust away; only a snapshot gives it back.
    InstrumentBook* b = get(e.instrument);
    if (b == nullptr || e.status.status != BookStatus::Stale) return {};
    const BookStatus before = b->status_;
    const auto reason = static_cast<BookError>(e.status.reason);
    // A parser that checks a connection-wide sequence (Bitfinex SEQ_ALL) reports its gaps so.
    if (reason == BookError::SequenceGap) ++b->counters_.seq_gaps;
    mark_stale(*b, reason < BookError::kCount ? reason : BookError::Disconnected);
    if (needs_rest_snapshot(b->instrument_->venue)) b->buffer_.clear(); // resume from the next snapshot
    return notice(BookNotice::StatusChanged, b, b->status_ != before);
  }
  case EventType::None:
    break;
  }
  return {};
}

BookNotice BookBuilder::on_begin(InstrumentBook& b, const Event& e) noexcept {
  using Mode = InstrumentBook::Mode;
  ++b.counters_.book_messages;
  b.begin_ = e;
  b.last_recv_ts_ns_ = e.recv_ts_ns;
  if (e.exch_ts_ns != 0) b.last_exch_ts_ns_ = e.exch_ts_ns;

  // Order-level (L3) or level (L2) batch: only a snapshot may change which one the
  // instrument's book is; an update of the other kind cannot apply to it.
  const bool orders = (e.flags & kFlagOrders) != 0;
  if (orders != (b.l3_ != nullptr)) {
    if (!(e.flags & kFlagSnapshot)) {
      if (b.status_ == BookStatus::Synced || b.status_ == BookStatus::Crossed)
        ++b.counters_.malformed_batches;
      else
        ++b.counters_.skipped_stale;
      b.mode_ = Mode::Skip;
      return {};
    }
    set_order_level(b, orders);
  }
  if (orders) {
    b.l2_changes_.clear();
    b.l2_changes_overflow_ = false;
  }

  if (e.flags & kFlagSnapshot) {
    b.book_.clear();
    if (b.l3_) b.l3_->clear();
    b.mode_ = Mode::Snapshot;
    return {};
  }

  const Venue venue = b.instrument_->venue;
  if (needs_rest_snapshot(venue)) {
    if (b.status_ == BookStatus::Empty || b.status_ == BookStatus::WaitingSnapshot ||
        b.status_ == BookStatus::Stale) {
      const bool changed = b.status_ == BookStatus::Empty;
      if (changed) b.status_ = BookStatus::WaitingSnapshot;
      b.mode_ = Mode::Buffer;
      buffer_event(b, e);
      return notice(BookNotice::None, &b, changed);
    }
    const book::SeqVerdict v =
        sync_rule(venue) == SyncRule::RestSnapshotPrevChain
            ? b.futures_seq_.check(e.begin.first_seq, e.begin.last_seq, e.begin.prev_seq)
            : b.spot_seq_.check(e.begin.first_seq, e.begin.last_seq);
    switch (v) {
    case book::SeqVerdict::Apply: b.mode_ = Mode::Apply; return {};
    case book::SeqVerdict::Drop:
      ++b.counters_.dropped;
      b.mode_ = Mode::Skip;
      return {};
    case book::SeqVerdict::Gap:
      ++b.counters_.seq_gaps;
      mark_stale(b, BookError::SequenceGap);
      // Start buffering from this batch so the next snapshot can resume the chain.
      b.buffer_.clear();
      b.mode_ = Mode::Buffer;
      buffer_event(b, e);
      return notice(BookNotice::StatusChanged, &b, true);
    }
    return {};
  }

  // Stream-snapshot venues (OKX, Kraken, Bybit, Deribit, ...): updates only mean something on
  // top of a snapshot; a venue that never sends one (Bithumb) never syncs.
  if (b.status_ != BookStatus::Synced && b.status_ != BookStatus::Crossed) {
    ++b.counters_.skipped_stale;
    b.mode_ = Mode::Skip;
    return {};
  }
  if (e.flags & kFlagHasSeq) {
    const auto v = b.stream_seq_.check(static_cast<std::int64_t>(e.begin.first_seq),
                                    static_cast<std::int64_t>(e.begin.prev_seq));
    if (v == book::SeqVerdict::Drop) {
      ++b.counters_.dropped;
      b.mode_ = Mode::Skip;
      return {};
    }
    if (v == book::SeqVerdict::Gap) {
      ++b.counters_.seq_gaps;
      mark_stale(b, BookError::SequenceGap);
      b.mode_ = Mode::Skip;
      return notice(BookNotice::StatusChanged, &b, true);
    }
  }
  b.mode_ = Mode::Apply;
  return {};
}

void BookBuilder::on_level(InstrumentBook& b, const Event& e) noexcept {
  using Mode = InstrumentBook::Mode;
  switch (b.mode_) {
  case Mode::Apply:
  case Mode::Snapshot: apply_level(b, e); break;
  case Mode::Buffer: buffer_event(b, e); break;
  case Mode::Skip:
  case Mode::Idle: break;
  }
}

void BookBuilder::apply_level(InstrumentBook& b, const Event& e) noexcept {
  if (b.l3_) [[unlikely]] { // a level inside an order-level batch: not this book's shape
    ++b.counters_.malformed_batches;
    mark_stale(b, BookError::SequenceGap);
    b.mode_ = InstrumentBook::Mode::Skip;
    return;
  }
  const book::Level level{e.level.price, e.level.qty, e.level.orders, e.level.price_text_dp,
                          e.level.qty_text_dp};
  if (!b.book_.apply(e.side, level)) [[unlikely]] {
    mark_stale(b, BookError::SnapshotTooLarge);
    b.mode_ = InstrumentBook::Mode::Skip;
  }
}

void BookBuilder::apply_order(InstrumentBook& b, const Event& e) noexcept {
  using book::L3Result;
  if (!b.l3_) [[unlikely]] { // an order inside a level batch
    ++b.counters_.malformed_batches;
    mark_stale(b, BookError::SequenceGap);
    b.mode_ = InstrumentBook::Mode::Skip;
    return;
  }
  book::L3Book& l3 = *b.l3_;
  const OrderData& o = e.order;
  L3Result r = L3Result::BadOrder;
  switch (o.action) {
  case OrderAction::Add:
    r = l3.add(o.order_id, e.side, o.price, o.qty, o.price_text_dp, o.qty_text_dp);
    break;
  case OrderAction::Modify:
    r = l3.modify(o.order_id, e.side, o.price, o.qty, o.price_text_dp, o.qty_text_dp);
    break;
  case OrderAction::Upsert:
    r = l3.upsert(o.order_id, e.side, o.price, o.qty, o.price_text_dp, o.qty_text_dp);
    break;
  case OrderAction::Delete: r = l3.remove(o.order_id); break;
  }
  switch (r) {
  case L3Result::Added:
  case L3Result::Modified:
  case L3Result::Deleted:
    for (const book::LevelChange& c : l3.last_changes()) {
      if (b.l2_changes_.size() < b.l2_changes_.capacity())
        b.l2_changes_.push_back(c); // reserved: never allocates
      else
        b.l2_changes_overflow_ = true;
    }
    return;
  case L3Result::UnknownDelete: return; // normal on windowed feeds; the L3 book counts it
  case L3Result::UnknownModify:         // an add was missed
  case L3Result::DuplicateAdd:          // a delete was missed
  case L3Result::BadOrder:
    mark_stale(b, BookError::SequenceGap);
    b.mode_ = InstrumentBook::Mode::Skip;
    return;
  case L3Result::NoMemory:
    mark_stale(b, BookError::SnapshotTooLarge);
    b.mode_ = InstrumentBook::Mode::Skip;
    return;
  }
}

void BookBuilder::set_order_level(InstrumentBook& b, bool orders) noexcept {
  if (!orders) {
    b.l3_.reset();
    b.l2_changes_ = {};
    return;
  }
  // First order-level snapshot of the instrument: its one allocation, off the steady state.
  // Queue policy: a size decrease keeps the order's place, an increase loses it (price-time
  // priority as venues apply it; Bitfinex documents none for raw books).
  const Instrument& inst = *b.instrument_;
  b.l3_ = std::make_unique<book::L3Book>(inst.price_decimals, inst.qty_decimals,
                                         options_.reserve_orders,
                                         book::QueuePolicy::KeepOnDecrease);
  b.l2_changes_.reserve(InstrumentBook::kMaxL2Changes);
  b.book_.clear();
}

BookNotice BookBuilder::on_end(InstrumentBook& b, const Event& e) noexcept {
  using Mode = InstrumentBook::Mode;
  const Mode mode = b.mode_;
  b.mode_ = Mode::Idle;
  const BookStatus before = b.status_;
  const std::uint32_t depth = b.begin_.begin.depth;

  switch (mode) {
  // A level can mark the book stale mid-batch (too many levels): report that change too.
  case Mode::Idle:
  case Mode::Skip: return notice(BookNotice::None, &b, b.status_ != b.begin_status_);
  case Mode::Buffer:
    buffer_event(b, e);
    return notice(BookNotice::None, &b, b.status_ != b.begin_status_);
  case Mode::Snapshot:
    ++b.counters_.snapshots;
    if (needs_rest_snapshot(b.instrument_->venue)) {
      finish_binance_snapshot(b);
    } else {
      if (depth != 0 && !b.l3_) {
        b.book_.truncate(book::Side::Bid, depth);
        b.book_.truncate(book::Side::Ask, depth);
      }
      if (b.begin_.flags & kFlagHasSeq)
        b.stream_seq_.on_snapshot(static_cast<std::int64_t>(b.begin_.begin.last_seq));
      if (verify_checksum(b, e)) mark_synced(b);
    }
    break;
  case Mode::Apply:
    ++b.counters_.applied;
    if (needs_rest_snapshot(b.instrument_->venue)) b.last_update_id_ = b.begin_.begin.last_seq;
    if (depth != 0 && !b.l3_) {
      b.book_.truncate(book::Side::Bid, depth);
      b.book_.truncate(book::Side::Ask, depth);
    }
    verify_checksum(b, e);
    break;
  }
  settle_crossed(b);
  return notice(BookNotice::BookChanged, &b, b.status_ != before);
}

bool BookBuilder::verify_checksum(InstrumentBook& b, const Event& end) noexcept {
  if (!(end.flags & kFlagHasChecksum)) return true;
  bool ok = false;
  switch (b.instrument_->venue) {
  case Venue::Okx:
    ok = static_cast<std::int32_t>(book::okx_checksum(b.book_)) ==
         static_cast<std::int32_t>(end.end.checksum);
    break;
  case Venue::Kraken:
    ok = static_cast<std::int64_t>(book::kraken_checksum(b.book_)) == end.end.checksum;
    break;
  default: return true; // no checksum rule for this venue
  }
  if (ok) {
    ++b.counters_.checksum_ok;
    return true;
  }
  ++b.counters_.checksum_fail;
  mark_stale(b, BookError::ChecksumMismatch);
  return false;
}

void BookBuilder::finish_binance_snapshot(InstrumentBook& b) noexcept {
  using book::SeqVerdict;
  const bool futures = sync_rule(b.instrument_->venue) == SyncRule::RestSnapshotPrevChain;
  const std::uint64_t lid = b.begin_.begin.last_seq;
  if (futures)
    b.futures_seq_.on_snapshot(lid);
  else
    b.spot_seq_.on_snapshot(lid);
  b.last_update_id_ = 0;

  // Replay what was buffered while waiting, through the straddle rule.
  bool applying = false;
  bool applied_any = false;
  bool failed = false;
  for (const Event& e : b.buffer_) {
    if (e.type == EventType::BookBegin) {
      const SeqVerdict v =
          futures ? b.futures_seq_.check(e.begin.first_seq, e.begin.last_seq, e.begin.prev_seq)
                  : b.spot_seq_.check(e.begin.first_seq, e.begin.last_seq);
      if (v == SeqVerdict::Gap) {
        if (applied_any) ++b.counters_.seq_gaps;
        snapshot_unusable(b, applied_any ? BookError::SequenceGap : BookError::SnapshotTooOld);
        failed = true;
        break;
      }
      applying = v == SeqVerdict::Apply;
      if (applying) {
        applied_any = true;
        ++b.counters_.applied;
        b.last_update_id_ = e.begin.last_seq;
      } else {
        ++b.counters_.dropped;
      }
    } else if (e.type == EventType::BookLevel && applying) {
      apply_level(b, e);
    }
  }
  b.buffer_.clear();
  if (!failed) mark_synced(b);
}

BookNotice BookBuilder::on_bbo(InstrumentBook& b, const Event& e) noexcept {
  ++b.counters_.bbos;
  bool changed = false;
  if (is_binance(b.instrument_->venue) && b.status_ == BookStatus::Synced &&
      e.bbo.update_id != 0 && e.bbo.update_id == b.last_update_id_) {
    if (same_level(b.book().best(book::Side::Bid), e.bbo.bid_price, e.bbo.bid_qty) &&
        same_level(b.book().best(book::Side::Ask), e.bbo.ask_price, e.bbo.ask_qty)) {
      ++b.counters_.bbo_checks_ok;
    } else {
      ++b.counters_.bbo_checks_fail;
      mark_stale(b, BookError::BboMismatch);
      changed = true;
    }
  } else if (b.instrument_->venue == Venue::Coinbase && b.status_ == BookStatus::Synced) {
    // Coinbase's ticker is an approximate oracle only (the one sent on subscribe describes an
    // earlier moment): top prices are compared and counted, the book is never marked stale.
    const book::Level* bid = b.book().best(book::Side::Bid);
    const book::Level* ask = b.book().best(book::Side::Ask);
    const bool same = bid != nullptr && ask != nullptr && bid->price == e.bbo.bid_price &&
                      ask->price == e.bbo.ask_price;
    ++(same ? b.counters_.bbo_checks_ok : b.counters_.bbo_checks_fail);
  }
  return notice(BookNotice::Bbo, &b, changed);
}

void BookBuilder::buffer_event(InstrumentBook& b, const Event& e) noexcept {
  if (b.buffer_.size() >= options_.max_buffer) [[unlikely]] {
    // Waiting too long for a snapshot: the oldest updates are useless now; the snapshot
    // that eventually arrives will be newer than what is kept, or be refetched.
    b.buffer_.clear();
    b.last_error_ = BookError::BufferOverflow;
    if (e.type != EventType::BookBegin) {
      b.mode_ = InstrumentBook::Mode::Skip;
      return;
    }
  }
  if (b.buffer_.size() == b.buffer_.capacity()) [[unlikely]] {
    // Growth is allocation: only while a book waits for its first snapshot with a deep
    // backlog. Reserve more up front (Options::reserve_buffer) to avoid it.
    b.buffer_.reserve(b.buffer_.capacity() * 2 + 64);
  }
  b.buffer_.push_back(e);
  if (e.type == EventType::BookBegin) ++b.counters_.buffered;
}

void BookBuilder::mark_stale(InstrumentBook& b, BookError why) noexcept {
  b.last_error_ = why;
  if (b.status_ == BookStatus::Stale) return;
  b.lost_sync_ = true; // the next Synced is a resync, whether or not it was synced before
  b.status_ = BookStatus::Stale;
  queue_resync(b);
}

// A snapshot came for a book waiting for one, and cannot be used (older than the stream, or a
// gap right behind it): the book stays stale and another snapshot is asked for (the session
// paces the refetches).
void BookBuilder::snapshot_unusable(InstrumentBook& b, BookError why) noexcept {
  if (b.status_ != BookStatus::Stale) return mark_stale(b, why);
  b.last_error_ = why;
  queue_resync(b);
}

void BookBuilder::queue_resync(InstrumentBook& b) noexcept {
  ++resync_requests_;
  if (resync_tail_ - resync_head_ == kResyncQueue) {
    ++resync_dropped_;
    return;
  }
  resync_queue_[resync_tail_++ % kResyncQueue] = b.instrument_->id;
}

void BookBuilder::mark_synced(InstrumentBook& b) noexcept {
  if (b.status_ == BookStatus::Synced) return;
  if (b.lost_sync_) {
    ++b.counters_.resyncs;
    b.lost_sync_ = false;
  }
  b.status_ = BookStatus::Synced;
  b.last_error_ = BookError::None;
}

void BookBuilder::settle_crossed(InstrumentBook& b) noexcept {
  const bool crossed = b.book().crossed();
  if (b.status_ == BookStatus::Synced && crossed) {
    b.status_ = BookStatus::Crossed;
    ++b.counters_.crossed;
  } else if (b.status_ == BookStatus::Crossed && !crossed) {
    b.status_ = BookStatus::Synced;
  }
  if (b.status_ == BookStatus::Crossed) ++b.counters_.crossed_batches;
}

bool BookBuilder::pop_resync_request(std::uint32_t& instrument) noexcept {
  if (resync_head_ == resync_tail_) return false;
  instrument = resync_queue_[resync_head_++ % kResyncQueue];
  return true;
}

} // namespace fh
