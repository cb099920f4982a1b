// labels: replay concurrent
// The pipelined shape (parser thread -> SPSC ring -> book thread) must end with exactly the
// books and counters of the fused shape on the same real capture; runs under TSan in CI.
// Pinning to cores that do not exist must degrade to unpinned, not fail.
#include <gtest/gtest.h>

#include "tests/support/replay_helpers.hpp"

namespace fh::test {
namespace {

TEST(ThreadedPipeline, EndsWithTheSameBooksAsTheFusedPipeline) {
  const std::vector<std::string> files = {"okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
                                          "okx/cryptofeed/instruments_2021-07-22_http.txt.gz"};
  auto fused = open_replay(files);
  ReplayOptions threaded_opts;
  threaded_opts.threaded = true;
  threaded_opts.book_core = 4096; // no such core: must run unpinned and say so
  auto threaded = open_replay(files, threaded_opts);
  fused->run();
  threaded->run();
  EXPECT_FALSE(threaded->totals().pin_error.empty());
  const Sum a = sum_books(*fused), b = sum_books(*threaded);
  EXPECT_EQ(a.c.checksum_ok, 1504u);
  EXPECT_EQ(b.c.checksum_ok, a.c.checksum_ok);
  EXPECT_EQ(b.c.checksum_fail, 0u);
  EXPECT_EQ(b.c.applied, a.c.applied);
  EXPECT_EQ(b.synced, a.synced);
  for (std::uint32_t id = 0; id < fused->builder().instrument_slots(); ++id) {
    const InstrumentBook* x = fused->builder().book(id);
    if (x == nullptr) continue;
    const InstrumentBook* y = book_of(*threaded, Venue::Okx, x->instrument().native);
    ASSERT_NE(y, nullptr);
    for (auto side : {book::Side::Bid, book::Side::Ask}) {
      ASSERT_EQ(x->book().depth(side), y->book().depth(side));
      for (std::size_t i = 0; i < x->book().depth(side); ++i) {
        EXPECT_EQ(x->book().at(side, i).price, y->book().at(side, i).price);
        EXPECT_EQ(x->book().at(side, i).qty, y->book().at(side, i).qty);
      }
    }
  }
}

} // namespace
} // namespace fh::test
