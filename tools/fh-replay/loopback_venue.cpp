#include "tools/fh-replay/loopback_venue.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace fh::replay {
namespace {

// Runs argv with stdout/stderr to /dev/null; true when it exits 0.
bool run_quiet(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// "key":"value" or "key":number out of one JSON line.
std::string field(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const std::size_t at = line.find(needle);
  if (at == std::string::npos) return {};
  std::size_t start = at + needle.size();
  if (start < line.size() && line[start] == '"') {
    ++start;
    return line.substr(start, line.find('"', start) - start);
  }
  return line.substr(start, line.find_first_of(",}", start) - start);
}

} // namespace

LoopbackVenue::~LoopbackVenue() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string LoopbackVenue::start(const std::string& venue_bin, const std::vector<std::string>& args,
                                 const std::vector<std::string>& inputs) {
  char tmpl[] = "/tmp/fh-replay-net-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
  dir_ = tmpl;
  ca_ = dir_ + "/ca.pem";
  cert_ = dir_ + "/server.pem";
  key_ = dir_ + "/server.key";
  const std::string ca_key = dir_ + "/ca.key", csr = dir_ + "/server.csr", ext = dir_ + "/ext";
  if (std::FILE* f = std::fopen(ext.c_str(), "w")) {
    std::fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n", f);
    std::fclose(f);
  }
  const bool made =
      run_quiet({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", ca_key, "-out", ca_, "-days", "1", "-subj",
                 "/CN=fh-replay loopback CA"}) &&
      run_quiet({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key_, "-out", csr, "-subj", "/CN=127.0.0.1"}) &&
      run_quiet({"openssl", "x509", "-req", "-in", csr, "-CA", ca_, "-CAkey", ca_key,
                 "-CAcreateserial", "-out", cert_, "-days", "1", "-extfile", ext});
  if (!made) return "could not make a loopback certificate with the openssl CLI (is openssl installed?)";

  std::vector<std::string> argv{venue_bin, "--listen", "127.0.0.1:0", "--cert", cert_, "--key", key_};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), inputs.begin(), inputs.end());
  std::vector<char*> cargs;
  for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  const int rc = posix_spawn(&pid_, venue_bin.c_str(), &fa, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    pid_ = -1;
    return "cannot start " + venue_bin + ": " + std::strerror(rc);
  }
  out_fd_ = pipefd[0];
  reader_ = std::thread([this] {
    std::FILE* in = fdopen(out_fd_, "r");
    if (in == nullptr) return;
    char* line = nullptr;
    std::size_t cap = 0;
    while (getline(&line, &cap, in) > 0) {
      const std::string l(line);
      if (!ready_.load(std::memory_order_acquire) && l.find("\"port\"") != std::string::npos) {
        ready_line_ = l;
        ready_.store(true, std::memory_order_release);
      } else if (l.find("\"event\":\"done\"") != std::string::npos) {
        done_.store(true, std::memory_order_release);
      }
    }
    std::free(line);
    std::fclose(in);
    eof_.store(true, std::memory_order_release);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready_.load(std::memory_order_acquire)) {
    if (eof_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > deadline)
      return "fh-venue did not start (see its messages above)";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  wss_url_ = field(ready_line_, "wss_url");
  https_base_ = field(ready_line_, "https_base");
  wss_base_ = "wss://127.0.0.1:" + field(ready_line_, "port");
  return {};
}

int LoopbackVenue::exited() noexcept {
  if (pid_ < 0) return exit_status_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return pid_ < 0 ? exit_status_ : -1;
}

void LoopbackVenue::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
}

} // namespace fh::replay
