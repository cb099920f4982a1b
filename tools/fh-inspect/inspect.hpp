#pragma once
// fh-inspect: the operator's view of a shm segment (docs/fh-inspect.md).
//
// Why this shape: the tool is a plain reader (shm/reader.hpp, read-only mapping), so it can
// never disturb the writer and works the same on a live segment, a closed one and a copy on
// disk. main.cpp parses arguments and attaches; each command is one file taking the attached
// Reader and the parsed Options and returning the process exit code. Output goes through
// format.hpp so every number shown is exact (prices and sizes come from the int64 mantissas
// via book/decimal.hpp, never through double) and the JSON field names live in one place per
// command.
#include <cstdint>
#include <string>

#include "shm/reader.hpp"

namespace fh::inspect {

// Process exit codes (documented in usage() and docs/fh-inspect.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitReadFailed = 1; // a slot stayed locked (Busy): writer died mid-write?
inline constexpr int kExitUsage = 2;      // bad arguments, or the segment could not be attached
inline constexpr int kExitNotFound = 3;   // no such instrument (or an ambiguous bare symbol)

enum class Command : std::uint8_t { None, List, Book, Tail, Stats, Top };

struct Options {
  Command command = Command::None;
  std::string shm;                 // --shm, else $FH_SHM, else "fh-main"
  std::int64_t timeout_ms = 0;     // --timeout: wait this long for the segment to appear
  bool json = false;               // --json
  std::string instrument;          // book <instrument>, tail --instrument
  std::uint32_t depth = 0;         // book --depth (0 = the segment's depth)
  bool watch = false;              // book --watch
  std::int64_t interval_ms = 500;  // --interval for --watch, top and tail --follow polling
  std::uint64_t frames = 0;        // --frames: stop --watch / top after this many renders
  bool follow = false;             // tail --follow
  bool from_oldest = false;        // tail --from-oldest
  std::uint64_t count = 0;         // tail --count (0 = no limit)
  std::int64_t stale_ms = 2000;    // --stale-ms: heartbeat older than this = writer dead
};

// Resolves "venue:CANONICAL", "venue:NATIVE", a bare symbol (must be unique over all venues)
// or a numeric instrument id. On failure prints why on stderr and returns nullptr.
const shm::DirectoryEntry* resolve_instrument(const shm::Reader& reader, const std::string& key);

int run_list(const shm::Reader& reader, const Options& options);
int run_book(shm::Reader& reader, const Options& options);
int run_tail(shm::Reader& reader, const Options& options);
int run_stats(const shm::Reader& reader, const Options& options);
int run_top(shm::Reader& reader, const Options& options);

} // namespace fh::inspect
