// labels: replay live
// The `feedhandler` binary as a user runs it: every example config in docs/config validates;
// a config pointing at fh-venue (serving the real OKX capture over TLS with a CA made at run
// time) runs the whole live path into a shared-memory segment; SIGTERM shuts it down cleanly
// (exit 0, segment Closed and still readable); the books in shm then equal the offline
// replay's, every OKX checksum verified (PROVENANCE.md: 3,679), and the recording it made
// replays offline to the same books.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/live_helpers.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/venue_process.hpp"

extern char** environ;

namespace fh::test {
namespace {

const std::string kFeedhandler = std::string(FH_BINARY_DIR) + "/feedhandler/feedhandler";
const std::string kInspect = std::string(FH_BINARY_DIR) + "/tools/fh-inspect";
const std::string kReplay = std::string(FH_BINARY_DIR) + "/tools/fh-replay";
const char* kWs = "okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz";
const char* kHttp = "okx/cryptofeed/instruments_2022-02-27_http.txt.gz";

std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string last_line(const std::string& s) {
  const auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  const auto start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1,
                  end - (start == std::string::npos ? 0 : start + 1) + 1);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// instrument -> "status bid/ask" from `fh-inspect list --json`.
std::map<std::string, std::string> shm_books(const std::string& segment) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::array list;
  const std::string json = run(kInspect + " --shm " + segment + " --json list");
  if (parser.parse(json).get(list) != simdjson::SUCCESS) return out;
  for (auto e : list) {
    std::string_view venue, canonical, status, bid, ask;
    if (e["venue"].get(venue) || e["canonical"].get(canonical) || e["status"].get(status)) continue;
    if (e["bid"].get(bid) != simdjson::SUCCESS) bid = "null"; // null: empty side
    if (e["ask"].get(ask) != simdjson::SUCCESS) ask = "null"; // null: empty side
    out[std::string(venue) + ":" + std::string(canonical)] =
        std::string(status) + " " + std::string(bid) + "/" + std::string(ask);
  }
  return out;
}

// instrument -> "synced bid/ask" from a summary JSON's per_instrument.
std::map<std::string, std::string> summary_books(const std::string& json) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array per;
  if (parser.parse(json).get(doc) || doc["per_instrument"].get(per)) return out;
  for (auto e : per) {
    std::string_view name, state, bid, ask;
    if (e["instrument"].get(name) || e["state"].get(state)) continue;
    if (e["best_bid"].get(bid) != simdjson::SUCCESS) bid = "null";
    if (e["best_ask"].get(ask) != simdjson::SUCCESS) ask = "null";
    out[std::string(name)] = std::string(state) + " " + std::string(bid) + "/" + std::string(ask);
  }
  return out;
}

std::uint64_t journal_tail(const std::string& segment) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::uint64_t tail = 0;
  const std::string json = run(kInspect + " --shm " + segment + " --json stats");
  if (parser.parse(json).get(doc) || doc["journal"]["tail"].get(tail)) return 0;
  return tail;
}

TEST(FeedhandlerCli, EveryExampleConfigValidates) {
  std::size_t configs = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(FH_SOURCE_DIR) + "/docs/config")) {
    if (e.path().extension() != ".toml") continue;
    ++configs;
    int status = -1;
    const std::string out = run(kFeedhandler + " --check --config " + e.path().string(), &status);
    EXPECT_EQ(status, 0) << e.path();
    EXPECT_NE(out.find("connection 0: "), std::string::npos) << e.path() << ": " << out;
  }
  EXPECT_GE(configs, 5u);
}

TEST(FeedhandlerCli, ABadConfigIsRefusedWithTheKeyNamed) {
  const std::string path = ::testing::TempDir() + "fh_cli_bad.toml";
  std::ofstream(path) << "[feedhandler]\ningest_cor = 1\n";
  int status = -1;
  const std::string cmd = kFeedhandler + " --config " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("ingest_cor"), std::string::npos) << out;
}

TEST(FeedhandlerCli, RunsAgainstTheLocalVenueIntoShmAndShutsDownCleanlyOnSigterm) {
  TestCerts certs;
  ASSERT_EQ(certs.error(), "");
  VenueProcess venue;
  ASSERT_EQ(venue.start({"--listen", "127.0.0.1:0", "--cert", certs.localhost_cert(), "--key",
                         certs.localhost_key(), "--pace", "flat", data_path(kWs), data_path(kHttp)},
                        ::testing::TempDir() + "fh_cli_venue.log"),
            "");
  const std::string port = std::to_string(venue.port());
  const std::string segment = "fh-cli-test-" + std::to_string(getpid());
  const std::string record_dir = ::testing::TempDir() + "fh_cli_record";
  std::filesystem::remove_all(record_dir);
  std::string symbols;
  for (const auto& n : recorded_okx_natives(kWs)) symbols += (symbols.empty() ? "\"" : ",\"") + n + "\"";
  const std::string config = ::testing::TempDir() + "fh_cli_okx.toml";
  std::ofstream(config) << "[feedhandler]\nmode = \"pipelined\"\n"
                        << "[shm]\nname = \"" << segment << "\"\n"
                        << "[record]\ndirectory = \"" << record_dir << "\"\n"
                        << "[tls]\nca_file = \"" << certs.ca() << "\"\n"
                        << "[[venue]]\nname = \"okx\"\nws_url = \"wss://127.0.0.1:" << port
                        << "/ws/v5/public\"\nrest_url = \"https://127.0.0.1:" << port
                        << "\"\nsymbols = [" << symbols << "]\nbook_channel = \"books-l2-tbt\"\n";

  const std::string out_path = ::testing::TempDir() + "fh_cli.out";
  const std::string log_path = ::testing::TempDir() + "fh_cli.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args{kFeedhandler, "--config", config, "--summary"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, kFeedhandler.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);

  // Wait until all 10 books are synced in shm and the journal has stopped moving (fh-venue has
  // sent the whole capture), then ask for a graceful stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::uint64_t last_tail = 0;
  auto stable_since = std::chrono::steady_clock::now();
  bool settled = false;
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t tail = journal_tail(segment);
    if (tail != last_tail || tail == 0) {
      last_tail = tail;
      stable_since = std::chrono::steady_clock::now();
      continue;
    }
    const auto books = shm_books(segment);
    std::size_t synced = 0;
    for (const auto& [name, state] : books) synced += state.starts_with("synced");
    settled = synced == 10 && std::chrono::steady_clock::now() - stable_since > std::chrono::seconds(1);
  }
  EXPECT_TRUE(settled) << slurp(log_path);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << slurp(log_path);
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(log_path);

  const std::string log = slurp(log_path);
  EXPECT_NE(log.find("event=stop signal=15"), std::string::npos) << log;
  EXPECT_EQ(log.find("level=error"), std::string::npos) << log;

  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  const std::string summary_json = last_line(slurp(out_path));
  ASSERT_EQ(parser.parse(summary_json).get(summary), simdjson::SUCCESS) << summary_json;
  EXPECT_EQ(summary["checksum_ok"].get_uint64().value(), 3679u); // PROVENANCE.md
  EXPECT_EQ(summary["checksum_fail"].get_uint64().value(), 0u);
  EXPECT_EQ(summary["messages"].get_uint64().value(), 3777u);   // every recorded frame
  EXPECT_EQ(summary["books_synced"].get_uint64().value(), 10u);
  EXPECT_EQ(summary["recorder_dropped"].get_uint64().value(), 0u);

  // The segment outlives the process: Closed, and its books are the offline replay's.
  simdjson::dom::element stats;
  const std::string stats_json = run(kInspect + " --shm " + segment + " --json stats");
  ASSERT_EQ(parser.parse(stats_json).get(stats), simdjson::SUCCESS) << stats_json;
  EXPECT_EQ(std::string_view(stats["writer"]["state"].get_string().value()), "closed");
  const std::string offline =
      last_line(run(kReplay + " --depth 0 --no-progress " + data_path(kWs) + " " + data_path(kHttp)));
  const auto expected = summary_books(offline);
  ASSERT_EQ(expected.size(), 10u);
  EXPECT_EQ(shm_books(segment), expected);

  // The recording replays offline to the same books.
  std::string files;
  for (const auto& e : std::filesystem::directory_iterator(record_dir)) files += " " + e.path().string();
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(summary_books(last_line(run(kReplay + " --depth 0 --no-progress" + files))), expected);
  std::filesystem::remove("/dev/shm/" + segment);
  std::filesystem::remove_all(record_dir);
}

} // namespace
} // namespace fh::test
