#pragma once
// A feed handler's shared-memory output: the segment writer, the publisher the pipeline
// calls, and the control thread's heartbeat, with one lifetime.
//
// The heartbeat runs on its own sleeping thread (every heartbeat_ms) so readers can tell a
// live writer from a dead one even while the book thread is busy or blocked; it touches only
// the header's heartbeat word, which no other thread writes. close() stops it, pushes the
// final counters and marks the segment Closed: the data stays readable after the process
// exits (unless remove_on_close).
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "feedhandler/shm_publisher.hpp"
#include "shm/writer.hpp"

namespace fh {

struct ShmOutputOptions {
  std::string name;                        // segment name (/dev/shm/NAME) or path
  std::uint32_t depth = 10;                // levels per side in each slot
  std::uint32_t journal_capacity = 1u << 20; // records (64 B each), power of two
  std::uint32_t max_instruments = 1024;
  std::uint32_t mode = 0640;
  bool replace = true;                     // supersede a segment of the same name
  bool remove_on_close = false;
  std::uint32_t heartbeat_ms = 10;
  bool huge_pages = false;                 // name is a path on hugetlbfs: 2 MiB file alignment
};

class ShmOutput {
public:
  static std::variant<std::unique_ptr<ShmOutput>, std::string> open(const ShmOutputOptions& o);
  ~ShmOutput();
  ShmOutput(const ShmOutput&) = delete;
  ShmOutput& operator=(const ShmOutput&) = delete;

  ShmPublisher& publisher() noexcept { return publisher_; }
  shm::Writer& writer() noexcept { return writer_; }

  // Stops the heartbeat, writes the book counters, marks the segment Closed. Idempotent.
  void close() noexcept;

private:
  explicit ShmOutput(shm::Writer writer, std::uint32_t heartbeat_ms);

  shm::Writer writer_;
  ShmPublisher publisher_;
  std::jthread heartbeat_;
};

} // namespace fh
