// labels: unit
// The example configurations in docs/config load and plan connections to the venues' real
// endpoints; mechanically broken copies of them (a key misspelt, a wrong type, a value out of
// range, an unknown venue, a world-readable shm mode) are refused with the file, line and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include "feedhandler/config.hpp"

namespace fh {
namespace {

const std::string kDir = std::string(FH_SOURCE_DIR) + "/docs/config/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Config load_ok(const std::string& name) {
  auto c = load_config(kDir + name);
  if (auto* e = std::get_if<std::string>(&c)) {
    ADD_FAILURE() << *e;
    return {};
  }
  return std::get<Config>(c);
}

std::string error_of(const std::string& text) {
  auto c = parse_config(text, "broken.toml");
  if (std::holds_alternative<Config>(c)) return "";
  return std::get<std::string>(c);
}

// Replaces the first occurrence of `from` (which must exist) in `text`.
std::string edit(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigTest, EveryExampleLoadsAndPlansConnectionsToTheRealEndpoints) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    const Config c = load_ok(entry.path().filename().string());
    ASSERT_FALSE(c.venues.empty()) << entry.path();
    for (const auto& v : c.venues) {
      const auto plans = venues::plan_connections(v.venue, v.subscriptions, v.ws_url);
      ASSERT_FALSE(plans.empty()) << entry.path();
      for (const auto& p : plans) {
        EXPECT_EQ(p.url.rfind(std::string(venues::live_profile(v.venue).ws_url), 0), 0u)
            << "example should use the venue's real endpoint: " << p.url;
      }
    }
  }
  EXPECT_GE(files, 5u); // one per venue + all
}

TEST(ConfigTest, AllExampleHoldsEveryLiveVenueAndItsSettings) {
  const Config c = load_ok("all.toml");
  EXPECT_TRUE(c.pipelined);
  EXPECT_EQ(c.ingest_core, 0);
  EXPECT_EQ(c.book_core, 1);
  EXPECT_EQ(c.shm.name, "fh-main");
  EXPECT_EQ(c.shm.mode, 0640u);
  EXPECT_EQ(c.record.directory, "recordings");
  EXPECT_EQ(c.record.rotate_bytes, 1024ull << 20);
  EXPECT_FALSE(c.tls.insecure_skip_verify);
  ASSERT_EQ(c.venues.size(), 5u);
  EXPECT_EQ(c.venues[3].venue, Venue::Okx);
  EXPECT_EQ(c.venues[3].subscriptions.natives.size(), 3u);
  EXPECT_EQ(c.venues[4].subscriptions.kraken_api, venues::KrakenApi::V2);
}

TEST(ConfigTest, BrokenCopiesAreRefusedWithFileLineAndKey) {
  const std::string all = read(kDir + "all.toml");
  struct Case {
    std::string from, to, expect;
  };
  const Case cases[] = {
      {"ingest_core = 0", "ingest_cores = 0", "feedhandler.ingest_cores: unknown key"},
      {"ingest_core = 0", "ingest_core = \"0\"", "feedhandler.ingest_core: expected an integer"},
      {"depth = 10", "depth = 500", "shm.depth: must be between 1 and 64"},
      {"journal_records = 1048576", "journal_records = 1000000", "shm.journal_records: must be a power of two"},
      {"mode = \"0640\"", "mode = \"0644\"", "shm.mode: expected an octal mode string without world access"},
      {"name = \"kraken\"", "name = \"krakken\"", "venue[4].name: unknown venue 'krakken'"},
      {"symbols = [\"BTC/USD\", \"ETH/USD\"]", "symbols = []", "venue[4].symbols: at least one symbol"},
      {"mode = \"pipelined\"", "mode = \"threaded\"", "feedhandler.mode: expected \"pipelined\" or \"fused\""},
      {"insecure_skip_verify = false", "insecure_skip_verify = 0", "tls.insecure_skip_verify: expected true or false"},
  };
  for (const Case& k : cases) {
    const std::string e = error_of(edit(all, k.from, k.to));
    EXPECT_NE(e.find(k.expect), std::string::npos) << "got: " << e;
    EXPECT_EQ(e.rfind("broken.toml:", 0), 0u) << e; // file and line first
  }
  // A TOML syntax error names its line.
  const std::string syntax = error_of(edit(all, "[shm]", "[shm"));
  EXPECT_EQ(syntax.rfind("broken.toml:", 0), 0u) << syntax;
  // No venue at all.
  EXPECT_NE(error_of("[shm]\nname = \"x\"\n").find("no [[venue]]"), std::string::npos);
}

TEST(ConfigTest, AMissingFileIsAnError) {
  auto c = load_config(kDir + "does-not-exist.toml");
  ASSERT_TRUE(std::holds_alternative<std::string>(c));
  EXPECT_NE(std::get<std::string>(c).find("cannot open"), std::string::npos);
}

} // namespace
} // namespace fh
