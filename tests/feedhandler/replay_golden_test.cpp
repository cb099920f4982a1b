// labels: replay
// Golden replays of every OKX, Kraken and Binance capture in data/. Expected numbers are the
// venue's own oracles as counted independently in data/PROVENANCE.md (checksums that the
// venue computed, update-id chains, bookTicker matches), never our own earlier output.
#include <gtest/gtest.h>

#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

class ReplayGolden : public ::testing::TestWithParam<bool> {
protected:
  ReplayOptions options() const {
    ReplayOptions o;
    o.threaded = GetParam();
    return o;
  }
  std::unique_ptr<Replay> run(const std::vector<std::string>& files) {
    auto r = open_replay(files, options());
    if (r) r->run();
    return r;
  }
};

TEST_P(ReplayGolden, OkxBooksL2Tbt20220227EveryChecksumVerifies) {
  auto r = run({"okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz",
                "okx/cryptofeed/instruments_2022-02-27_http.txt.gz"});
  ASSERT_TRUE(r);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.checksum_ok, 3679u);
  EXPECT_EQ(s.c.checksum_fail, 0u);
  EXPECT_EQ(s.c.snapshots, 20u); // each of the 10 instruments snapshotted twice
  EXPECT_EQ(s.books, 10u);
  EXPECT_EQ(s.synced, 10u);
  EXPECT_EQ(r->totals().parse_errors, 0u);
  EXPECT_EQ(r->totals().unknown_instruments, 0u);
}

TEST_P(ReplayGolden, OkxThreeParallelConnections20210722EveryChecksumVerifies) {
  const char* conns[] = {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
                         "okx/cryptofeed/books-l2-tbt_2021-07-22_conn2_ws.txt.gz",
                         "okx/cryptofeed/books-l2-tbt_2021-07-22_conn3_ws.txt.gz"};
  const std::uint64_t expected[] = {1504, 1446, 1422};
  for (int i = 0; i < 3; ++i) {
    auto r = run({conns[i], "okx/cryptofeed/instruments_2021-07-22_http.txt.gz"});
    ASSERT_TRUE(r);
    const Sum s = sum_books(*r);
    EXPECT_EQ(s.c.checksum_ok, expected[i]) << conns[i];
    EXPECT_EQ(s.c.checksum_fail, 0u) << conns[i];
    EXPECT_EQ(s.not_synced, 0u) << conns[i];
    EXPECT_EQ(r->totals().parse_errors, 0u) << conns[i];
  }
}

TEST_P(ReplayGolden, KrakenBook1000EveryChecksumVerifies) {
  auto r = run({"kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz",
                "kraken/cryptofeed/AssetPairs_2021-04-17_http.txt.gz"});
  ASSERT_TRUE(r);
  const Sum s = sum_books(*r);
  EXPECT_EQ(s.c.checksum_ok, 4269u);
  EXPECT_EQ(s.c.checksum_fail, 0u);
  EXPECT_EQ(s.c.snapshots, 10u);
  EXPECT_EQ(s.synced, 10u);
  EXPECT_EQ(r->totals().parse_errors, 0u);
}

struct BinanceCase {
  std::vector<std::string> files;
  std::uint64_t applied;   // PROVENANCE.md "applied"
  std::int64_t bbo_ok;     // PROVENANCE.md exact bookTicker matches; -1: not stated
  std::size_t books;
};

TEST_P(ReplayGolden, BinanceHftbacktestCapturesSyncWithZeroGaps) {
  const BinanceCase cases[] = {
      {{"binance/hftbacktest/usdm_btcusdt_20240808.gz"}, 6547, 126, 1},
      {{"binance/hftbacktest/usdm_btcusdt_20240718.gz", "binance/hftbacktest/usdm_btcusdt_20240719.gz"},
       9017, 106, 1},
      {{"binance/hftbacktest/spot_btcusdt_20240808.gz", "binance/hftbacktest/spot_btcusdt_20240809.gz"},
       6493, -1, 1},
      {{"binance/hftbacktest/coinm_btcusd_perp_20240808.gz",
        "binance/hftbacktest/coinm_btcusd_perp_20240809.gz"},
       44772, -1, 1},
  };
  for (const auto& c : cases) {
    auto r = run(c.files);
    ASSERT_TRUE(r);
    const Sum s = sum_books(*r);
    SCOPED_TRACE(c.files[0]);
    EXPECT_EQ(s.books, c.books);
    EXPECT_EQ(s.synced, c.books);
    EXPECT_EQ(s.c.seq_gaps, 0u);
    EXPECT_EQ(s.c.applied, c.applied);
    EXPECT_EQ(s.c.snapshots, 1u);
    if (c.bbo_ok >= 0) {
      EXPECT_EQ(s.c.bbo_checks_ok, static_cast<std::uint64_t>(c.bbo_ok));
    }
    EXPECT_EQ(s.c.bbo_checks_fail, 0u);
    EXPECT_EQ(r->totals().parse_errors, 0u);
  }
}

TEST_P(ReplayGolden, BinanceCryptofeedCapturesSyncEverySymbol) {
  const BinanceCase cases[] = {
      {{"binance/cryptofeed/spot_2021-10-12_ws.txt.gz",
        "binance/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz",
        "binance/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz"},
       0, -1, 4},
      {{"binance/cryptofeed/spot_2021-08-14_ws.txt.gz",
        "binance/cryptofeed/spot_2021-08-14_depth_snapshots_http.txt.gz",
        "binance/cryptofeed/spot_2021-08-14_exchangeInfo_http.txt.gz"},
       0, -1, 4},
      {{"binance/cryptofeed/usdm_2021-07-22_ws.txt.gz",
        "binance/cryptofeed/usdm_2021-07-22_depth_snapshots_http.txt.gz",
        "binance/cryptofeed/usdm_2021-07-22_exchangeInfo_http.txt.gz"},
       0, -1, 4},
      {{"binance/cryptofeed/coinm_2021-07-22_ws.txt.gz",
        "binance/cryptofeed/coinm_2021-07-22_depth_snapshots_http.txt.gz",
        "binance/cryptofeed/coinm_2021-07-22_exchangeInfo_http.txt.gz"},
       0, 3, 10},
      {{"binance_us/cryptofeed/spot_2021-10-12_ws.txt.gz",
        "binance_us/cryptofeed/spot_2021-10-12_depth_snapshots_http.txt.gz",
        "binance_us/cryptofeed/spot_2021-10-12_exchangeInfo_http.txt.gz"},
       0, -1, 4},
  };
  for (const auto& c : cases) {
    auto r = run(c.files);
    ASSERT_TRUE(r);
    SCOPED_TRACE(c.files[0]);
    const Sum s = sum_books(*r);
    EXPECT_EQ(s.books, c.books);
    EXPECT_EQ(s.synced, c.books);
    EXPECT_EQ(s.c.seq_gaps, 0u);
    EXPECT_EQ(s.c.snapshots, c.books);
    EXPECT_GT(s.c.applied, 0u);
    if (c.bbo_ok >= 0) {
      EXPECT_EQ(s.c.bbo_checks_ok, static_cast<std::uint64_t>(c.bbo_ok));
    }
    EXPECT_EQ(s.c.bbo_checks_fail, 0u);
    EXPECT_EQ(r->totals().parse_errors, 0u);
    EXPECT_EQ(r->totals().unknown_instruments, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(FusedAndThreaded, ReplayGolden, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "threaded" : "fused"; });

} // namespace
} // namespace fh::test
