// labels: unit replay
// Sequence trackers driven by the real update ids of the hftbacktest Binance captures
// (numbers read with simdjson DOM here). Expected counts are PROVENANCE.md's: USD-M 6,547
// applied and 0 pu breaks; spot 6,493 applied, 0 gaps, 2 stale events dropped before the
// snapshot is straddled. Gap/duplicate cases remove or repeat one real message.
// The OKX tracker has no recording with seqId (fields newer than our data), so its cases
// use the rule text of VENUE_RULES.md on id sequences derived from the Binance chain.
#include "book/sequence.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fh::book {
namespace {

struct DepthIds {
  std::uint64_t first_U;
  std::uint64_t last_u;
  std::uint64_t prev_u; // futures only
};

struct Stream {
  std::vector<DepthIds> events; // every depth event in file order
  std::size_t snapshot_at = 0;  // events[snapshot_at] is the first one after the snapshot
  std::uint64_t last_update_id = 0;
  bool has_snapshot = false;
};

void read_hftbacktest(const std::string &rel, Stream &s) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  gzFile f = gzopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << path;
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  simdjson::dom::parser parser;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    const std::string_view line(all.data() + start, end - start);
    start = end + 1;
    // "<local ts> <json>"
    const auto space = line.find(' ');
    if (space == std::string_view::npos)
      continue;
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line.data() + space + 1, line.size() - space - 1).get(doc));
    std::uint64_t lid = 0;
    if (!doc["lastUpdateId"].get_uint64().get(lid)) {
      s.last_update_id = lid;
      s.snapshot_at = s.events.size();
      s.has_snapshot = true;
      continue;
    }
    std::string_view stream;
    if (doc["stream"].get_string().get(stream) || stream.find("@depth") == std::string_view::npos)
      continue;
    simdjson::dom::element data = doc["data"];
    DepthIds ids{};
    ASSERT_FALSE(data["U"].get_uint64().get(ids.first_U));
    ASSERT_FALSE(data["u"].get_uint64().get(ids.last_u));
    if (data["pu"].get_uint64().get(ids.prev_u))
      ids.prev_u = 0;
    s.events.push_back(ids);
  }
}

struct Counts {
  std::size_t apply = 0;
  std::size_t drop = 0;
  std::size_t gap = 0;
  std::size_t first_gap = SIZE_MAX; // index into the event vector
  std::vector<SeqVerdict> verdicts;
};

// Buffer until the snapshot, then run every event (buffered ones first) through the tracker.
template <typename Tracker, typename Check>
Counts drive(const std::vector<DepthIds> &events, std::uint64_t lid, Check check) {
  Tracker t;
  t.on_snapshot(lid);
  Counts c;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const SeqVerdict v = check(t, events[i]);
    c.verdicts.push_back(v);
    switch (v) {
    case SeqVerdict::Apply:
      ++c.apply;
      break;
    case SeqVerdict::Drop:
      ++c.drop;
      break;
    case SeqVerdict::Gap:
      ++c.gap;
      if (c.first_gap == SIZE_MAX)
        c.first_gap = i;
      break;
    }
  }
  return c;
}

SeqVerdict check_futures(BinanceFuturesSequence &t, const DepthIds &e) {
  return t.check(e.first_U, e.last_u, e.prev_u);
}
SeqVerdict check_spot(BinanceSpotSequence &t, const DepthIds &e) {
  return t.check(e.first_U, e.last_u);
}

class SequenceTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    usdm_ = new Stream;
    read_hftbacktest("binance/hftbacktest/usdm_btcusdt_20240808.gz", *usdm_);
    spot_ = new Stream;
    read_hftbacktest("binance/hftbacktest/spot_btcusdt_20240808.gz", *spot_);
    read_hftbacktest("binance/hftbacktest/spot_btcusdt_20240809.gz", *spot_);
  }
  static void TearDownTestSuite() {
    delete usdm_;
    delete spot_;
  }
  // Index of the first Apply in a clean run, and a point well inside the synced stream.
  static std::size_t first_apply(const Counts &c) {
    for (std::size_t i = 0; i < c.verdicts.size(); ++i)
      if (c.verdicts[i] == SeqVerdict::Apply)
        return i;
    return SIZE_MAX;
  }
  static inline Stream *usdm_ = nullptr;
  static inline Stream *spot_ = nullptr;
};

TEST_F(SequenceTest, CapturesHaveTheirInlineSnapshots) {
  ASSERT_TRUE(usdm_->has_snapshot);
  ASSERT_TRUE(spot_->has_snapshot);
  EXPECT_EQ(spot_->last_update_id, 50093239218U); // PROVENANCE.md
  EXPECT_EQ(usdm_->events.size(), 6551U);
  EXPECT_EQ(spot_->events.size(), 6495U);
}

TEST_F(SequenceTest, FuturesPuChainAppliesEveryEventOfTheUsdmCapture) {
  const Counts c =
      drive<BinanceFuturesSequence>(usdm_->events, usdm_->last_update_id, check_futures);
  EXPECT_EQ(c.apply, 6547U);
  EXPECT_EQ(c.gap, 0U);
  EXPECT_EQ(c.drop, usdm_->events.size() - 6547U);
  // Drops are only the stale events before the straddling one.
  const std::size_t first = first_apply(c);
  EXPECT_EQ(first, c.drop);
  const DepthIds &e = usdm_->events[first];
  EXPECT_LE(e.first_U, usdm_->last_update_id);
  EXPECT_GE(e.last_u, usdm_->last_update_id);
}

TEST_F(SequenceTest, SpotChainAppliesEveryEventAcrossTheMidnightSplit) {
  const Counts c = drive<BinanceSpotSequence>(spot_->events, spot_->last_update_id, check_spot);
  EXPECT_EQ(c.apply, 6493U);
  EXPECT_EQ(c.gap, 0U);
  EXPECT_EQ(c.drop, 2U);
  const std::size_t first = first_apply(c);
  EXPECT_EQ(first, 2U);
  const DepthIds &e = spot_->events[first];
  EXPECT_LE(e.first_U, spot_->last_update_id + 1);
  EXPECT_GE(e.last_u, spot_->last_update_id + 1);
}

TEST_F(SequenceTest, ReportsGapWhenAFuturesMessageIsMissing) {
  const Counts clean =
      drive<BinanceFuturesSequence>(usdm_->events, usdm_->last_update_id, check_futures);
  for (const std::size_t k :
       {first_apply(clean) + 1, usdm_->events.size() / 2, usdm_->events.size() - 2}) {
    std::vector<DepthIds> events = usdm_->events;
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(k));
    const Counts c = drive<BinanceFuturesSequence>(events, usdm_->last_update_id, check_futures);
    EXPECT_EQ(c.first_gap, k) << "removed event " << k;
    EXPECT_EQ(c.apply, k - first_apply(clean)) << "everything before the hole applies";
  }
}

TEST_F(SequenceTest, ReportsGapWhenASpotMessageIsMissing) {
  const Counts clean = drive<BinanceSpotSequence>(spot_->events, spot_->last_update_id, check_spot);
  for (const std::size_t k :
       {first_apply(clean) + 1, spot_->events.size() / 2, spot_->events.size() - 2}) {
    std::vector<DepthIds> events = spot_->events;
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(k));
    const Counts c = drive<BinanceSpotSequence>(events, spot_->last_update_id, check_spot);
    EXPECT_EQ(c.first_gap, k) << "removed event " << k;
    EXPECT_EQ(c.apply, k - first_apply(clean));
  }
}

TEST_F(SequenceTest, ReportsGapWhenTheSnapshotIsTooOldForTheStraddlingEvent) {
  // Removing the straddling event: the next one starts after lastUpdateId + 1 (spot) or
  // after lastUpdateId (futures), i.e. the snapshot is too old for the stream.
  {
    const Counts clean =
        drive<BinanceSpotSequence>(spot_->events, spot_->last_update_id, check_spot);
    std::vector<DepthIds> events = spot_->events;
    const std::size_t k = first_apply(clean);
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(k));
    const Counts c = drive<BinanceSpotSequence>(events, spot_->last_update_id, check_spot);
    EXPECT_EQ(c.first_gap, k);
    EXPECT_EQ(c.apply, 0U);
  }
  {
    const Counts clean =
        drive<BinanceFuturesSequence>(usdm_->events, usdm_->last_update_id, check_futures);
    std::vector<DepthIds> events = usdm_->events;
    const std::size_t k = first_apply(clean);
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(k));
    const Counts c = drive<BinanceFuturesSequence>(events, usdm_->last_update_id, check_futures);
    EXPECT_EQ(c.first_gap, k);
    EXPECT_EQ(c.apply, 0U);
  }
}

TEST_F(SequenceTest, DropsADuplicatedMessageAndKeepsApplying) {
  const Counts fclean =
      drive<BinanceFuturesSequence>(usdm_->events, usdm_->last_update_id, check_futures);
  const std::size_t fk = usdm_->events.size() / 3;
  std::vector<DepthIds> fevents = usdm_->events;
  fevents.insert(fevents.begin() + static_cast<std::ptrdiff_t>(fk) + 1, fevents[fk]);
  const Counts f = drive<BinanceFuturesSequence>(fevents, usdm_->last_update_id, check_futures);
  EXPECT_EQ(f.verdicts[fk], SeqVerdict::Apply);
  EXPECT_EQ(f.verdicts[fk + 1], SeqVerdict::Drop);
  EXPECT_EQ(f.apply, fclean.apply);
  EXPECT_EQ(f.gap, 0U);

  const Counts sclean =
      drive<BinanceSpotSequence>(spot_->events, spot_->last_update_id, check_spot);
  const std::size_t sk = spot_->events.size() / 3;
  std::vector<DepthIds> sevents = spot_->events;
  sevents.insert(sevents.begin() + static_cast<std::ptrdiff_t>(sk) + 1, sevents[sk]);
  const Counts s = drive<BinanceSpotSequence>(sevents, spot_->last_update_id, check_spot);
  EXPECT_EQ(s.verdicts[sk], SeqVerdict::Apply);
  EXPECT_EQ(s.verdicts[sk + 1], SeqVerdict::Drop);
  EXPECT_EQ(s.apply, sclean.apply);
  EXPECT_EQ(s.gap, 0U);
}

TEST_F(SequenceTest, EveryEventIsAGapWithoutASnapshot) {
  BinanceSpotSequence spot;
  BinanceFuturesSequence fut;
  for (const auto &e : spot_->events)
    ASSERT_EQ(spot.check(e.first_U, e.last_u), SeqVerdict::Gap);
  for (const auto &e : usdm_->events)
    ASSERT_EQ(fut.check(e.first_U, e.last_u, e.prev_u), SeqVerdict::Gap);
  EXPECT_FALSE(spot.has_snapshot());
  EXPECT_FALSE(fut.has_snapshot());
}

TEST_F(SequenceTest, ResetForgetsTheSnapshot) {
  BinanceFuturesSequence fut;
  fut.on_snapshot(usdm_->last_update_id);
  EXPECT_TRUE(fut.has_snapshot());
  EXPECT_EQ(fut.last(), usdm_->last_update_id);
  fut.reset();
  EXPECT_FALSE(fut.has_snapshot());
  BinanceSpotSequence spot;
  spot.on_snapshot(spot_->last_update_id);
  spot.reset();
  EXPECT_FALSE(spot.has_snapshot());
}

TEST_F(SequenceTest, LastFollowsTheAppliedChain) {
  BinanceSpotSequence t;
  t.on_snapshot(spot_->last_update_id);
  for (const auto &e : spot_->events) {
    if (t.check(e.first_U, e.last_u) == SeqVerdict::Apply) {
      ASSERT_EQ(t.last(), e.last_u);
    }
  }
  EXPECT_EQ(t.last(), spot_->events.back().last_u);
}

// OKX: seqId/prevSeqId chains built from the real Binance spot ids (each event's u as its
// seqId, the previous event's u as its prevSeqId), since none of our OKX recordings carry
// seqId. The rules under test are VENUE_RULES.md's.
class OkxSequenceTest : public SequenceTest {
protected:
  struct Msg {
    std::int64_t seq;
    std::int64_t prev;
  };
  static std::vector<Msg> chain() {
    std::vector<Msg> out;
    std::int64_t prev = static_cast<std::int64_t>(spot_->last_update_id);
    for (std::size_t i = 2; i < spot_->events.size(); ++i) { // after the 2 stale ones
      const auto seq = static_cast<std::int64_t>(spot_->events[i].last_u);
      out.push_back({seq, prev});
      prev = seq;
    }
    return out;
  }
};

TEST_F(OkxSequenceTest, AppliesAnUnbrokenChainAfterTheSnapshot) {
  OkxSequence t;
  t.on_snapshot(static_cast<std::int64_t>(spot_->last_update_id));
  const auto msgs = chain();
  for (const auto &m : msgs)
    ASSERT_EQ(t.check(m.seq, m.prev), SeqVerdict::Apply);
  EXPECT_EQ(t.last(), msgs.back().seq);
}

TEST_F(OkxSequenceTest, AcceptsTheNoChangeMessageThatRepeatsSeqId) {
  OkxSequence t;
  t.on_snapshot(static_cast<std::int64_t>(spot_->last_update_id));
  for (const auto &m : chain()) {
    ASSERT_EQ(t.check(m.seq, m.prev), SeqVerdict::Apply);
    ASSERT_EQ(t.check(m.seq, m.seq), SeqVerdict::Apply); // prevSeqId == seqId: no change
    ASSERT_EQ(t.last(), m.seq);
  }
}

TEST_F(OkxSequenceTest, ReportsGapWhenAMessageIsMissingAndDropsDuplicates) {
  const auto msgs = chain();
  OkxSequence t;
  t.on_snapshot(static_cast<std::int64_t>(spot_->last_update_id));
  const std::size_t k = msgs.size() / 2;
  for (std::size_t i = 0; i < k; ++i)
    ASSERT_EQ(t.check(msgs[i].seq, msgs[i].prev), SeqVerdict::Apply);
  EXPECT_EQ(t.check(msgs[k - 1].seq, msgs[k - 1].prev), SeqVerdict::Drop); // duplicate
  EXPECT_EQ(t.check(msgs[k + 1].seq, msgs[k + 1].prev), SeqVerdict::Gap);  // msgs[k] lost
  EXPECT_EQ(t.last(), msgs[k - 1].seq) << "a gap leaves the state alone";
}

TEST_F(OkxSequenceTest, ReportsGapWhenTheVenueResetsItsSequence) {
  const auto msgs = chain();
  OkxSequence t;
  t.on_snapshot(static_cast<std::int64_t>(spot_->last_update_id));
  ASSERT_EQ(t.check(msgs[0].seq, msgs[0].prev), SeqVerdict::Apply);
  // seqId < prevSeqId: the venue restarted its numbering (new seqId = an older real id).
  EXPECT_EQ(t.check(msgs[0].prev, msgs[0].seq), SeqVerdict::Gap);
  OkxSequence fresh;
  EXPECT_EQ(fresh.check(msgs[0].seq, msgs[0].prev), SeqVerdict::Gap) << "no snapshot yet";
}

TEST_F(OkxSequenceTest, NamesEveryVerdict) {
  EXPECT_STREQ(to_cstring(SeqVerdict::Apply), "apply");
  EXPECT_STREQ(to_cstring(SeqVerdict::Drop), "drop");
  EXPECT_STREQ(to_cstring(SeqVerdict::Gap), "gap");
}

} // namespace
} // namespace fh::book
