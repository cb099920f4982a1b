#pragma once
// Capture files -> what fh-venue serves: one Script per recorded WebSocket connection and a
// table of recorded REST responses.
//
// Why shaped so: the venue must send the recorded bytes unchanged, so frames stay string_views
// into the loaded CaptureFiles (which the Corpus owns). Everything a connection needs to
// decide what to send is computed once at load time: each frame's kind (subscribe ack, other
// control message, book snapshot, book update, other data), which book it belongs to, and its
// "gate" (how many recorded subscribe messages preceded it in the capture: the frame is only
// sent once the client has subscribed that far). A connection then works from a plan, a list
// of frame indices, built by full_plan() or resume_plan().
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::venue_tool {

// Protocol family of the served venue: decides how frames are classified and how a reconnect
// resumes (snapshot-based vs. REST snapshot + diffs).
enum class Family : std::uint8_t { Okx, Kraken, Binance };

enum class FrameKind : std::uint8_t {
  Ack,          // subscribe acknowledgement / connection status (sent first on every connection)
  Control,      // other venue control messages (heartbeats, errors)
  BookSnapshot, // a full book of one instrument
  BookUpdate,   // an incremental book update of one instrument
  Data,         // everything else (trades, tickers, Binance diffs)
};

struct Frame {
  std::string_view payload; // recorded bytes of the received frame
  std::int64_t ts_ns;       // recorder's receive time
  std::uint32_t line;       // line in the capture file (for messages and docs)
  std::uint32_t gate;       // recorded subscribe messages that preceded this frame
  FrameKind kind;
  std::int32_t book; // index into Script::book_names for snapshot/update frames, else -1
};

struct Script {
  std::string source;                // capture file path
  std::string ws_url;                // recorded URL ("" for hftbacktest)
  std::string path;                  // path (+query) of ws_url, "/" if none
  std::vector<std::string_view> sent; // recorded subscribe messages, in order
  std::vector<Frame> frames;
  std::vector<std::string> book_names; // "channel|instrument" keys
};

struct HttpEntry {
  std::string target; // path + "?" + query of the recorded URL
  std::string_view body;
  std::string url;
};

class Corpus {
public:
  // Loads every input; ws captures become Scripts, REST captures become HttpEntries.
  // All scripts must belong to one venue family. Error: one line naming the file.
  static std::variant<Corpus, std::string> load(const std::vector<std::string> &paths);

  Family family() const noexcept { return family_; }
  std::string_view venue_name() const noexcept { return venue_name_; }
  const std::vector<Script> &scripts() const noexcept { return scripts_; }
  const std::vector<HttpEntry> &http() const noexcept { return http_; }

  // The recorded body for a request target (path?query): exact match first, then the same
  // path with the same parameters in another order, then (hftbacktest only) the inline REST
  // snapshot for any path ending in "/depth". nullopt: 404.
  std::optional<std::string_view> find_http(std::string_view target) const;

private:
  Corpus() = default;
  std::vector<capture::CaptureFile> files_;
  Family family_ = Family::Binance;
  std::string venue_name_;
  std::vector<Script> scripts_;
  std::vector<HttpEntry> http_;
  std::optional<std::string_view> inline_snapshot_; // hftbacktest's inline REST depth snapshot
};

// Every frame of the script in recorded order (a first connection).
std::vector<std::uint32_t> full_plan(const Script &script);

// What a new subscriber gets after the previous connection stopped at frame index `position`
// (the first frame not yet served). Position 0 is full_plan(). Binance: the ack frames (if
// any) and then every frame from `position` on. OKX/Kraken: the ack frames, then for each book
// the first recorded snapshot at or after `position` (if the capture has none there, the last
// one before it) followed by that book's recorded updates, and every non-book frame from
// `position` on, all in recorded order.
std::vector<std::uint32_t> resume_plan(const Script &script, Family family, std::size_t position);

// The path (+query) part of a URL: "wss://ws.okx.com:8443/ws/v5/public" -> "/ws/v5/public".
std::string url_target(std::string_view url);

} // namespace fh::venue_tool
