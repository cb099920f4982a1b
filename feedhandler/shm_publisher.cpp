#include "feedhandler/shm_publisher.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venue.hpp"

namespace fh {

// Every venue id must have its counters and directory entries in the segment.
static_assert(static_cast<std::uint32_t>(Venue::kCount) <= shm::kMaxVenues);

namespace {

// Error codes this publisher writes into the segment's error log.
constexpr std::uint32_t kErrDirectory = 1;    // add_instrument refused
constexpr std::uint32_t kErrTooManyInstr = 2; // instrument beyond max_instruments

shm::JournalRecord header_of(const Event& e, std::uint32_t sid, std::int64_t publish_ns) noexcept {
  shm::JournalRecord r{};
  r.publish_ts_ns = publish_ns;
  r.type = static_cast<std::uint8_t>(e.type);
  r.flags = e.flags;
  r.venue = static_cast<std::uint8_t>(e.venue);
  r.instrument = sid;
  r.exch_ts_ns = e.exch_ts_ns;
  r.recv_ts_ns = e.recv_ts_ns;
  return r;
}

shm::JournalRecord level_record(const Event& from, std::uint32_t sid, std::int64_t publish_ns,
                                book::Side side, const book::Level& l) noexcept {
  shm::JournalRecord r = header_of(from, sid, publish_ns);
  r.type = static_cast<std::uint8_t>(shm::RecordType::BookLevel);
  r.flags = 0;
  r.side = side == book::Side::Bid ? 0 : 1;
  r.payload.level.price = l.price;
  r.payload.level.qty = l.qty;
  r.payload.level.orders = l.orders;
  r.payload.level.price_text_dp = l.price_text_dp;
  r.payload.level.qty_text_dp = l.qty_text_dp;
  return r;
}

shm::Level shm_level(const book::Level& l) noexcept { return {l.price, l.qty, l.orders, 0}; }

} // namespace

ShmPublisher::ShmPublisher(shm::Writer& writer)
    : writer_(&writer), shm_ids_(InstrumentRegistry::kMaxInstruments, kNoInstrument) {
  stage_.resize(kStageLevels);
  books_.reserve(writer.max_instruments());
}

std::uint32_t ShmPublisher::slot_of(const InstrumentBook& b) noexcept {
  const Instrument& inst = b.instrument();
  if (inst.id >= shm_ids_.size()) [[unlikely]]
    return kNoInstrument;
  std::uint32_t& sid = shm_ids_[inst.id];
  if (sid != kNoInstrument) [[likely]]
    return sid;
  // First publication of this instrument: control-path work, once per instrument.
  if (next_id_ >= writer_->max_instruments()) {
    writer_->log_error(kErrTooManyInstr, shm::Writer::kNoInstrument,
                       "more instruments than the segment's max_instruments; not published");
    return kNoInstrument;
  }
  sid = next_id_++;
  books_.push_back(&b);
  const std::string_view venue = venue_name(inst.venue);
  const shm::WriteStatus st = writer_->add_instrument(
      {sid, static_cast<std::uint8_t>(inst.venue), static_cast<std::uint8_t>(inst.kind),
       inst.price_decimals, inst.qty_decimals, inst.tick, inst.lot, venue, inst.native,
       inst.canonical});
  if (st != shm::WriteStatus::Ok) {
    ++counters_.directory_errors;
    std::array<char, 160> text{};
    std::snprintf(text.data(), text.size(), "directory entry for %s:%s refused: %s",
                  std::string(venue).c_str(), inst.native.c_str(), shm::to_cstring(st));
    writer_->log_error(kErrDirectory, sid, text.data());
  }
  return sid;
}

std::uint64_t ShmPublisher::book_seq(const InstrumentBook& b) const noexcept {
  // Binance: `u` of the last applied update (also after a snapshot replayed its buffer);
  // others: the message's own id (OKX seqId; Kraken has none, 0).
  if (is_binance(b.instrument().venue) && b.last_update_id() != 0)
    return b.last_update_id();
  return begin_.begin.last_seq;
}

void ShmPublisher::append(const shm::JournalRecord& r) noexcept {
  writer_->append_journal(r);
  ++counters_.journal_records;
}

void ShmPublisher::publish_book(std::uint32_t sid, const InstrumentBook& b,
                                const Event& end) noexcept {
  const std::uint32_t n = writer_->depth();
  std::array<book::Level, shm::kMaxDepth> top{};
  std::array<shm::Level, shm::kMaxDepth> bids{};
  std::array<shm::Level, shm::kMaxDepth> asks{};
  const std::size_t nb = b.book().top(book::Side::Bid, n, top.data());
  for (std::size_t i = 0; i < nb; ++i) bids[i] = shm_level(top[i]);
  const std::size_t na = b.book().top(book::Side::Ask, n, top.data());
  for (std::size_t i = 0; i < na; ++i) asks[i] = shm_level(top[i]);
  (void)writer_->publish_book(sid, static_cast<std::uint8_t>(b.status()), bids.data(), nb,
                              asks.data(), na, book_seq(b), b.last_exch_ts_ns(),
                              end.recv_ts_ns != 0 ? end.recv_ts_ns : b.last_recv_ts_ns(),
                              publish_ns_);
  ++counters_.book_publishes;
}

void ShmPublisher::journal_batch(std::uint32_t sid, const Event& end) noexcept {
  shm::JournalRecord r = header_of(begin_, sid, publish_ns_);
  r.payload.begin = {begin_.begin.first_seq, begin_.begin.last_seq, begin_.begin.prev_seq,
                     static_cast<std::uint32_t>(staged_), begin_.begin.depth};
  append(r);
  for (std::size_t i = 0; i < staged_; ++i) {
    const Event& l = stage_[i];
    shm::JournalRecord lr = header_of(l, sid, publish_ns_);
    lr.side = l.side == book::Side::Bid ? 0 : 1;
    lr.payload.level.price = l.level.price;
    lr.payload.level.qty = l.level.qty;
    lr.payload.level.orders = l.level.orders;
    lr.payload.level.price_text_dp = l.level.price_text_dp;
    lr.payload.level.qty_text_dp = l.level.qty_text_dp;
    append(lr);
  }
  shm::JournalRecord er = header_of(end, sid, publish_ns_);
  er.payload.end.checksum = end.end.checksum;
  append(er);
}

void ShmPublisher::journal_image(std::uint32_t sid, const InstrumentBook& b,
                                 const Event& end) noexcept {
  const book::L2Book& book = b.book();
  const std::size_t nb = book.depth(book::Side::Bid);
  const std::size_t na = book.depth(book::Side::Ask);
  shm::JournalRecord r = header_of(begin_, sid, publish_ns_);
  // An order-level snapshot is journaled as the image of its aggregated book: L2 records.
  r.flags = static_cast<std::uint8_t>((begin_.flags | kFlagSnapshot) & ~kFlagOrders);
  r.payload.begin = {begin_.begin.first_seq, book_seq(b), begin_.begin.prev_seq,
                     static_cast<std::uint32_t>(nb + na), 0};
  append(r);
  for (std::size_t i = 0; i < nb; ++i)
    append(level_record(end, sid, publish_ns_, book::Side::Bid, book.at(book::Side::Bid, i)));
  for (std::size_t i = 0; i < na; ++i)
    append(level_record(end, sid, publish_ns_, book::Side::Ask, book.at(book::Side::Ask, i)));
  shm::JournalRecord er = header_of(end, sid, publish_ns_);
  er.payload.end.checksum = end.end.checksum;
  append(er);
  ++counters_.images;
}

void ShmPublisher::journal_status(std::uint32_t sid, const InstrumentBook& b,
                                  const Event& e) noexcept {
  shm::JournalRecord r = header_of(e, sid, publish_ns_);
  r.type = static_cast<std::uint8_t>(shm::RecordType::Status);
  r.flags = 0;
  r.payload.status.status = static_cast<std::uint8_t>(b.status());
  r.payload.status.reason = static_cast<std::uint8_t>(b.last_error());
  r.payload.status.last_seq = book_seq(b);
  append(r);
}

void ShmPublisher::on_notice(const BookNotice& n, const Event& e) noexcept {
  if (n.book == nullptr) [[unlikely]]
    return;
  const InstrumentBook& b = *n.book;
  // One clock read per notice (a vDSO call costs 20-50 ns here; per record it doubled the
  // cost of publishing a 70-level frame): the slot and every record of a notice share it.
  publish_ns_ = shm::realtime_ns();
  const std::uint32_t sid = slot_of(b);
  if (sid == kNoInstrument) [[unlikely]] {
    ++counters_.unpublished_events;
    return;
  }
  switch (n.kind) {
  case BookNotice::BookChanged:
    // Snapshots (and updates too long to stage) go out as an image of the resulting book.
    if (begin_.flags & kFlagOrders) {
      // Order-level (L3) batch: the journal carries what it did to the aggregated book, the
      // levels it changed with their new absolute totals (0 = gone), so a reader rebuilds
      // the published book exactly as for any L2 venue. The layout has no order record.
      if ((begin_.flags & kFlagSnapshot) || b.l2_changes_overflow()) {
        journal_image(sid, b, e);
      } else {
        const auto changes = b.l2_changes();
        shm::JournalRecord r = header_of(begin_, sid, publish_ns_);
        r.flags = static_cast<std::uint8_t>(begin_.flags & ~kFlagOrders);
        r.payload.begin = {begin_.begin.first_seq, begin_.begin.last_seq, begin_.begin.prev_seq,
                           static_cast<std::uint32_t>(changes.size()), 0};
        append(r);
        for (const book::LevelChange& c : changes)
          append(level_record(e, sid, publish_ns_, c.side, c.level));
        shm::JournalRecord er = header_of(e, sid, publish_ns_);
        er.payload.end.checksum = e.end.checksum;
        append(er);
      }
    } else if ((begin_.flags & kFlagSnapshot) || overflow_) {
      if (overflow_ && !(begin_.flags & kFlagSnapshot))
        ++counters_.oversized_batches;
      journal_image(sid, b, e);
    } else {
      journal_batch(sid, e);
    }
    publish_book(sid, b, e);
    break;
  case BookNotice::Trade: {
    const std::uint8_t side =
        (e.flags & kFlagBuyerIsMaker) ? shm::kAggressorSell : shm::kAggressorBuy;
    (void)writer_->publish_trade(sid, e.trade.price, e.trade.qty, side, e.trade.trade_id,
                                 e.exch_ts_ns, e.recv_ts_ns);
    shm::JournalRecord r = header_of(e, sid, publish_ns_);
    r.side = side;
    r.payload.trade = {e.trade.price, e.trade.qty, e.trade.trade_id, 0};
    append(r);
    break;
  }
  case BookNotice::Bbo: {
    (void)writer_->publish_bbo(sid, e.bbo.bid_price, e.bbo.bid_qty, e.bbo.ask_price,
                               e.bbo.ask_qty, e.bbo.update_id, e.exch_ts_ns, e.recv_ts_ns);
    shm::JournalRecord r = header_of(e, sid, publish_ns_);
    r.payload.bbo = {e.bbo.bid_price, e.bbo.bid_qty, e.bbo.ask_price, e.bbo.ask_qty};
    append(r);
    break;
  }
  case BookNotice::StatusChanged:
  case BookNotice::None: break;
  }
  if (n.status_changed) {
    if (n.kind != BookNotice::BookChanged)
      (void)writer_->publish_status(sid, static_cast<std::uint8_t>(b.status()), publish_ns_);
    journal_status(sid, b, e);
  }
  if (++since_sync_ >= kCounterSyncEvery) [[unlikely]]
    sync_counters();
}

void ShmPublisher::sync_counters() noexcept {
  since_sync_ = 0;
  constexpr std::size_t kVenues = shm::kMaxVenues;
  std::array<BookCounters, kVenues> sums{};
  std::array<bool, kVenues> seen{};
  for (const InstrumentBook* b : books_) {
    const std::size_t v = static_cast<std::size_t>(b->instrument().venue);
    if (v >= kVenues)
      continue;
    const BookCounters& c = b->counters();
    BookCounters& s = sums[v];
    s.book_messages += c.book_messages;
    s.checksum_ok += c.checksum_ok;
    s.checksum_fail += c.checksum_fail;
    s.seq_gaps += c.seq_gaps;
    s.resyncs += c.resyncs;
    s.snapshots += c.snapshots;
    s.crossed += c.crossed;
    seen[v] = true;
  }
  using VC = shm::VenueCounter;
  for (std::size_t v = 0; v < kVenues; ++v) {
    if (!seen[v])
      continue;
    const auto id = static_cast<std::uint8_t>(v);
    const BookCounters& s = sums[v];
    writer_->set_counter(id, VC::ChecksumOk, s.checksum_ok);
    writer_->set_counter(id, VC::ChecksumFail, s.checksum_fail);
    writer_->set_counter(id, VC::Gaps, s.seq_gaps);
    writer_->set_counter(id, VC::Resyncs, s.resyncs);
    writer_->set_counter(id, VC::Snapshots, s.snapshots);
    writer_->set_counter(id, VC::Crossed, s.crossed);
  }
}

} // namespace fh
