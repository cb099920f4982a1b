#pragma once
// REST requests off the hot path: depth snapshots (Binance's diff-depth procedure) and
// instrument metadata, fetched with libcurl on a worker thread.
//
// Why a thread: a snapshot takes tens to hundreds of ms; the session thread that owns the
// sockets and books must keep draining the stream (and buffering the diffs) meanwhile. The
// session submits a request and polls for the response between completions; poll() is one
// relaxed atomic load when nothing is ready, so it can sit in the ingest loop.
// TLS: certificates and host names are verified (libcurl defaults, kept on explicitly) against
// the system store or `ca_file`; turning verification off is a named option, never implied.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

namespace fh {

struct RestOptions {
  std::string ca_file;                 // empty: the system CA store
  bool insecure_skip_verify = false;   // explicit opt-out (tests against self-signed venues)
  std::string user_agent = "feedhandler/0.1";
  std::int64_t connect_timeout_ms = 3'000;
  std::size_t max_body_bytes = 64u << 20;
};

struct RestRequest {
  std::uint64_t id = 0;       // caller's tag, returned with the response
  std::string url;
  std::int64_t timeout_ms = 10'000;
};

struct RestResponse {
  std::uint64_t id = 0;
  std::string url;
  long status = 0;            // HTTP status, 0 when the transfer failed
  std::string body;
  std::string error;          // transfer error (libcurl's message), "" on a completed HTTP exchange
  std::int64_t recv_ts_ns = 0; // CLOCK_REALTIME when the body was complete
  std::int64_t elapsed_ns = 0;
  bool ok() const noexcept { return error.empty() && status >= 200 && status < 300; }
};

class RestFetcher {
public:
  static std::variant<std::unique_ptr<RestFetcher>, std::string> start(RestOptions options);
  ~RestFetcher();
  RestFetcher(const RestFetcher&) = delete;
  RestFetcher& operator=(const RestFetcher&) = delete;

  // Control path: queues a request (never blocks on the network).
  void submit(RestRequest request);
  // Takes one finished response if any. Cheap when none is ready.
  bool poll(RestResponse& out);
  // Requests submitted and not yet taken by poll().
  std::size_t outstanding() const noexcept { return outstanding_.load(std::memory_order_relaxed); }

private:
  explicit RestFetcher(RestOptions options);
  void run();
  RestResponse perform(void* curl, const RestRequest& r);

  RestOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RestRequest> requests_;
  std::deque<RestResponse> responses_;
  std::atomic<std::size_t> ready_{0};
  std::atomic<std::size_t> outstanding_{0};
  bool stop_ = false;
  std::thread worker_;
};

} // namespace fh
