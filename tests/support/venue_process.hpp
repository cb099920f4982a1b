#pragma once
// Runs the real fh-venue binary (tools/fh-venue) for a test and reads its ready line
// ({"port":N,"wss_url":...,"https_base":...}).
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fh::test {

inline const std::string kVenueBin = std::string(FH_BINARY_DIR) + "/tools/fh-venue";

// ---- fh-venue process ----------------------------------------------------------------------
class VenueProcess {
public:
  VenueProcess() = default;
  VenueProcess(const VenueProcess &) = delete;
  VenueProcess &operator=(const VenueProcess &) = delete;
  ~VenueProcess() { stop(); }

  // Starts fh-venue and waits for its ready line. Empty string on success, else why not.
  std::string start(const std::vector<std::string> &args, const std::string &log) {
    int out[2];
    if (pipe(out) != 0) return "pipe failed";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> all{kVenueBin};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kVenueBin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      pid_ = -1;
      return "posix_spawn failed";
    }
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char c[256];
      const ssize_t n = read(out[0], c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<std::size_t>(n));
    }
    close(out[0]);
    ready_ = line;
    ready_at_ = std::chrono::steady_clock::now();
    const auto p = line.find("\"port\":");
    if (p == std::string::npos) return "no ready line: '" + line + "'";
    port_ = static_cast<std::uint16_t>(std::stoul(line.substr(p + 7)));
    return "";
  }

  // SIGTERM and wait; returns the exit status (or -1).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    return wait_exit();
  }
  int wait_exit() {
    if (pid_ <= 0) return -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::uint16_t port() const { return port_; }
  const std::string &ready_line() const { return ready_; }
  std::chrono::steady_clock::time_point ready_at() const { return ready_at_; }

private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_;
  std::chrono::steady_clock::time_point ready_at_;
};


} // namespace fh::test
