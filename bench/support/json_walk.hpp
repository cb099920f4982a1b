#pragma once
// The parsing floor every per-frame figure is compared with: simdjson on-demand merely
// walking every value of a frame (no number conversion, no book). Shared by pipeline_bench
// and fh-bench so both measure the same floor.
#include <simdjson.h>

#include <cstddef>
#include <string_view>

namespace fh::bench {

inline std::size_t walk(simdjson::ondemand::value v) {
  std::size_t n = 0;
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return 0;
  switch (t) {
  case simdjson::ondemand::json_type::object:
    for (auto field : v.get_object()) {
      simdjson::ondemand::value inner;
      if (!field.value().get(inner)) n += walk(inner);
    }
    break;
  case simdjson::ondemand::json_type::array:
    for (auto el : v.get_array()) {
      simdjson::ondemand::value inner;
      if (!el.get(inner)) n += walk(inner);
    }
    break;
  default: n += v.raw_json_token().size();
  }
  return n;
}

// Walks one frame; frames carry SIMDJSON_PADDING readable bytes after their end.
inline std::size_t walk_frame(simdjson::ondemand::parser& parser, std::string_view f) {
  simdjson::ondemand::document doc;
  if (parser.iterate(f.data(), f.size(), f.size() + simdjson::SIMDJSON_PADDING).get(doc)) return 0;
  simdjson::ondemand::value root;
  return doc.get_value().get(root) ? 0 : walk(root);
}

} // namespace fh::bench
