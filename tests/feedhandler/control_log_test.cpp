// The control-path log: one logfmt line per event, values quoted when they need it, and a
// per-event rate limit whose suppressed lines are counted and reported on the next line.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "feedhandler/control_log.hpp"

namespace fh {
namespace {

class ControlLogTest : public ::testing::Test {
protected:
  void SetUp() override { out_ = open_memstream(&buf_, &len_); }
  void TearDown() override {
    if (out_ != nullptr) std::fclose(out_);
    std::free(buf_);
  }
  std::string text() {
    std::fflush(out_);
    return std::string(buf_, len_);
  }
  static std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }
  char* buf_ = nullptr;
  std::size_t len_ = 0;
  std::FILE* out_ = nullptr;
};

TEST_F(ControlLogTest, WritesOneLogfmtLinePerEventWithQuotedValuesWhereNeeded) {
  ControlLog log(LogLevel::Info, out_);
  log.warn("session.disconnected", {{"venue", "okx"}, {"conn", 3}, {"reason", "ws: closed \"now\""}});
  const std::string t = text();
  EXPECT_EQ(count(t, "\n"), 1u);
  EXPECT_EQ(t.rfind("ts=", 0), 0u);
  EXPECT_NE(t.find(" level=warn event=session.disconnected venue=okx conn=3 "
                   "reason=\"ws: closed \\\"now\\\"\"\n"),
            std::string::npos)
      << t;
}

TEST_F(ControlLogTest, DropsLinesBelowTheLevel) {
  ControlLog log(LogLevel::Warn, out_);
  log.info("start");
  log.error("stop");
  const std::string t = text();
  EXPECT_EQ(t.find("event=start"), std::string::npos);
  EXPECT_NE(t.find("level=error event=stop"), std::string::npos);
}

TEST_F(ControlLogTest, RateLimitsEachEventAndReportsWhatItSuppressed) {
  ControlLog log(LogLevel::Info, out_, 3, 100);
  for (int i = 0; i < 10; ++i) log.warn("reconnect", {{"n", i}});
  log.warn("other");
  std::string t = text();
  EXPECT_EQ(count(t, "event=reconnect"), 3u); // burst of 3 in the window
  EXPECT_EQ(count(t, "event=other"), 1u);     // limits are per event
  EXPECT_EQ(log.suppressed(), 7u);
  std::this_thread::sleep_for(std::chrono::milliseconds(150)); // next window
  log.warn("reconnect", {{"n", 10}});
  t = text();
  EXPECT_EQ(count(t, "event=reconnect"), 4u);
  EXPECT_NE(t.find("n=10 suppressed=7\n"), std::string::npos) << t;
}

TEST(LogLevelTest, ParsesTheFourNamesAndRefusesOthers) {
  LogLevel l = LogLevel::Info;
  EXPECT_TRUE(parse_log_level("debug", l));
  EXPECT_EQ(l, LogLevel::Debug);
  EXPECT_TRUE(parse_log_level("error", l));
  EXPECT_EQ(l, LogLevel::Error);
  EXPECT_FALSE(parse_log_level("verbose", l));
}

} // namespace
} // namespace fh
