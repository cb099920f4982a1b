#pragma once
// Readers for the third-party captures in data/ (PROVENANCE.md section 1): cryptofeed raw
// captures, hftbacktest collector lines, single JSON arrays and VCR cassettes (YAML). Control path: a file is read
// whole (gzip or plain) into one heap buffer and every record is a pair of string_views into
// it, so replay hands venue parsers the recorded bytes without copying them again. The buffer
// ends with SIMDJSON_PADDING bytes, which makes every payload directly parseable by simdjson
// (a payload is followed by the rest of the file and then the padding). Python bytes literals
// (binary frames) are decoded once into a second heap buffer with the same padding rule.
// Both buffers live behind unique_ptr so the views survive moving the CaptureFile.
// Errors are returned, never thrown; lines matching no pattern are counted, not fatal.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fh::capture {

// Fhrec: the feed handler's own recordings (recording_format.hpp, zstd-compressed).
// VcrCassette: vcrpy's YAML recordings of REST interactions (capture_vcr.hpp): one Http record
// per interaction, url = request uri, payload = response body, time = response date header.
enum class Format : std::uint8_t { Cryptofeed, Hftbacktest, JsonArray, Fhrec, VcrCassette };

enum class RecordKind : std::uint8_t {
  WsOpen,   // "<ws-url> <-> <t>"           url set, payload empty
  WsSent,   // "<ws-url> <- <t>: <text>"    what the client sent (subscribe requests)
  WsText,   // "<t>: <text>"                received text frame; hftbacktest "<ts> <json>" too
  WsBinary, // "<t>: b'...'"                received binary frame, payload = decoded bytes
  Http,     // "<http-url> -> <t>: <body>"  REST response body, url set
  Config,   // "configuration: {...}"       recorder's config, payload = the JSON
  WsClosed, // fhrec only: the session lost this connection; payload = the venue symbols it
            // carried, one per line (the replay marks them stale, as the session did)
};

struct Record {
  RecordKind kind;
  // Local receive time in ns, converted from the recorded text without floating point.
  // cryptofeed: decimal seconds (digits past the 9th decimal are truncated); hftbacktest:
  // 19 digits = ns, 16 digits = us. JsonArray: 0. Config lines carry no time of their own
  // and take the time of the record before them in the file (0 if none), so a merge keeps
  // them where they were written.
  std::int64_t recv_ts_ns;
  std::string_view url;     // WsOpen / WsSent / Http; points into the file's storage
  std::string_view payload; // always followed by at least SIMDJSON_PADDING readable bytes
  std::uint32_t file_index; // the caller's index for the file (CaptureFile::open argument)
  std::uint32_t line;       // 1-based line number; 1-based element index for JsonArray;
                            // Fhrec: 1-based record index in the file
  std::uint32_t conn_id = 0; // Fhrec: the recording session's connection number
};

struct Error {
  std::string message; // one line, names the path
};

class CaptureFile {
public:
  // Reads the whole file (gzip, zstd, a one-member .zip, or plain) and detects the format
  // from its content. A final line without '\n' is loaded when its JSON payload is complete
  // (some recorders omit the last '\n'); one whose JSON is cut off by an interrupted write is
  // not loaded and counts as skipped, as does an unterminated last JSON-array element.
  // A gzip stream that is itself cut short is an Error.
  static std::variant<CaptureFile, Error> open(const std::string &path,
                                               std::uint32_t file_index = 0);

  CaptureFile(CaptureFile &&) noexcept = default;
  CaptureFile &operator=(CaptureFile &&) noexcept = default;
  CaptureFile(const CaptureFile &) = delete;
  CaptureFile &operator=(const CaptureFile &) = delete;
  ~CaptureFile() = default;

  [[nodiscard]] Format format() const noexcept { return format_; }
  [[nodiscard]] const std::string &path() const noexcept { return path_; }
  // URL of the first WsOpen record, else empty.
  [[nodiscard]] std::string_view ws_url() const noexcept { return ws_url_; }
  // fhrec: the venue name its header declares ("" otherwise).
  [[nodiscard]] const std::string &venue_hint() const noexcept { return venue_hint_; }
  [[nodiscard]] const std::vector<Record> &records() const noexcept { return records_; }
  // Non-empty lines (JsonArray: elements) that match no pattern. Empty lines are ignored.
  [[nodiscard]] std::size_t skipped_lines() const noexcept { return skipped_; }
  // Line number of the first skipped line, 0 if none (for diagnostics).
  [[nodiscard]] std::uint32_t first_skipped_line() const noexcept { return first_skipped_; }

private:
  CaptureFile() = default;
  friend class CaptureLoader;

  std::string path_;
  Format format_ = Format::Cryptofeed;
  std::unique_ptr<char[]> text_;        // decompressed file + SIMDJSON_PADDING zero bytes
  std::size_t text_size_ = 0;           // bytes of file text in text_, padding excluded
  std::unique_ptr<std::string> binary_; // decoded binary frames, each + SIMDJSON_PADDING zeros
  std::string_view ws_url_;
  std::string venue_hint_;
  std::vector<Record> records_;
  std::size_t skipped_ = 0;
  std::uint32_t first_skipped_ = 0;
};

// All records of `files` in replay order: stable sort by recv_ts_ns, ties keep file order then
// line order; records with ts 0 (JsonArray) keep their relative order. Pointers stay valid as
// long as `files` is not modified.
[[nodiscard]] std::vector<const Record *> merge_by_time(const std::vector<CaptureFile> &files);

// Decodes the body of a Python bytes literal (the text between b' and ', or between b" and ")
// as written by repr(): printable ASCII plus the escapes \\ \' \" \n \r \t \xNN. Anything else
// (another escape, a dangling backslash, a raw control or non-ASCII byte) is malformed:
// returns false. `out` is overwritten.
[[nodiscard]] bool decode_python_bytes(std::string_view literal, std::string &out);

// Value of query parameter `key` in `url` (no percent-decoding), empty if absent:
// url_param("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", "symbol")
// is "BTCUSDT".
[[nodiscard]] std::string_view url_param(std::string_view url, std::string_view key) noexcept;

} // namespace fh::capture
