// fh-venue connection handling and scheduling (see server.hpp).
#include "tools/fh-venue/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tools/fh-venue/send_log.hpp"
#include "tools/fh-venue/tls_stream.hpp"
#include "tools/fh-venue/ws_server.hpp"

namespace fh::venue_tool {
namespace {

constexpr int kIoTimeoutMs = 10000;   // handshake / request head
constexpr int kPollSliceMs = 100;     // how often an idle connection looks at the stop flag
constexpr std::size_t kMaxHead = 16384;

// A text message from the client that asks for a subscription, in this venue's protocol.
bool is_subscribe(Family family, std::string_view text) {
  switch (family) {
  case Family::Okx:
    return text.find("\"op\"") != std::string_view::npos &&
           text.find("\"subscribe\"") != std::string_view::npos;
  case Family::Kraken:
    return text.find("\"event\"") != std::string_view::npos &&
           text.find("\"subscribe\"") != std::string_view::npos;
  case Family::Deribit:
    return text.find("\"public/subscribe\"") != std::string_view::npos;
  case Family::Binance:
    return false; // streams are chosen by the URL (the corpus has no SUBSCRIBE exchange)
  }
  return false;
}

// Reads until the blank line that ends a request head. Bytes after it (a client that sends its
// first WS frame right behind the handshake) go to `extra`.
bool read_head(TlsStream &s, std::string &head, std::string &extra) {
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  for (;;) {
    const auto end = head.find("\r\n\r\n");
    if (end != std::string::npos) {
      extra = head.substr(end + 4);
      head.resize(end + 4);
      return true;
    }
    if (head.size() > kMaxHead || std::chrono::steady_clock::now() > deadline) return false;
    const long n = s.read(buf, sizeof buf, kPollSliceMs);
    if (n < 0) return false;
    head.append(buf, static_cast<std::size_t>(n));
  }
}

} // namespace

Server::Server(const Corpus &corpus, const net::TlsContext &tls, ServerOptions options)
    : corpus_(corpus), tls_(tls), options_(std::move(options)),
      position_(corpus.scripts().size(), 0), done_(corpus.scripts().size(), false),
      in_use_(corpus.scripts().size(), 0) {}

Server::~Server() {
  stopping_ = true;
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::optional<std::string> Server::listen(const std::string &host, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return "bad listen address '" + host + "' (IPv4 literal expected)";
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return std::string("socket: ") + std::strerror(errno);
  const int one = 1;
  (void)::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0)
    return std::string("bind: ") + std::strerror(errno);
  if (::listen(listen_fd_, 64) != 0) return std::string("listen: ") + std::strerror(errno);
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
    return std::string("getsockname: ") + std::strerror(errno);
  port_ = ntohs(addr.sin_port);
  start_ = Clock::now();
  return std::nullopt;
}

bool Server::all_done() {
  std::lock_guard lock(mu_);
  return !done_.empty() && std::all_of(done_.begin(), done_.end(), [](bool d) { return d; });
}

void Server::run(const std::atomic<bool> &stop) {
  std::uint32_t conn = 0;
  bool announced_done = false;
  while (!stop.load() && !(options_.exit_when_done && all_done())) {
    if (!announced_done && all_done()) {
      // Out of band, for drivers (fh-replay --network): every recorded frame has been written.
      announced_done = true;
      std::printf("{\"event\":\"done\"}\n");
      std::fflush(stdout);
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollSliceMs) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (const auto refuse = options_.faults.find(FaultKind::Refuse, 0)) {
      if (Clock::now() - start_ < std::chrono::milliseconds(refuse->value)) {
        ::close(fd); // refused connections get no number: faults count served ones
        continue;
      }
    }
    const timeval send_timeout{30, 0}; // a client that stops reading cannot hang a thread
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    const int nodelay = 1; // each frame leaves at once: Nagle + delayed ACK held some for 40 ms
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    ++conn;
    threads_.emplace_back([this, fd, conn] { serve(fd, conn); });
  }
  stopping_ = true;
  for (auto &t : threads_) t.join();
  threads_.clear();
}

void Server::serve(int fd, std::uint32_t conn) {
  auto session = net::TlsSession::server(tls_);
  if (auto *err = std::get_if<net::TlsError>(&session)) {
    std::fprintf(stderr, "fh-venue: conn %u: %s\n", conn, err->message.c_str());
    ::close(fd);
    return;
  }
  TlsStream stream(fd, std::move(std::get<net::TlsSession>(session)));
  if (!stream.handshake(kIoTimeoutMs)) {
    std::fprintf(stderr, "fh-venue: conn %u: TLS handshake: %s\n", conn, stream.error().c_str());
    return;
  }
  std::string head, extra;
  if (!read_head(stream, head, extra)) return stream.abort();
  const auto req = parse_request(head);
  if (!req) {
    (void)stream.write_all("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return stream.close_gracefully();
  }
  if (!is_websocket_upgrade(*req)) return serve_http(stream, *req);
  bool accepted = false;
  const std::string answer = websocket_handshake_response(*req, accepted);
  if (!stream.write_all(answer) || !accepted) return stream.close_gracefully();
  // Faults count WebSocket connections only: a client's REST requests do not shift them.
  const std::uint32_t ws_conn = ws_connections_.fetch_add(1) + 1;
  std::fprintf(stderr, "fh-venue: conn %u: websocket #%u %s\n", conn, ws_conn, req->target.c_str());
  serve_ws(stream, ws_conn);
  (void)extra; // a client must wait for the 101 before sending frames (RFC 6455 4.1)
}

void Server::serve_http(TlsStream &stream, const HttpRequest &req) {
  std::string status = "200 OK";
  std::string_view body;
  if (req.method != "GET") {
    status = "405 Method Not Allowed";
  } else if (auto found = corpus_.find_http(req.target)) {
    body = *found;
  } else {
    status = "404 Not Found";
  }
  std::string out = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out.append(body);
  (void)stream.write_all(out);
  stream.close_gracefully();
}

std::size_t Server::take_script() {
  std::lock_guard lock(mu_);
  // Parallel connections get different recorded connections (OKX conn1/2/3 are A/B/C feeds);
  // a reconnect after a close gets the script that is free again, resumed.
  const auto it = std::min_element(in_use_.begin(), in_use_.end());
  const auto s = static_cast<std::size_t>(it - in_use_.begin());
  ++in_use_[s];
  return s;
}

void Server::release_script(std::size_t s) {
  std::lock_guard lock(mu_);
  --in_use_[s];
}

void Server::serve_ws(TlsStream &stream, std::uint32_t conn) {
  if (corpus_.scripts().empty()) {
    (void)stream.write_all(encode_close_frame(1011, "fh-venue: no stream recorded"));
    return stream.close_gracefully();
  }
  const std::size_t sidx = take_script();
  struct Release {
    Server *self;
    std::size_t s;
    ~Release() { self->release_script(s); }
  } release{this, sidx};
  const Script &script = corpus_.scripts()[sidx];
  std::vector<std::uint32_t> plan;
  {
    std::lock_guard lock(mu_);
    plan = resume_plan(script, corpus_.family(), position_[sidx]);
  }
  const auto &faults = options_.faults;
  const auto close_after = faults.find(FaultKind::CloseAfter, conn);
  const auto stall = faults.find(FaultKind::Stall, conn);
  const auto corrupt = faults.find(FaultKind::CorruptAt, conn);
  const auto drop = faults.find(FaultKind::DropAt, conn);
  const bool reject = faults.find(FaultKind::RejectSubscribe, conn).has_value();

  if (reject && corpus_.family() == Family::Binance) {
    // Binance subscribes through the URL, so the rejection answers the handshake itself.
    (void)stream.write_all(encode_close_frame(1008, "fh-venue fault: subscribe rejected"));
    return stream.close_gracefully();
  }
  if (close_after && close_after->value == 0) return stream.abort();

  ClientFrameParser parser;
  ConnectionBooks books(script, corpus_.family()); // mid-stream book (un)subscribes
  SendLogWriter send_log(SendLog::installed(), conn); // --send-log; flushed on every return
  std::size_t released = 0; // recorded subscribe messages the client has matched
  std::size_t next = 0;     // index into plan
  std::uint64_t served = 0; // frames handled on this connection (sent, corrupted or dropped)
  bool anchored = false;
  Clock::time_point anchor_time{};
  std::int64_t anchor_ts = 0;
  char buf[16384];

  for (;;) {
    if (stopping_.load()) {
      (void)stream.write_all(encode_close_frame(1001, "fh-venue: shutting down"));
      return stream.close_gracefully();
    }
    // What is due next, and when.
    int wait_ms = kPollSliceMs;
    bool send_now = false;
    if (next < plan.size()) {
      const Frame &f = script.frames[plan[next]];
      if (f.gate <= released) {
        const auto now = Clock::now();
        if (options_.speed <= 0) {
          send_now = true;
        } else {
          if (!anchored || f.ts_ns < anchor_ts) {
            anchored = true;
            anchor_time = now;
            anchor_ts = f.ts_ns;
          }
          const auto due = anchor_time + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                             static_cast<double>(f.ts_ns - anchor_ts) / options_.speed));
          if (due <= now) {
            send_now = true;
          } else {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
            wait_ms = static_cast<int>(std::min<std::int64_t>(ms + 1, kPollSliceMs));
          }
        }
      } else {
        anchored = false; // pacing restarts when the client's subscribe releases the frame
      }
    }
    // The client's messages: subscribe, ping, close.
    const long n = stream.read(buf, sizeof buf, send_now ? 0 : wait_ms);
    if (n < 0) return stream.abort();
    if (n > 0) parser.feed(buf, static_cast<std::size_t>(n));
    ClientMessage msg;
    for (;;) {
      const auto st = parser.next(msg);
      if (st == ClientFrameParser::Status::NeedMore) break;
      if (st == ClientFrameParser::Status::Error) {
        (void)stream.write_all(encode_close_frame(1002, parser.error()));
        return stream.close_gracefully();
      }
      switch (msg.opcode) {
      case WsOpcode::Close: {
        const std::string code = msg.payload.size() >= 2 ? msg.payload.substr(0, 2) : std::string();
        (void)stream.write_all(encode_server_frame(WsOpcode::Close, code));
        return stream.close_gracefully();
      }
      case WsOpcode::Ping:
        if (!stream.write_all(encode_server_frame(WsOpcode::Pong, msg.payload))) return stream.abort();
        break;
      case WsOpcode::Text:
        books.on_client_text(msg.payload, plan, next); // may rewrite the rest of the plan
        if (corpus_.family() == Family::Okx && msg.payload == "ping") {
          // OKX's application-level keepalive: literal "ping" is answered with "pong".
          if (!stream.write_all(encode_server_frame(WsOpcode::Text, "pong"))) return stream.abort();
        } else if (is_subscribe(corpus_.family(), msg.payload)) {
          if (reject) {
            // The corpus holds no recorded subscribe error for any venue: close with 1008.
            (void)stream.write_all(encode_close_frame(1008, "fh-venue fault: subscribe rejected"));
            return stream.close_gracefully();
          }
          const auto &sent = script.sent;
          if (released < sent.size() && sent[released] == msg.payload) {
            ++released;
          } else {
            const auto it = std::find(sent.begin(), sent.end(), msg.payload);
            // A subscribe worded differently from the recording releases the whole recording.
            released = it == sent.end() ? sent.size()
                                        : std::max(released, static_cast<std::size_t>(it - sent.begin()) + 1);
          }
        }
        break;
      default:
        break;
      }
    }
    if (!send_now) continue;

    // Send the next frame, with this connection's faults.
    const std::uint32_t idx = plan[next++];
    const std::uint64_t number = ++served;
    std::string_view payload = script.frames[idx].payload;
    if (corrupt && corrupt->value == number) payload = payload.substr(0, payload.size() / 2);
    const bool dropped = drop && drop->value == number;
    const std::string wire = dropped ? std::string() : encode_server_frame(WsOpcode::Text, payload);
    if (!dropped) send_log.stamp(number); // after framing, right before TLS + socket
    if (!dropped && !stream.write_all(wire))
      return stream.abort();
    {
      std::lock_guard lock(mu_);
      position_[sidx] = std::max(position_[sidx], static_cast<std::size_t>(idx) + 1);
      if (next == plan.size()) done_[sidx] = true;
    }
    if (close_after && close_after->value == number) return stream.abort();
    if (stall && stall->after == number) {
      const auto until = Clock::now() + std::chrono::milliseconds(stall->value);
      while (Clock::now() < until && !stopping_.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

} // namespace fh::venue_tool
