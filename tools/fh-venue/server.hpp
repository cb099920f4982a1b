#pragma once
// fh-venue's server: one loopback listener speaking TLS, then either HTTP/1.1 (recorded REST
// responses) or WebSocket (recorded stream) on each accepted connection, one thread each.
//
// Why shaped so: this is a test tool, not the hot path, so blocking sockets and a thread per
// connection keep every connection's script easy to follow: accept -> (refuse fault) -> TLS
// handshake -> request head -> REST answer or WS handshake -> subscribe/ack -> recorded frames
// in recorded order, paced, with the configured faults. The only state shared between
// connections is each script's position (how far the feed has been served), which decides
// what a reconnecting client is given (script.hpp resume_plan).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_context.hpp"
#include "tools/fh-venue/faults.hpp"
#include "tools/fh-venue/script.hpp"

namespace fh::venue_tool {

class TlsStream;
struct HttpRequest;

struct ServerOptions {
  double speed = 0; // 0: flat out; > 0: frames at speed x their recorded spacing
  bool exit_when_done = false;
  FaultSet faults;
};

class Server {
public:
  Server(const Corpus &corpus, const net::TlsContext &tls, ServerOptions options);
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;
  ~Server();

  // Binds and listens; error text on failure. port 0 picks a free port (see port()).
  std::optional<std::string> listen(const std::string &host, std::uint16_t port);
  std::uint16_t port() const noexcept { return port_; }
  // Accepts and serves until `stop` is set, or (exit_when_done) every script has been sent to
  // its end; then closes the live connections (WS close 1001) and joins their threads.
  void run(const std::atomic<bool> &stop);

private:
  using Clock = std::chrono::steady_clock;
  void serve(int fd, std::uint32_t conn);
  void serve_http(TlsStream &stream, const HttpRequest &req);
  void serve_ws(TlsStream &stream, std::uint32_t conn);
  bool all_done();
  std::size_t take_script();
  void release_script(std::size_t s);

  const Corpus &corpus_;
  const net::TlsContext &tls_;
  ServerOptions options_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  Clock::time_point start_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> ws_connections_{0}; // WebSocket connections so far (fault numbering)
  std::mutex mu_;                  // guards the per-script state below
  std::vector<std::size_t> position_; // first frame index not yet served, per script
  std::vector<bool> done_;          // last frame of the script has been sent at least once
  std::vector<int> in_use_;         // live connections per script
  std::vector<std::thread> threads_;
};

} // namespace fh::venue_tool
