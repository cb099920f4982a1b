#pragma once
// Real frames for the parser benches. A capture of data/ is read whole with the project's own
// reader (fh::capture::CaptureFile), whose payloads are already followed by SIMDJSON_PADDING
// bytes, so a bench times the parser on the recorded bytes in place, as replay hands them over,
// with no copy of its own. A bench has no test framework to report to: a capture that cannot
// be read ends the process with a message.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::bench {

// data/<rel>, or exit(1).
inline capture::CaptureFile open_capture_or_exit(const std::string &rel) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  auto opened = capture::CaptureFile::open(path);
  if (auto *err = std::get_if<capture::Error>(&opened)) {
    std::fprintf(stderr, "%s\n", err->message.c_str());
    std::exit(1);
  }
  return std::move(std::get<capture::CaptureFile>(opened));
}

// The received text frames of one capture that a bench times, and the file they point into.
struct CaptureFrames {
  capture::CaptureFile file;
  std::vector<std::string_view> views; // each followed by SIMDJSON_PADDING readable bytes
  std::size_t bytes = 0;               // sum of the views' sizes
};

// The received text frames of data/<rel> for which keep(payload) is true, in file order.
template <class Keep> CaptureFrames load_frames(const std::string &rel, Keep keep) {
  CaptureFrames f{open_capture_or_exit(rel), {}, 0};
  for (const capture::Record &r : f.file.records())
    if (r.kind == capture::RecordKind::WsText && keep(r.payload)) {
      f.views.push_back(r.payload);
      f.bytes += r.payload.size();
    }
  return f;
}

} // namespace fh::bench
