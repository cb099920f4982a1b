#pragma once
// What every phase of the loopback bench needs before it measures: facts read from the
// capture itself (how many frames fh-venue will serve, which instruments the recorder
// subscribed to), fh-venue started on that capture with TLS certificates made at run time,
// instrument metadata fetched from it over https, the client's connection plan, and the
// --send-log file read back. All control path; errors come back as text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "feedhandler/instrument_registry.hpp"
#include "feedhandler/venues/live_profile.hpp"
#include "net/tls_context.hpp"
#include "net/uring_reactor.hpp"
#include "tests/support/test_certs.hpp"
#include "tests/support/venue_process.hpp"
#include "tools/fh-venue/send_log.hpp"

namespace fh::bench::loopback {

struct CaptureInfo {
  std::string ws_path, http_path;
  std::size_t frames = 0;           // received text frames recorded (what fh-venue serves)
  std::vector<std::string> natives; // instIds of the recorded subscribe requests
  double seconds = 0;               // first to last received frame, recorder's clock
  std::vector<std::int64_t> frame_offsets_ns; // each received frame's time after the first
};
std::optional<CaptureInfo> read_capture(const std::string& ws_path, const std::string& http_path,
                                        std::string& error);

struct VenueArgs {
  std::string pace = "flat";
  bool exit_when_done = false;
  std::string send_log; // path
  std::string log;      // fh-venue's stderr
};
// Starts fh-venue on the capture; "" on success.
std::string start_venue(test::VenueProcess& venue, const test::TestCerts& certs, const CaptureInfo& cap,
                        const VenueArgs& args);

// Every REST response recorded in the http capture, fetched from fh-venue over https and
// loaded as OKX metadata. Returns the number of instruments, or nullopt + error.
std::optional<std::size_t> load_metadata(const std::string& https_base, const std::string& ca_file,
                                         const std::string& http_path, InstrumentRegistry& registry,
                                         std::string& error);

// Our own subscribe plan (books-l2-tbt, trades, tickers) for the capture's instruments.
std::optional<venues::ConnectionPlan> okx_plan(const CaptureInfo& cap, std::uint16_t port, std::string& error);

// The client side: a reactor (this thread is its ingest thread) and a TLS context trusting
// the run's CA.
struct Client {
  std::unique_ptr<net::UringReactor> reactor;
  std::optional<net::TlsContext> tls;
};
std::optional<Client> make_client(const std::string& ca_file, const net::UringConfig& config,
                                  std::string& error);

// Every record of a --send-log file.
std::optional<std::vector<venue_tool::SendRecord>> read_send_log(const std::string& path, std::string& error);

// Host facts for the report.
std::string cpu_model();
std::string kernel_release();

} // namespace fh::bench::loopback
