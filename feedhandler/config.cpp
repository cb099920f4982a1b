#include "feedhandler/config.hpp"

#include <fstream>
#include <limits>
#include <type_traits>
#include <set>
#include <sstream>

// Header-only, without exceptions: Debian's libtomlplusplus.so is built with exceptions on,
// which would not link against the no-exception API.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace fh {

namespace {

// Collects the first error with its place; every getter checks type and range.
class Reader {
public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(const toml::node* at, const std::string& key, const std::string& what) {
    if (!error_.empty()) return;
    std::ostringstream os;
    os << source_;
    if (at != nullptr) os << ":" << at->source().begin.line;
    os << ": " << key << ": " << what;
    error_ = os.str();
  }

  // Every key of `table` must be one of `known`.
  void only(const toml::table& table, const std::string& where, const std::set<std::string>& known) {
    for (const auto& [k, v] : table) {
      if (!known.count(std::string(k.str())))
        fail(&v, where.empty() ? std::string(k.str()) : where + "." + std::string(k.str()),
             "unknown key");
    }
  }

  template <class T> void get(const toml::table& t, const std::string& where, const char* key, T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return; // keep the default
    const std::string name = where.empty() ? key : where + "." + key;
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value_exact<bool>()) out = *v;
      else fail(n, name, "expected true or false");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = n->value_exact<std::string>()) out = *v;
      else fail(n, name, "expected a string");
    } else {
      if (auto v = n->value_exact<std::int64_t>()) {
        const bool below = *v < 0 ? (!std::is_signed_v<T> ||
                                     *v < static_cast<std::int64_t>(std::numeric_limits<T>::min()))
                                  : false;
        const bool above = *v >= 0 && static_cast<std::uint64_t>(*v) >
                                          static_cast<std::uint64_t>(std::numeric_limits<T>::max());
        if (below || above)
          fail(n, name, "out of range");
        else
          out = static_cast<T>(*v);
      } else {
        fail(n, name, "expected an integer");
      }
    }
  }

  template <class T>
  void get_range(const toml::table& t, const std::string& where, const char* key, T& out, T lo, T hi) {
    get(t, where, key, out);
    if (out < lo || out > hi) {
      fail(t.get(key), where.empty() ? key : where + "." + key,
           "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
  }

  void get_strings(const toml::table& t, const std::string& where, const char* key,
                   std::vector<std::string>& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const std::string name = where + "." + key;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      fail(n, name, "expected an array of strings");
      return;
    }
    out.clear();
    for (const auto& el : *a) {
      if (auto s = el.value_exact<std::string>()) out.push_back(*s);
      else fail(&el, name, "expected an array of strings");
    }
  }

private:
  std::string source_;
  std::string error_;
};

void read_venue(Reader& r, const toml::table& t, const std::string& where, VenueConfig& v) {
  r.only(t, where, {"name", "ws_url", "rest_url", "symbols", "book", "trades", "bbo",
                    "book_channel", "depth_speed", "depth", "api", "interval"});
  std::string name;
  r.get(t, where, "name", name);
  const auto venue = venue_from_name(name);
  if (!venue) {
    r.fail(t.get("name") != nullptr ? t.get("name") : nullptr, where + ".name",
           "unknown venue '" + name + "' (binance, binance-usdm, binance-coinm, binance-us, okx, kraken, deribit)");
    return;
  }
  if (venues::find_live_profile(*venue) == nullptr) {
    r.fail(t.get("name"), where + ".name",
           "venue '" + name + "' has no live session yet (fh-replay reads its captures)");
    return;
  }
  v.venue = *venue;
  r.get(t, where, "ws_url", v.ws_url);
  r.get(t, where, "rest_url", v.rest_url);
  auto& s = v.subscriptions;
  r.get_strings(t, where, "symbols", s.natives);
  if (s.natives.empty()) r.fail(t.get("symbols"), where + ".symbols", "at least one symbol is needed");
  r.get(t, where, "book", s.book);
  r.get(t, where, "trades", s.trades);
  r.get(t, where, "bbo", s.bbo);
  r.get(t, where, "book_channel", s.okx_book_channel);
  r.get(t, where, "depth_speed", s.binance_depth_speed);
  r.get(t, where, "interval", s.deribit_interval);
  if (s.deribit_interval != "100ms" && s.deribit_interval != "raw" && s.deribit_interval != "agg2")
    r.fail(t.get("interval"), where + ".interval", "Deribit interval is 100ms, raw or agg2");
  r.get_range(t, where, "depth", s.kraken_depth, 10u, 1000u);
  std::string api = s.kraken_api == venues::KrakenApi::V1 ? "v1" : "v2";
  r.get(t, where, "api", api);
  if (api == "v1") s.kraken_api = venues::KrakenApi::V1;
  else if (api == "v2") s.kraken_api = venues::KrakenApi::V2;
  else r.fail(t.get("api"), where + ".api", "expected \"v1\" or \"v2\"");
  if (v.ws_url.rfind("wss://", 0) != 0 && v.ws_url.rfind("ws://", 0) != 0 && !v.ws_url.empty())
    r.fail(t.get("ws_url"), where + ".ws_url", "expected a wss:// URL");
}

} // namespace

std::variant<Config, std::string> parse_config(std::string_view text, const std::string& source) {
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
  const toml::table& root = parsed.table();
  Reader r(source);
  Config c;
  r.only(root, "", {"feedhandler", "shm", "record", "tls", "venue"});
  if (const toml::table* f = root["feedhandler"].as_table()) {
    r.only(*f, "feedhandler", {"mode", "ingest_core", "book_core", "log_level"});
    std::string mode = c.pipelined ? "pipelined" : "fused";
    r.get(*f, "feedhandler", "mode", mode);
    if (mode == "pipelined") c.pipelined = true;
    else if (mode == "fused") c.pipelined = false;
    else r.fail(f->get("mode"), "feedhandler.mode", "expected \"pipelined\" or \"fused\"");
    r.get_range(*f, "feedhandler", "ingest_core", c.ingest_core, -1, 4095);
    r.get_range(*f, "feedhandler", "book_core", c.book_core, -1, 4095);
    r.get(*f, "feedhandler", "log_level", c.log_level);
    if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
      r.fail(f->get("log_level"), "feedhandler.log_level", "expected debug, info, warn or error");
  }
  if (const toml::table* s = root["shm"].as_table()) {
    r.only(*s, "shm", {"name", "depth", "journal_records", "instruments", "mode"});
    r.get(*s, "shm", "name", c.shm.name);
    r.get_range(*s, "shm", "depth", c.shm.depth, 1u, 64u);
    r.get_range(*s, "shm", "journal_records", c.shm.journal_records, 1024u, 1u << 30);
    if ((c.shm.journal_records & (c.shm.journal_records - 1)) != 0)
      r.fail(s->get("journal_records"), "shm.journal_records", "must be a power of two");
    r.get_range(*s, "shm", "instruments", c.shm.instruments, 1u, 65536u);
    std::string mode = "0640";
    r.get(*s, "shm", "mode", mode);
    char* end = nullptr;
    const unsigned long m = std::strtoul(mode.c_str(), &end, 8);
    if (end == mode.c_str() || *end != '\0' || m > 0777 || (m & 0007) != 0)
      r.fail(s->get("mode"), "shm.mode", "expected an octal mode string without world access, e.g. \"0640\"");
    else
      c.shm.mode = static_cast<std::uint32_t>(m);
  }
  if (const toml::table* rec = root["record"].as_table()) {
    r.only(*rec, "record", {"directory", "rotate_mb", "rotate_minutes"});
    r.get(*rec, "record", "directory", c.record.directory);
    std::uint64_t mb = c.record.rotate_bytes >> 20;
    std::int64_t minutes = c.record.rotate_seconds / 60;
    r.get_range(*rec, "record", "rotate_mb", mb, std::uint64_t{1}, std::uint64_t{1} << 20);
    r.get_range(*rec, "record", "rotate_minutes", minutes, std::int64_t{0}, std::int64_t{7 * 24 * 60});
    c.record.rotate_bytes = mb << 20;
    c.record.rotate_seconds = minutes * 60;
  }
  if (const toml::table* t = root["tls"].as_table()) {
    r.only(*t, "tls", {"ca_file", "ca_dir", "insecure_skip_verify"});
    r.get(*t, "tls", "ca_file", c.tls.ca_file);
    r.get(*t, "tls", "ca_dir", c.tls.ca_dir);
    r.get(*t, "tls", "insecure_skip_verify", c.tls.insecure_skip_verify);
  }
  if (const toml::node* vn = root.get("venue")) {
    const toml::array* arr = vn->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      r.fail(vn, "venue", "expected [[venue]] tables");
    } else {
      std::size_t i = 0;
      for (const auto& el : *arr) {
        VenueConfig v;
        read_venue(r, *el.as_table(), "venue[" + std::to_string(i++) + "]", v);
        c.venues.push_back(std::move(v));
      }
    }
  }
  if (r.ok() && c.venues.empty()) r.fail(nullptr, "venue", "no [[venue]] configured");
  if (!r.ok()) return r.error();
  return c;
}

std::variant<Config, std::string> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ": cannot open";
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

} // namespace fh
