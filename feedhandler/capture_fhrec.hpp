#pragma once
// Internal to the capture reader: zstd file loading and the fhrec record walk
// (recording_format.hpp). capture.cpp calls these; nothing else should.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::capture::detail {

// True when the file starts with the zstd frame magic.
bool is_zstd_file(const std::string& path) noexcept;

// Decompresses a whole zstd file into `buf` (+ `pad` zero bytes). A stream cut short (a
// recorder killed mid-write) is not an error: what decoded is kept and `truncated` is set.
bool read_zstd_file(const std::string& path, std::size_t pad, std::unique_ptr<char[]>& buf,
                    std::size_t& size, bool& truncated, std::string& error);

struct FhrecResult {
  std::vector<Record> records;
  std::size_t skipped = 0;     // a cut-off last record, or bytes after a damaged header
  std::uint32_t first_skipped = 0;
  std::string error;           // header unreadable: not an fhrec file
  std::string venue;           // the header's "venue" ("" when absent)
};

// Walks the records of a decompressed fhrec text (starting with the magic line).
FhrecResult load_fhrec(std::string_view text, std::uint32_t file_index);

} // namespace fh::capture::detail
