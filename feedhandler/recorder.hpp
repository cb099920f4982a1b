#pragma once
// Records every received frame and REST response in the fhrec format (recording_format.hpp,
// docs/recording.md), off the hot path.
//
// record() is what an ingest thread calls: one copy of the frame into a ByteRing, no
// allocation, no lock, no system call; when the ring is full the record is dropped and
// counted, never waited for (recording must not slow ingest). A writer thread drains the
// ring, compresses with zstd (streaming, level 1 by default) and writes files, rotating
// them by size and age and flushing a zstd block every flush interval so a killed process
// leaves a readable file. Without a writer thread (Options::writer_thread = false) the
// owner calls drain() itself: for tests and single-threaded tools.
// One Recorder records one venue's connections (fh-replay takes a file's venue from its
// first ws_open URL); a feed handler runs one per venue session.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "feedhandler/byte_ring.hpp"
#include "feedhandler/recording_format.hpp"

namespace fh {

struct RecorderOptions {
  std::string directory;                       // created if missing
  std::string prefix = "fh";                   // file: <prefix>-<UTC start>-<NNNN>.fhrec.zst
  std::size_t queue_bytes = 64u << 20;         // ring between ingest and the writer
  std::uint64_t rotate_bytes = 1ull << 30;     // uncompressed bytes per file
  std::int64_t rotate_seconds = 3600;          // age of a file before rotation (0 = never)
  std::int64_t flush_ms = 200;                 // zstd flush (readable prefix) interval
  int zstd_level = 1;
  bool writer_thread = true;
  std::string producer = "feedhandler";        // written into the JSON header
  std::string venue;                           // header "venue" (fh::venue_name), "" = none:
                                               // lets fh-replay tell the venue when the URL
                                               // is a local one (fh-venue, a proxy)
};

struct RecorderCounters {
  std::uint64_t records = 0;         // accepted by record()
  std::uint64_t dropped_records = 0; // ring full: not recorded
  std::uint64_t dropped_bytes = 0;
  std::uint64_t written_records = 0; // in files
  std::uint64_t raw_bytes = 0;       // uncompressed bytes written
  std::uint64_t file_bytes = 0;      // compressed bytes written
  std::uint64_t files = 0;
  std::uint64_t write_errors = 0;
};

class Recorder {
public:
  static std::variant<std::unique_ptr<Recorder>, std::string> open(RecorderOptions options);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Hot path (one producer thread). False when dropped (counted).
  bool record(recording::Kind kind, std::uint32_t conn_id, std::int64_t recv_ts_ns,
              std::string_view url, std::string_view payload) noexcept;

  // Writes what is queued (the writer thread does this on its own). Returns records written.
  std::size_t drain();
  // Drains, finishes the current file and stops the writer thread. Idempotent.
  void close();

  // Counters: record()'s are exact on the producer thread; the writer's are updated as it goes.
  RecorderCounters counters() const noexcept;
  // Files written so far, in order (control path; stable after close()).
  std::vector<std::string> files() const;
  // Last I/O or compression error ("" if none).
  std::string last_error() const;

private:
  struct Impl;
  explicit Recorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace fh
