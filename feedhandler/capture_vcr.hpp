#pragma once
// Internal to the capture reader: VCR cassettes (PROVENANCE.md section 1 D), the YAML files in
// which vcrpy records HTTP interactions (the Hyperliquid SDK's REST tests). capture.cpp calls
// these; nothing else should.
//
// Why a YAML library (libyaml, C, error codes, no exceptions) rather than a line scan: the
// response body is a YAML scalar whose quoting style, escapes ('' inside '...', \" inside
// "...") and line folding are the writer's choice; only a real YAML parser reads every legal
// spelling of it back to the exact bytes the venue sent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::capture::detail {

// True when `text` (from its first non-blank byte) is a cassette: a YAML mapping whose first
// key is "interactions".
bool is_vcr_cassette(std::string_view text) noexcept;

struct VcrResult {
  std::vector<Record> records; // one Http record per interaction: url = request uri,
                               // payload = response body, recv_ts = response "date" header
  std::size_t skipped = 0;     // interactions without a usable uri or text body
  std::uint32_t first_skipped = 0;
  std::string error; // not valid YAML, or not a cassette
};

// Parses the cassette. uri and body strings are stored in `arena` (each followed by
// SIMDJSON_PADDING zero bytes); the records point into it, so `arena` must not change after.
VcrResult load_vcr(std::string_view text, std::uint32_t file_index, std::string &arena);

} // namespace fh::capture::detail
