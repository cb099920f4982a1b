// fh-venue: a local venue on loopback that serves REAL recorded captures over wss:// and
// https:// with the venue's own protocol (subscribe -> recorded acks -> recorded frames), with
// optional faults, so the feed handler's live session code can be tested without internet.
// Prints one JSON line on stdout when ready (port, wss_url, https_base, ...), then serves
// until SIGINT/SIGTERM or, with --exit-when-done, until every recorded stream has been sent.
// See docs/fh-venue.md. Exit status: 0 after a normal stop, 2 for unusable input/arguments.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "net/tls_context.hpp"
#include "tools/fh-venue/faults.hpp"
#include "tools/fh-venue/script.hpp"
#include "tools/fh-venue/send_log.hpp"
#include "tools/fh-venue/server.hpp"

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free); // set from a signal handler

void on_signal(int) { g_stop.store(true); }

void usage(FILE *out) {
  std::fputs(
      "usage: fh-venue --listen HOST:PORT --cert PEM --key PEM [options] INPUT...\n"
      "  INPUT               cryptofeed ws capture(s) of one venue (OKX, Kraken, Binance),\n"
      "                      hftbacktest Binance files, and the run's REST (_http) files\n"
      "  --listen HOST:PORT  IPv4 literal; port 0 picks a free one (printed when ready)\n"
      "  --cert PEM          server certificate chain; --key PEM its private key\n"
      "  --pace MODE         flat (default: as fast as possible) | recorded | scale=X\n"
      "                      (X times the recorded speed; scaled:X is accepted too)\n"
      "  --fault SPEC        close-after=N | stall=MS[:after=N] | refuse=MS | corrupt-at=N |\n"
      "                      drop-at=N | reject-subscribe, each optionally :conn=K (default 1,\n"
      "                      0 = every connection); repeatable\n"
      "  --exit-when-done    exit once every recorded stream has been sent to its end\n"
      "  --send-log FILE     append a binary record per frame sent (send_log.hpp)\n",
      out);
}

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "fh-venue: %s\n", msg.c_str());
  std::exit(2);
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

double parse_pace(const std::string &p) {
  if (p == "flat") return 0;
  if (p == "recorded") return 1;
  std::string x;
  if (p.rfind("scale=", 0) == 0) x = p.substr(6);
  else if (p.rfind("scaled:", 0) == 0) x = p.substr(7);
  else fail("bad --pace '" + p + "'");
  char *end = nullptr;
  const double v = std::strtod(x.c_str(), &end);
  if (end == x.c_str() || *end != '\0' || !(v > 0)) fail("bad --pace '" + p + "'");
  return v;
}

} // namespace

int main(int argc, char **argv) {
  using namespace fh::venue_tool;
  std::string listen, cert, key;
  ServerOptions options;
  std::vector<std::string> inputs;
  std::string send_log_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--listen") listen = value();
    else if (a == "--cert") cert = value();
    else if (a == "--key") key = value();
    else if (a == "--pace") options.speed = parse_pace(value());
    else if (a == "--exit-when-done") options.exit_when_done = true;
    else if (a == "--send-log") send_log_path = value();
    else if (a == "--fault") {
      auto f = parse_fault(value());
      if (auto *err = std::get_if<std::string>(&f)) fail(*err);
      options.faults.add(std::get<Fault>(f));
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      usage(stderr);
      fail("unknown option " + a);
    } else {
      inputs.push_back(a);
    }
  }
  if (listen.empty() || cert.empty() || key.empty() || inputs.empty()) {
    usage(stderr);
    return 2;
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) fail("--listen needs HOST:PORT");
  const std::string host = listen.substr(0, colon);
  char *end = nullptr;
  const unsigned long port = std::strtoul(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port > 65535) fail("bad port in --listen " + listen);

  auto loaded = Corpus::load(inputs);
  if (auto *err = std::get_if<std::string>(&loaded)) fail(*err);
  const Corpus &corpus = std::get<Corpus>(loaded);

  fh::net::TlsServerConfig tls_config;
  tls_config.cert_chain_file = cert;
  tls_config.private_key_file = key;
  tls_config.alpn = {"http/1.1"};
  auto tls = fh::net::TlsContext::server(tls_config);
  if (auto *err = std::get_if<fh::net::TlsError>(&tls)) fail(err->message);

  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<SendLog> send_log; // outlives the server: its threads flush into it
  if (!send_log_path.empty()) {
    auto opened = SendLog::open(send_log_path);
    if (auto *err = std::get_if<std::string>(&opened)) fail(*err);
    send_log = std::move(std::get<std::unique_ptr<SendLog>>(opened));
    SendLog::install(send_log.get());
  }
  Server server(corpus, std::get<fh::net::TlsContext>(tls), options);
  if (auto err = server.listen(host, static_cast<std::uint16_t>(port))) fail(*err);

  std::size_t frames = 0;
  for (const auto &s : corpus.scripts()) frames += s.frames.size();
  const std::string base = host + ":" + std::to_string(server.port());
  const std::string path = corpus.scripts().empty() ? "/" : corpus.scripts().front().path;
  std::printf("{\"port\":%u,\"wss_url\":\"wss://%s%s\",\"https_base\":\"https://%s\","
              "\"venue\":\"%s\",\"streams\":%zu,\"frames\":%zu,\"http_responses\":%zu}\n",
              static_cast<unsigned>(server.port()), base.c_str(), json_escape(path).c_str(),
              base.c_str(), std::string(corpus.venue_name()).c_str(), corpus.scripts().size(), frames,
              corpus.http().size());
  std::fflush(stdout);
  server.run(g_stop);
  SendLog::install(nullptr); // run() joined every connection thread
  return 0;
}
