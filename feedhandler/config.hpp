#pragma once
// The feed handler's configuration: a TOML file (docs/config/*.toml are ready-to-run examples
// against the real venues). Loaded once at start on the control path; every key is checked:
// an unknown key, a wrong type or an out-of-range value is an error naming the key and line,
// never silently ignored (a typo in `ingest_core` must not quietly leave a thread unpinned).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "feedhandler/venue.hpp"
#include "feedhandler/venues/live_profile.hpp"

namespace fh {

struct VenueConfig {
  Venue venue = Venue::BinanceSpot;
  std::string ws_url;    // "" = the venue's public endpoint (venues/live_profile.hpp)
  std::string rest_url;  // "" = the venue's REST base
  venues::SubscriptionSet subscriptions;
};

struct ShmConfig {
  std::string name = "fh-main";
  std::uint32_t depth = 10;
  std::uint32_t journal_records = 1u << 20;
  std::uint32_t instruments = 1024;
  std::uint32_t mode = 0640;
};

struct RecordConfig {
  std::string directory; // "" = no recording
  std::uint64_t rotate_bytes = 1ull << 30;
  std::int64_t rotate_seconds = 3600;
};

struct TlsConfig {
  std::string ca_file;                // "" = system store
  std::string ca_dir;
  bool insecure_skip_verify = false;  // only for a local fh-venue with a self-made certificate
};

struct Config {
  bool pipelined = true;   // false: fused (parse and book on the ingest thread)
  int ingest_core = -1;    // -1 = unpinned
  int book_core = -1;
  std::string log_level = "info";
  ShmConfig shm;
  RecordConfig record;
  TlsConfig tls;
  std::vector<VenueConfig> venues;
};

// Parses and validates; the error names the file, line and key.
std::variant<Config, std::string> load_config(const std::string& path);
std::variant<Config, std::string> parse_config(std::string_view toml_text,
                                               const std::string& source_name = "config");

} // namespace fh
