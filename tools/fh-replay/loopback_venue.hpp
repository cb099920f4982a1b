#pragma once
// fh-venue on loopback for `fh-replay --network`: a throwaway CA and a 127.0.0.1 leaf made
// with the openssl CLI in a private temp directory, the fh-venue child process serving the
// inputs over TLS, and its stdout (the ready line, then {"event":"done"} once every recorded
// frame has been written) read on a small thread. Control path; removed on destruction.
#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace fh::replay {

class LoopbackVenue {
public:
  LoopbackVenue() = default;
  ~LoopbackVenue();
  LoopbackVenue(const LoopbackVenue&) = delete;
  LoopbackVenue& operator=(const LoopbackVenue&) = delete;

  // Makes the certificates, starts `venue_bin` with `args` + the inputs and waits (up to
  // 60 s) for its ready line. "" on success, else why not.
  std::string start(const std::string& venue_bin, const std::vector<std::string>& args,
                    const std::vector<std::string>& inputs);

  const std::string& ca_file() const noexcept { return ca_; }
  const std::string& wss_url() const noexcept { return wss_url_; }       // with the recorded path
  const std::string& wss_base() const noexcept { return wss_base_; }     // wss://127.0.0.1:PORT
  const std::string& https_base() const noexcept { return https_base_; }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  // The child exited (it should not before we stop it): its status, else -1.
  int exited() noexcept;
  void stop();

private:
  std::string dir_, ca_, cert_, key_;
  std::string wss_url_, wss_base_, https_base_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_status_ = -1;
  std::atomic<bool> ready_{false}, done_{false}, eof_{false};
  std::string ready_line_;
  std::thread reader_;
};

} // namespace fh::replay
