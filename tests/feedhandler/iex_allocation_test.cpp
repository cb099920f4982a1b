// labels: replay
// The IEX packet path allocates nothing per packet once every symbol has been seen: pcap record
// -> UDP checks -> IEX-TP continuity -> DEEP decode -> events -> book builder, over the real
// capture. Global operator new is replaced in this binary with a counting one. The warm-up runs
// until the last first sight of a symbol in a price level update or trade (found here from the
// raw bytes): instruments are registered and books reserved there, once per symbol.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/iex/iex_ingest.hpp"
#include "feedhandler/pipeline.hpp"
#include "net/pcap_reader.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/pcap_frames.hpp"

using fh::test::g_allocations;

namespace fh::test {
namespace {

// Index of the first record after which no new symbol shows up in a '8', '5' or 'T' message.
std::size_t warm_up_records() {
  const auto frames = load_frames(kIexCapture);
  std::set<std::string> seen;
  std::size_t last_new = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& b = frames[i].bytes;
    if ((std::size_t{b[16]} << 8 | b[17]) + 14 > b.size()) continue;
    for (std::size_t at = 42 + 40; at + 2 <= b.size();) {
      const std::size_t n = std::size_t{b[at]} | std::size_t{b[at + 1]} << 8;
      const std::uint8_t t = b[at + 2];
      if ((t == '8' || t == '5' || t == 'T') &&
          seen.insert(std::string(reinterpret_cast<const char*>(&b[at + 12]), 8)).second)
        last_new = i;
      at += 2 + n;
    }
  }
  return last_new + 1;
}

class IexAllocationTest : public ::testing::Test {};

TEST_F(IexAllocationTest, NoHeapAllocationPerPacketAfterEverySymbolWasSeen) {
  const std::size_t warm = warm_up_records();
  auto opened = net::PcapReader::open(kIexCapture);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<net::PcapReader>>(opened));
  auto& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);

  InstrumentRegistry registry;
  BookBuilder::Options o;
  o.reserve_levels = 256; // what pcap mode reserves (the deepest sample book fits)
  o.reserve_buffer = 0;
  BookBuilder builder(registry, o);
  iex::IexFeed feed(registry);
  net::UdpFrameParser udp(net::UdpFilter{}, net::UdpChecksumPolicy::AcceptOffloadPlaceholder);
  EventBatch batch(iex::IexFeed::kBatchCapacity);
  NullPublisher publisher;
  FusedPipeline<NullPublisher> pipeline(builder, publisher);
  iex::IexFrameIngest<FusedPipeline<NullPublisher>> ingest(udp, feed, pipeline, batch);

  net::PcapPacket p;
  std::size_t n = 0;
  while (n < warm && reader.next(p) == net::PcapNext::Packet) {
    (void)ingest.on_frame(p.data, p.caplen, p.ts_ns);
    ++n;
  }
  const std::uint64_t events_before = ingest.events();
  const std::size_t before = g_allocations.load();
  std::size_t measured = 0;
  while (reader.next(p) == net::PcapNext::Packet) {
    (void)ingest.on_frame(p.data, p.caplen, p.ts_ns);
    ++measured;
  }
  const std::size_t during = g_allocations.load() - before;
  EXPECT_LT(warm, 121314u / 2) << "warm-up should be the smaller part";
  EXPECT_EQ(warm + measured + 1, 121315u); // PROVENANCE.md: packets, the last cut by end of file
  EXPECT_GT(ingest.events() - events_before, 100000u); // the measured part did real work
  EXPECT_GT(feed.counters().restarts, 0u);             // including restarts (book resets)
  EXPECT_EQ(during, 0u) << "allocations while processing " << measured << " packets";
}

} // namespace
} // namespace fh::test
