#pragma once
// The feed handler's own recording format ("fhrec", docs/recording.md): every frame received
// and every REST response used, with its receive time and connection id, so a live session
// replays offline to exactly the same books.
//
// A file is one zstd stream (frames flushed every flush interval, so a killed recorder leaves
// a readable prefix). Decompressed, it is
//   "FHREC1\n"                      magic line
//   {...}\n                         one JSON line: format, version, created_ns, producer,
//                                   record_header layout (self-describing)
//   RecordHeader, url bytes, payload bytes   repeated; little-endian
// Fixed-size binary headers, not text lines: payloads (binary frames included) are stored as
// received, never escaped, and a reader finds the next record without scanning.
#include <cstdint>
#include <string_view>

namespace fh::recording {

inline constexpr std::string_view kMagicLine = "FHREC1\n";
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::string_view kFileSuffix = ".fhrec.zst";

// Record kinds: same values as fh::capture::RecordKind.
// WsClosed: the session lost the connection; payload = the venue symbols it carried, one per
// line, which the session marked stale at that point (so a replay makes the same marks).
enum class Kind : std::uint8_t { WsOpen = 0, WsSent, WsText, WsBinary, Http, Config, WsClosed };

struct RecordHeader {
  std::uint32_t payload_size;
  std::uint16_t url_size;    // WsOpen / WsSent / Http: the URL; else 0
  std::uint8_t kind;         // Kind
  std::uint8_t flags;        // 0
  std::uint32_t conn_id;     // the session's connection number (reconnects get new ids)
  std::uint32_t reserved;    // 0
  std::int64_t recv_ts_ns;   // CLOCK_REALTIME when the bytes were received
  std::uint64_t seq;         // record number within the recording (across rotated files)
};
static_assert(sizeof(RecordHeader) == 32);

// The JSON header line's description of RecordHeader (kept next to the struct).
inline constexpr std::string_view kRecordLayoutJson =
    R"("record_header":{"size":32,"fields":[["payload_size","u32",0],["url_size","u16",4],)"
    R"(["kind","u8",6],["flags","u8",7],["conn_id","u32",8],["reserved","u32",12],)"
    R"(["recv_ts_ns","i64",16],["seq","u64",24]],)"
    R"("kinds":["ws_open","ws_sent","ws_text","ws_binary","http","config","ws_closed"]})";

} // namespace fh::recording
