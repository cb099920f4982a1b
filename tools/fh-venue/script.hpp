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
enum class Family : std::uint8_t { Okx, Kraken, Binance, Deribit };

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

// A client's (un)subscribe request, reduced to the recorded books it names ("channel|instrument"
// keys as in Script::book_names): OKX {"op":..,"args":[{"channel":"books..","instId":X}]},
// Kraken v1 {"event":..,"pair":[..],"subscription":{"name":"book","depth":N}}, Deribit
// {"method":"public/(un)subscribe","params":{"channels":["book.X.raw",..]}} (key "book|X": the
// interval does not name another book). nullopt: not
// an (un)subscribe request of this venue's protocol.
struct BookRequest {
  bool subscribe = false;
  std::vector<std::string> books;
};
std::optional<BookRequest> parse_book_request(Family family, std::string_view text);

// Mid-stream book (re)subscriptions on one connection. `rest` is what the connection has not
// served yet (plan from its next frame on, in recorded order apart from earlier injections).
// unsubscribe_rest: `rest` without `book`'s snapshot/update frames (the venue stops them).
// resubscribe_rest: `book`'s first recorded ack, its last recorded snapshot before `position`
// (the recorded index of the next frame; frames.size() at the end) or, if none, its first one
// after, the book's recorded updates from that snapshot up to `position`, and then `rest` with
// the book's frames from `position` on (after that snapshot) merged back in recorded order.
std::vector<std::uint32_t> unsubscribe_rest(const Script &script,
                                            const std::vector<std::uint32_t> &rest,
                                            std::int32_t book);
std::vector<std::uint32_t> resubscribe_rest(const Script &script,
                                            const std::vector<std::uint32_t> &rest,
                                            std::int32_t book, std::size_t position);

// Which recorded books one connection has subscribed, so a mid-stream request can be answered
// the way a venue would: an unsubscribe stops that book's frames; a subscribe of a book the
// connection had already subscribed (or unsubscribed) is answered with resubscribe_rest(). The
// first subscribe of a book, and a repeat byte-identical to a recorded subscribe (the recording
// holds its answer), change nothing: the recorded stream carries them.
class ConnectionBooks {
public:
  ConnectionBooks(const Script &script, Family family);
  // A client text message; rewrites plan[next..] when it (un)subscribes recorded books.
  void on_client_text(std::string_view text, std::vector<std::uint32_t> &plan, std::size_t next);

private:
  enum State : std::uint8_t { kNever, kSubscribed, kUnsubscribed };
  const Script *script_;
  Family family_;
  std::vector<State> state_; // per Script::book_names
};

// The path (+query) part of a URL: "wss://ws.okx.com:8443/ws/v5/public" -> "/ws/v5/public".
std::string url_target(std::string_view url);

} // namespace fh::venue_tool
