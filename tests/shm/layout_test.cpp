// labels: unit
// Golden offsets of the shared-memory layout (shm/layout.hpp). Every number here is the
// layout's specification, written down by hand from the field list in layout.hpp (8-byte
// words, 128-byte false-sharing blocks, 4 KiB region alignment). If this test fails, the layout
// changed: update the numbers in the same commit and bump kLayoutMajor (incompatible) or
// kLayoutMinor (fields added in reserved space), and docs/shm.md.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <variant>

#include <unistd.h>

#include "shm/layout.hpp"
#include "shm/reader.hpp"
#include "shm/writer.hpp"

namespace fh::shm {
namespace {

class LayoutTest : public ::testing::Test {};

TEST_F(LayoutTest, VersionAndMagicArePinned) {
  EXPECT_EQ(kLayoutMajor, 2);
  EXPECT_EQ(kLayoutMinor, 0);
  char text[8];
  std::memcpy(text, &kMagic, 8); // little-endian host: the file starts with the text
  EXPECT_EQ(std::string(text, 8), "FHSHMSEG");
}

TEST_F(LayoutTest, EnumValuesArePinned) {
  EXPECT_EQ(static_cast<int>(BookStatus::Empty), 0);
  EXPECT_EQ(static_cast<int>(BookStatus::WaitingSnapshot), 1);
  EXPECT_EQ(static_cast<int>(BookStatus::Synced), 2);
  EXPECT_EQ(static_cast<int>(BookStatus::Stale), 3);
  EXPECT_EQ(static_cast<int>(BookStatus::Crossed), 4);
  EXPECT_EQ(static_cast<int>(RecordType::None), 0);
  EXPECT_EQ(static_cast<int>(RecordType::BookBegin), 1);
  EXPECT_EQ(static_cast<int>(RecordType::BookLevel), 2);
  EXPECT_EQ(static_cast<int>(RecordType::BookEnd), 3);
  EXPECT_EQ(static_cast<int>(RecordType::Trade), 4);
  EXPECT_EQ(static_cast<int>(RecordType::Bbo), 5);
  EXPECT_EQ(static_cast<int>(RecordType::Status), 6);
  EXPECT_EQ(kRecordFlagSnapshot, 1);
  EXPECT_EQ(kRecordFlagRest, 2);
  EXPECT_EQ(kRecordFlagHasPrevSeq, 4);
  EXPECT_EQ(kRecordFlagHasSeq, 8);
  EXPECT_EQ(kRecordFlagHasChecksum, 16);
  EXPECT_EQ(kRecordFlagBuyerIsMaker, 32);
  EXPECT_EQ(kAggressorUnknown, 0);
  EXPECT_EQ(kAggressorBuy, 1);
  EXPECT_EQ(kAggressorSell, 2);
  EXPECT_EQ(static_cast<int>(WriterState::Starting), 0);
  EXPECT_EQ(static_cast<int>(WriterState::Running), 1);
  EXPECT_EQ(static_cast<int>(WriterState::Closed), 2);
  EXPECT_EQ(static_cast<int>(WriterState::Superseded), 3);
  EXPECT_EQ(static_cast<int>(VenueCounter::Messages), 0);
  EXPECT_EQ(static_cast<int>(VenueCounter::Bytes), 1);
  EXPECT_EQ(static_cast<int>(VenueCounter::ParseErrors), 2);
  EXPECT_EQ(static_cast<int>(VenueCounter::ChecksumOk), 3);
  EXPECT_EQ(static_cast<int>(VenueCounter::ChecksumFail), 4);
  EXPECT_EQ(static_cast<int>(VenueCounter::Gaps), 5);
  EXPECT_EQ(static_cast<int>(VenueCounter::Resyncs), 6);
  EXPECT_EQ(static_cast<int>(VenueCounter::Snapshots), 7);
  EXPECT_EQ(static_cast<int>(VenueCounter::Reconnects), 8);
  EXPECT_EQ(static_cast<int>(VenueCounter::Crossed), 9);
  EXPECT_EQ(static_cast<int>(VenueCounter::kCount), 10);
}

TEST_F(LayoutTest, GeometryConstantsArePinned) {
  EXPECT_EQ(kRegionAlign, 4096u);
  EXPECT_EQ(kFalseSharingRange, 128u);
  EXPECT_EQ(kMaxDepth, 64u);
  EXPECT_EQ(kMaxVenues, 32u);
  EXPECT_EQ(kCountersPerVenue, 13u);
  EXPECT_EQ(kErrorSlots, 64u);
  EXPECT_EQ(kVenueNameSize, 16u);
  EXPECT_EQ(kSymbolSize, 40u);
  EXPECT_EQ(kCounterNameSize, 24u);
  EXPECT_EQ(kErrorTextSize, 88u);
}

TEST_F(LayoutTest, SegmentHeaderOffsetsArePinned) {
  EXPECT_EQ(sizeof(SegmentHeader), 512u);
  EXPECT_EQ(offsetof(SegmentHeader, magic), 0u);
  EXPECT_EQ(offsetof(SegmentHeader, layout_major), 8u);
  EXPECT_EQ(offsetof(SegmentHeader, layout_minor), 10u);
  EXPECT_EQ(offsetof(SegmentHeader, header_size), 12u);
  EXPECT_EQ(offsetof(SegmentHeader, total_size), 16u);
  EXPECT_EQ(offsetof(SegmentHeader, generation), 24u);
  EXPECT_EQ(offsetof(SegmentHeader, start_time_ns), 32u);
  EXPECT_EQ(offsetof(SegmentHeader, writer_pid), 40u);
  EXPECT_EQ(offsetof(SegmentHeader, size_alignment), 44u);
  EXPECT_EQ(offsetof(SegmentHeader, max_instruments), 48u);
  EXPECT_EQ(offsetof(SegmentHeader, depth), 52u);
  EXPECT_EQ(offsetof(SegmentHeader, journal_capacity), 56u);
  EXPECT_EQ(offsetof(SegmentHeader, max_venues), 60u);
  EXPECT_EQ(offsetof(SegmentHeader, counters_per_venue), 64u);
  EXPECT_EQ(offsetof(SegmentHeader, error_slots), 68u);
  EXPECT_EQ(offsetof(SegmentHeader, slot_head_size), 72u);
  EXPECT_EQ(offsetof(SegmentHeader, level_size), 76u);
  EXPECT_EQ(offsetof(SegmentHeader, slot_bids_offset), 80u);
  EXPECT_EQ(offsetof(SegmentHeader, slot_asks_offset), 84u);
  EXPECT_EQ(offsetof(SegmentHeader, directory), 128u);
  EXPECT_EQ(offsetof(SegmentHeader, counters), 152u);
  EXPECT_EQ(offsetof(SegmentHeader, error_log), 176u);
  EXPECT_EQ(offsetof(SegmentHeader, slots), 200u);
  EXPECT_EQ(offsetof(SegmentHeader, journal), 224u);
  EXPECT_EQ(offsetof(SegmentHeader, heartbeat_ns), 384u);
  EXPECT_EQ(offsetof(SegmentHeader, state), 392u);
  EXPECT_EQ(offsetof(SegmentHeader, directory_count), 396u);
  EXPECT_EQ(sizeof(RegionDesc), 24u);
  EXPECT_EQ(offsetof(RegionDesc, offset), 0u);
  EXPECT_EQ(offsetof(RegionDesc, size), 8u);
  EXPECT_EQ(offsetof(RegionDesc, record_size), 16u);
  EXPECT_EQ(offsetof(RegionDesc, record_count), 20u);
}

TEST_F(LayoutTest, DirectoryCountersAndErrorLogOffsetsArePinned) {
  EXPECT_EQ(sizeof(DirectoryEntry), 128u);
  EXPECT_EQ(offsetof(DirectoryEntry, state), 0u);
  EXPECT_EQ(offsetof(DirectoryEntry, id), 8u);
  EXPECT_EQ(offsetof(DirectoryEntry, venue_id), 12u);
  EXPECT_EQ(offsetof(DirectoryEntry, kind), 13u);
  EXPECT_EQ(offsetof(DirectoryEntry, price_decimals), 14u);
  EXPECT_EQ(offsetof(DirectoryEntry, qty_decimals), 15u);
  EXPECT_EQ(offsetof(DirectoryEntry, tick), 16u);
  EXPECT_EQ(offsetof(DirectoryEntry, lot), 24u);
  EXPECT_EQ(offsetof(DirectoryEntry, venue), 32u);
  EXPECT_EQ(offsetof(DirectoryEntry, native), 48u);
  EXPECT_EQ(offsetof(DirectoryEntry, canonical), 88u);

  EXPECT_EQ(sizeof(CountersHeader), 512u);
  EXPECT_EQ(offsetof(CountersHeader, names), 0u);
  EXPECT_EQ(sizeof(VenueCounters), 128u);
  EXPECT_EQ(offsetof(VenueCounters, state), 0u);
  EXPECT_EQ(offsetof(VenueCounters, name), 8u);
  EXPECT_EQ(offsetof(VenueCounters, values), 24u);

  EXPECT_EQ(sizeof(ErrorLogHeader), 128u);
  EXPECT_EQ(offsetof(ErrorLogHeader, used), 0u);
  EXPECT_EQ(offsetof(ErrorLogHeader, dropped), 8u);
  EXPECT_EQ(sizeof(ErrorSlot), 128u);
  EXPECT_EQ(offsetof(ErrorSlot, seq), 0u);
  EXPECT_EQ(offsetof(ErrorSlot, code), 8u);
  EXPECT_EQ(offsetof(ErrorSlot, instrument), 12u);
  EXPECT_EQ(offsetof(ErrorSlot, count), 16u);
  EXPECT_EQ(offsetof(ErrorSlot, first_ns), 24u);
  EXPECT_EQ(offsetof(ErrorSlot, last_ns), 32u);
  EXPECT_EQ(offsetof(ErrorSlot, text), 40u);
}

TEST_F(LayoutTest, SlotOffsetsArePinned) {
  EXPECT_EQ(sizeof(Level), 24u);
  EXPECT_EQ(offsetof(Level, price), 0u);
  EXPECT_EQ(offsetof(Level, qty), 8u);
  EXPECT_EQ(offsetof(Level, orders), 16u);
  EXPECT_EQ(offsetof(Level, reserved), 20u);

  EXPECT_EQ(sizeof(SlotHead), 256u);
  EXPECT_EQ(offsetof(SlotHead, seq), 0u);
  EXPECT_EQ(offsetof(SlotHead, instrument), 8u);
  EXPECT_EQ(offsetof(SlotHead, status), 12u);
  EXPECT_EQ(offsetof(SlotHead, trade_side), 13u);
  EXPECT_EQ(offsetof(SlotHead, depth), 14u);
  EXPECT_EQ(offsetof(SlotHead, n_bids), 16u);
  EXPECT_EQ(offsetof(SlotHead, n_asks), 18u);
  EXPECT_EQ(offsetof(SlotHead, last_seq), 24u);
  EXPECT_EQ(offsetof(SlotHead, exch_ts_ns), 32u);
  EXPECT_EQ(offsetof(SlotHead, recv_ts_ns), 40u);
  EXPECT_EQ(offsetof(SlotHead, publish_ts_ns), 48u);
  EXPECT_EQ(offsetof(SlotHead, book_updates), 56u);
  EXPECT_EQ(offsetof(SlotHead, best_bid), 64u);
  EXPECT_EQ(offsetof(SlotHead, best_ask), 88u);
  EXPECT_EQ(offsetof(SlotHead, bbo_bid_price), 112u);
  EXPECT_EQ(offsetof(SlotHead, bbo_bid_qty), 120u);
  EXPECT_EQ(offsetof(SlotHead, bbo_ask_price), 128u);
  EXPECT_EQ(offsetof(SlotHead, bbo_ask_qty), 136u);
  EXPECT_EQ(offsetof(SlotHead, bbo_update_id), 144u);
  EXPECT_EQ(offsetof(SlotHead, bbo_exch_ts_ns), 152u);
  EXPECT_EQ(offsetof(SlotHead, bbo_recv_ts_ns), 160u);
  EXPECT_EQ(offsetof(SlotHead, bbo_updates), 168u);
  EXPECT_EQ(offsetof(SlotHead, trade_price), 176u);
  EXPECT_EQ(offsetof(SlotHead, trade_qty), 184u);
  EXPECT_EQ(offsetof(SlotHead, trade_id), 192u);
  EXPECT_EQ(offsetof(SlotHead, trade_exch_ts_ns), 200u);
  EXPECT_EQ(offsetof(SlotHead, trade_recv_ts_ns), 208u);
  EXPECT_EQ(offsetof(SlotHead, trades), 216u);
  EXPECT_EQ(offsetof(SlotHead, status_changes), 224u);
  EXPECT_EQ(offsetof(SlotHead, status_ts_ns), 232u);

  // slot = 256-byte head + N bid levels + N ask levels, rounded up to 128 bytes
  EXPECT_EQ(slot_size_for(1), 384u);   // 256 + 48
  EXPECT_EQ(slot_size_for(10), 768u);  // 256 + 480
  EXPECT_EQ(slot_size_for(25), 1536u); // 256 + 1200
  EXPECT_EQ(slot_size_for(64), 3328u); // 256 + 3072
  EXPECT_EQ(slot_bids_offset(), 256u);
  EXPECT_EQ(slot_asks_offset(10), 496u);
  EXPECT_EQ(slot_asks_offset(25), 856u);
}

TEST_F(LayoutTest, JournalOffsetsArePinned) {
  EXPECT_EQ(sizeof(JournalHeader), 256u);
  EXPECT_EQ(offsetof(JournalHeader, capacity), 0u);
  EXPECT_EQ(offsetof(JournalHeader, record_size), 8u);
  EXPECT_EQ(offsetof(JournalHeader, tail), 128u);
  EXPECT_EQ(offsetof(JournalHeader, tail_intent), 136u);

  EXPECT_EQ(sizeof(JournalRecord), 64u);
  EXPECT_EQ(alignof(JournalRecord), 64u);
  EXPECT_EQ(offsetof(JournalRecord, type), 0u);
  EXPECT_EQ(offsetof(JournalRecord, flags), 1u);
  EXPECT_EQ(offsetof(JournalRecord, side), 2u);
  EXPECT_EQ(offsetof(JournalRecord, venue), 3u);
  EXPECT_EQ(offsetof(JournalRecord, instrument), 4u);
  EXPECT_EQ(offsetof(JournalRecord, exch_ts_ns), 8u);
  EXPECT_EQ(offsetof(JournalRecord, recv_ts_ns), 16u);
  EXPECT_EQ(offsetof(JournalRecord, publish_ts_ns), 24u);
  EXPECT_EQ(offsetof(JournalRecord, payload), 32u);
  EXPECT_EQ(sizeof(JournalRecord::payload), 32u);

  EXPECT_EQ(offsetof(JournalBookBegin, first_seq), 0u);
  EXPECT_EQ(offsetof(JournalBookBegin, last_seq), 8u);
  EXPECT_EQ(offsetof(JournalBookBegin, prev_seq), 16u);
  EXPECT_EQ(offsetof(JournalBookBegin, levels), 24u);
  EXPECT_EQ(offsetof(JournalBookBegin, depth), 28u);
  EXPECT_EQ(offsetof(JournalLevel, price), 0u);
  EXPECT_EQ(offsetof(JournalLevel, qty), 8u);
  EXPECT_EQ(offsetof(JournalLevel, orders), 16u);
  EXPECT_EQ(offsetof(JournalLevel, price_text_dp), 20u);
  EXPECT_EQ(offsetof(JournalLevel, qty_text_dp), 21u);
  EXPECT_EQ(offsetof(JournalBookEnd, checksum), 0u);
  EXPECT_EQ(offsetof(JournalTrade, price), 0u);
  EXPECT_EQ(offsetof(JournalTrade, qty), 8u);
  EXPECT_EQ(offsetof(JournalTrade, trade_id), 16u);
  EXPECT_EQ(offsetof(JournalBbo, bid_price), 0u);
  EXPECT_EQ(offsetof(JournalBbo, bid_qty), 8u);
  EXPECT_EQ(offsetof(JournalBbo, ask_price), 16u);
  EXPECT_EQ(offsetof(JournalBbo, ask_qty), 24u);
  EXPECT_EQ(offsetof(JournalStatus, status), 0u);
  EXPECT_EQ(offsetof(JournalStatus, reason), 1u);
  EXPECT_EQ(offsetof(JournalStatus, last_seq), 8u);
  EXPECT_EQ(sizeof(JournalBookBegin), 32u);
  EXPECT_EQ(sizeof(JournalLevel), 32u);
  EXPECT_EQ(sizeof(JournalBookEnd), 32u);
  EXPECT_EQ(sizeof(JournalTrade), 32u);
  EXPECT_EQ(sizeof(JournalBbo), 32u);
  EXPECT_EQ(sizeof(JournalStatus), 32u);
}

// 1024 instruments, N = 10, 65536 journal records: regions at 4 KiB boundaries.
//   header      [0, 512)
//   directory   4096    + 1024 * 128            = 131072   -> next 135168
//   counters    135168  + 512 + 32 * 128        = 4608     -> next 143360
//   error log   143360  + 128 + 64 * 128        = 8320     -> next 155648
//   slots       155648  + 1024 * 768            = 786432   -> next 942080
//   journal     942080  + 256 + 65536 * 64      = 4194560  -> end 5136640 -> 5140480 (page)
TEST_F(LayoutTest, RegionPlanForDefaultGeometryIsPinned) {
  const LayoutPlan p = plan_layout(1024, 10, 65536);
  EXPECT_EQ(p.directory.offset, 4096u);
  EXPECT_EQ(p.directory.size, 131072u);
  EXPECT_EQ(p.directory.record_size, 128u);
  EXPECT_EQ(p.directory.record_count, 1024u);
  EXPECT_EQ(p.counters.offset, 135168u);
  EXPECT_EQ(p.counters.size, 4608u);
  EXPECT_EQ(p.counters.record_size, 128u);
  EXPECT_EQ(p.counters.record_count, 32u);
  EXPECT_EQ(p.error_log.offset, 143360u);
  EXPECT_EQ(p.error_log.size, 8320u);
  EXPECT_EQ(p.error_log.record_size, 128u);
  EXPECT_EQ(p.error_log.record_count, 64u);
  EXPECT_EQ(p.slots.offset, 155648u);
  EXPECT_EQ(p.slots.size, 786432u);
  EXPECT_EQ(p.slots.record_size, 768u);
  EXPECT_EQ(p.slots.record_count, 1024u);
  EXPECT_EQ(p.journal.offset, 942080u);
  EXPECT_EQ(p.journal.size, 4194560u);
  EXPECT_EQ(p.journal.record_size, 64u);
  EXPECT_EQ(p.journal.record_count, 65536u);
  EXPECT_EQ(p.total_size, 5140480u);
}

// 4 instruments, N = 25, 1024 records, sized for 2 MiB huge pages:
//   directory 4096 + 512 -> 8192; counters 8192 + 4608 -> 16384; error log 16384 + 8320 -> 28672;
//   slots 28672 + 4 * 1536 = 6144 -> 36864; journal 36864 + 256 + 65536 -> 102656 -> 2 MiB.
TEST_F(LayoutTest, RegionPlanForHugePagesIsPinned) {
  const LayoutPlan p = plan_layout(4, 25, 1024, 2u << 20);
  EXPECT_EQ(p.directory.offset, 4096u);
  EXPECT_EQ(p.counters.offset, 8192u);
  EXPECT_EQ(p.error_log.offset, 16384u);
  EXPECT_EQ(p.slots.offset, 28672u);
  EXPECT_EQ(p.slots.record_size, 1536u);
  EXPECT_EQ(p.journal.offset, 36864u);
  EXPECT_EQ(p.journal.size, 65792u);
  EXPECT_EQ(p.total_size, 2097152u);
}

// The writer writes exactly this plan into a real segment, and the header says so.
TEST_F(LayoutTest, CreatedSegmentHeaderDescribesThePinnedPlan) {
  WriterOptions o;
  o.name = "fh-shm-layout-test-" + std::to_string(::getpid());
  o.if_exists = IfExists::Replace;
  o.remove_on_close = true;
  auto created = Writer::create(o);
  ASSERT_TRUE(std::holds_alternative<Writer>(created))
      << std::get<CreateError>(created).message;
  const Writer& w = std::get<Writer>(created);
  Reader r;
  ASSERT_EQ(r.attach(o.name), AttachError::Ok) << r.error_message();
  const SegmentHeader& h = r.header();
  EXPECT_EQ(h.magic, kMagic);
  EXPECT_EQ(h.layout_major, 2);
  EXPECT_EQ(h.layout_minor, 0);
  EXPECT_EQ(h.header_size, 512u);
  EXPECT_EQ(h.total_size, 5140480u);
  EXPECT_EQ(w.size(), 5140480u);
  EXPECT_EQ(h.depth, 10u);
  EXPECT_EQ(h.max_instruments, 1024u);
  EXPECT_EQ(h.journal_capacity, 65536u);
  EXPECT_EQ(h.slot_head_size, 256u);
  EXPECT_EQ(h.level_size, 24u);
  EXPECT_EQ(h.slot_bids_offset, 256u);
  EXPECT_EQ(h.slot_asks_offset, 496u);
  EXPECT_EQ(h.directory.offset, 4096u);
  EXPECT_EQ(h.counters.offset, 135168u);
  EXPECT_EQ(h.error_log.offset, 143360u);
  EXPECT_EQ(h.slots.offset, 155648u);
  EXPECT_EQ(h.slots.record_size, 768u);
  EXPECT_EQ(h.journal.offset, 942080u);
  EXPECT_EQ(h.writer_pid, ::getpid());
  EXPECT_EQ(h.state, static_cast<std::uint32_t>(WriterState::Running));
  EXPECT_STREQ(r.counter_name(0), "messages");
  EXPECT_STREQ(r.counter_name(9), "crossed");
  EXPECT_STREQ(r.counter_name(10), "");
}

} // namespace
} // namespace fh::shm
