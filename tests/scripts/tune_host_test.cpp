// labels: unit
// scripts/tune-host.sh: the --check --json object a benchmark stores next to its results has
// every stable key, its values are what the kernel's own files say (read here independently),
// and --apply refuses bad arguments and writes nothing with --dry-run. --apply itself is not
// run: it would retune the shared host.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace {

constexpr std::array<std::string_view, 13> kChecks = {
    "isolcpus",         "nohz_full",       "rcu_nocbs",  "irq_affinity", "irqbalance",
    "cpufreq_governor", "hugepages",       "thp",        "busy_poll",    "busy_read",
    "swappiness",       "timer_migration", "clocksource"};

struct ScriptRun {
  int status = -1; // exit status
  std::string out; // stdout
};

class TuneHostTest : public ::testing::Test {
protected:
  static ScriptRun run(const std::string &args) {
    const std::string cmd = "bash " FH_SOURCE_DIR "/scripts/tune-host.sh " + args + " 2>/dev/null";
    ScriptRun r;
    FILE *p = ::popen(cmd.c_str(), "r");
    if (p == nullptr)
      return r;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
      r.out.append(buf, n);
    const int w = ::pclose(p);
    r.status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
    return r;
  }
  static std::string first_line(const std::string &path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  }
  // The string a check reports as its value, or "" when absent.
  static std::string value_of(simdjson::dom::object checks, std::string_view key) {
    std::string_view v;
    if (checks[key]["value"].get(v) != simdjson::SUCCESS)
      return {};
    return std::string(v);
  }

  void SetUp() override {
    check_ = run("--check --json");
    ASSERT_EQ(check_.status, 0);
    ASSERT_EQ(parser_.parse(check_.out).get(root_), simdjson::SUCCESS) << check_.out;
    ASSERT_EQ(root_["checks"].get(checks_), simdjson::SUCCESS);
  }

  ScriptRun check_;
  simdjson::dom::parser parser_;
  simdjson::dom::object root_;
  simdjson::dom::object checks_;
};

TEST_F(TuneHostTest, CheckJsonIsOneLineWithEveryStableKey) {
  EXPECT_EQ(check_.out.find('\n'), check_.out.size() - 1);
  std::string_view tool;
  ASSERT_EQ(root_["tool"].get(tool), simdjson::SUCCESS);
  EXPECT_EQ(tool, "tune-host");
  std::int64_t schema = 0;
  ASSERT_EQ(root_["schema"].get(schema), simdjson::SUCCESS);
  EXPECT_EQ(schema, 1);
  for (const char *k : {"kernel", "cpu", "cpus_online", "cores"}) {
    std::string_view s;
    EXPECT_EQ(root_[k].get(s), simdjson::SUCCESS) << k;
  }
  EXPECT_EQ(checks_.size(), kChecks.size());
  for (std::string_view key : kChecks) {
    simdjson::dom::object c;
    ASSERT_EQ(checks_[key].get(c), simdjson::SUCCESS) << key;
    std::string_view value, recommended, status, note;
    EXPECT_EQ(c["value"].get(value), simdjson::SUCCESS) << key;
    EXPECT_FALSE(value.empty()) << key;
    EXPECT_EQ(c["recommended"].get(recommended), simdjson::SUCCESS) << key;
    EXPECT_EQ(c["note"].get(note), simdjson::SUCCESS) << key;
    ASSERT_EQ(c["status"].get(status), simdjson::SUCCESS) << key;
    EXPECT_TRUE(status == "ok" || status == "untuned" || status == "not_exposed")
        << key << ": " << status;
  }
}

TEST_F(TuneHostTest, SummaryCountsEachStatusOfTheRows) {
  std::int64_t ok = 0, untuned = 0, not_exposed = 0;
  for (auto [key, c] : checks_) {
    std::string_view status;
    ASSERT_EQ(c["status"].get(status), simdjson::SUCCESS);
    ok += status == "ok";
    untuned += status == "untuned";
    not_exposed += status == "not_exposed";
  }
  std::int64_t s_ok = -1, s_untuned = -1, s_not = -1;
  ASSERT_EQ(root_["summary"]["ok"].get(s_ok), simdjson::SUCCESS);
  ASSERT_EQ(root_["summary"]["untuned"].get(s_untuned), simdjson::SUCCESS);
  ASSERT_EQ(root_["summary"]["not_exposed"].get(s_not), simdjson::SUCCESS);
  EXPECT_EQ(s_ok, ok);
  EXPECT_EQ(s_untuned, untuned);
  EXPECT_EQ(s_not, not_exposed);
}

TEST_F(TuneHostTest, ValuesMatchTheKernelsOwnFiles) {
  std::int64_t cpus = 0;
  ASSERT_EQ(root_["cpu_count"].get(cpus), simdjson::SUCCESS);
  EXPECT_EQ(cpus, ::sysconf(_SC_NPROCESSORS_ONLN));

  EXPECT_EQ(value_of(checks_, "swappiness"), first_line("/proc/sys/vm/swappiness"));
  EXPECT_EQ(value_of(checks_, "timer_migration"), first_line("/proc/sys/kernel/timer_migration"));
  EXPECT_EQ(value_of(checks_, "busy_poll"), first_line("/proc/sys/net/core/busy_poll"));
  EXPECT_EQ(value_of(checks_, "busy_read"), first_line("/proc/sys/net/core/busy_read"));
  EXPECT_EQ(value_of(checks_, "clocksource"),
            first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource"));

  std::ifstream meminfo("/proc/meminfo");
  std::string line, hugepages;
  while (std::getline(meminfo, line))
    if (line.rfind("HugePages_Total:", 0) == 0)
      std::istringstream(line.substr(16)) >> hugepages;
  EXPECT_EQ(value_of(checks_, "hugepages"), hugepages);

  // isolcpus as the kernel was booted: the word on /proc/cmdline (before "--"), or none.
  std::istringstream cmdline(first_line("/proc/cmdline"));
  std::string word, isolcpus = "none";
  while (cmdline >> word && word != "--")
    if (word.rfind("isolcpus=", 0) == 0)
      isolcpus = word.substr(9);
  EXPECT_EQ(value_of(checks_, "isolcpus"), isolcpus);

  // THP: the bracketed choice in sysfs.
  const std::string thp = first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  const auto open = thp.find('['), close = thp.find(']');
  if (open != std::string::npos && close != std::string::npos) {
    EXPECT_EQ(value_of(checks_, "thp"), thp.substr(open + 1, close - open - 1));
  }
}

TEST_F(TuneHostTest, HumanTableHasARowPerCheck) {
  const ScriptRun table = run("--check");
  ASSERT_EQ(table.status, 0);
  for (std::string_view key : kChecks)
    EXPECT_NE(table.out.find("\n" + std::string(key) + " "), std::string::npos) << key;
}

TEST_F(TuneHostTest, ApplyRefusesWithoutCoresOrWithEveryCore) {
  EXPECT_EQ(run("--apply").status, 2);
  EXPECT_EQ(
      run("--apply --dry-run --cores 0-" + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN) - 1))
          .status,
      2);
  EXPECT_EQ(run("--apply --dry-run --cores two").status, 2);
  EXPECT_EQ(run("--check --bogus").status, 2);
}

TEST_F(TuneHostTest, DryRunPrintsTheGrubLineAndWritesNothing) {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 2)
    GTEST_SKIP() << "one CPU online: no core can be isolated";
  const std::string core = std::to_string(n - 1);
  const std::string swappiness = first_line("/proc/sys/vm/swappiness");
  const std::string busy_poll = first_line("/proc/sys/net/core/busy_poll");
  const std::string default_affinity = first_line("/proc/irq/default_smp_affinity");
  const ScriptRun r = run("--apply --dry-run --cores " + core);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("isolcpus=managed_irq,domain," + core + " nohz_full=" + core +
                       " rcu_nocbs=" + core),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0 changed, 0 failed (dry run)"), std::string::npos) << r.out;
  EXPECT_EQ(first_line("/proc/sys/vm/swappiness"), swappiness);
  EXPECT_EQ(first_line("/proc/sys/net/core/busy_poll"), busy_poll);
  EXPECT_EQ(first_line("/proc/irq/default_smp_affinity"), default_affinity);
}

} // namespace
