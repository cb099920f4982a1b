// VCR cassette reader (see capture_vcr.hpp): libyaml loads the document tree, and each
// interaction becomes one Http record. Control path: allocation is fine, errors are returned.
#include "feedhandler/capture_vcr.hpp"

#include <yaml.h>

#include <simdjson.h>

#include <array>
#include <chrono>
#include <cstring>
#include <memory>

namespace fh::capture::detail {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

struct DocumentDeleter {
  void operator()(yaml_document_t *d) const noexcept {
    yaml_document_delete(d);
    delete d;
  }
};
struct ParserDeleter {
  void operator()(yaml_parser_t *p) const noexcept {
    yaml_parser_delete(p);
    delete p;
  }
};

std::string_view scalar(const yaml_node_t *n) noexcept {
  if (n == nullptr || n->type != YAML_SCALAR_NODE)
    return {};
  return {reinterpret_cast<const char *>(n->data.scalar.value), n->data.scalar.length};
}

// The value of `key` in mapping `map`, nullptr when absent or `map` is not a mapping.
yaml_node_t *value_of(yaml_document_t *doc, const yaml_node_t *map, std::string_view key) noexcept {
  if (map == nullptr || map->type != YAML_MAPPING_NODE)
    return nullptr;
  for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       ++p) {
    if (scalar(yaml_document_get_node(doc, p->key)) == key)
      return yaml_document_get_node(doc, p->value);
  }
  return nullptr;
}

// First scalar of a header value: vcrpy writes headers as lists ("date: [- Mon, ...]").
std::string_view first_scalar(yaml_document_t *doc, const yaml_node_t *n) noexcept {
  if (n != nullptr && n->type == YAML_SEQUENCE_NODE &&
      n->data.sequence.items.start < n->data.sequence.items.top)
    return scalar(yaml_document_get_node(doc, *n->data.sequence.items.start));
  return scalar(n);
}

bool parse_int(std::string_view s, int &out) noexcept {
  if (s.empty() || s.size() > 4)
    return false;
  int v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// HTTP date (RFC 7231 IMF-fixdate) "Mon, 17 Jul 2023 21:43:21 GMT" -> Unix ns; false otherwise.
bool parse_http_date(std::string_view s, std::int64_t &ns) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT" || s[7] != ' ' ||
      s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':')
    return false;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!parse_int(s.substr(5, 2), day) || !parse_int(s.substr(12, 4), year) ||
      !parse_int(s.substr(17, 2), hour) || !parse_int(s.substr(20, 2), minute) ||
      !parse_int(s.substr(23, 2), second) || hour > 23 || minute > 59 || second > 60)
    return false;
  unsigned month = 0;
  for (unsigned m = 0; m < kMonths.size(); ++m)
    if (kMonths[m] == s.substr(8, 3))
      month = m + 1;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                           std::chrono::day(static_cast<unsigned>(day))};
  if (month == 0 || !ymd.ok())
    return false;
  const std::int64_t days_since_epoch = sys_days(ymd).time_since_epoch().count();
  ns = ((days_since_epoch * 24 + hour) * 60 + minute) * 60 * kNsPerSecond + second * kNsPerSecond;
  return true;
}

// Appends `s` and SIMDJSON_PADDING zero bytes; returns the offset of `s`.
std::size_t store(std::string &arena, std::string_view s) {
  const std::size_t offset = arena.size();
  arena.append(s);
  arena.append(simdjson::SIMDJSON_PADDING, '\0');
  return offset;
}

} // namespace

bool is_vcr_cassette(std::string_view text) noexcept {
  constexpr std::string_view kKey = "interactions:";
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text.substr(first, kKey.size()) == kKey;
}

VcrResult load_vcr(std::string_view text, std::uint32_t file_index, std::string &arena) {
  VcrResult result;
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
  if (yaml_parser_initialize(parser.get()) == 0) {
    delete parser.release();
    result.error = "cannot initialise the YAML parser";
    return result;
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char *>(text.data()),
                               text.size());
  std::unique_ptr<yaml_document_t, DocumentDeleter> doc(new yaml_document_t);
  if (yaml_parser_load(parser.get(), doc.get()) == 0) {
    const char *problem = parser->problem != nullptr ? parser->problem : "unknown";
    result.error =
        "YAML error at line " + std::to_string(parser->problem_mark.line + 1) + ": " + problem;
    delete doc.release(); // nothing was loaded into it
    return result;
  }
  yaml_document_t *d = doc.get();
  const yaml_node_t *interactions = value_of(d, yaml_document_get_root_node(d), "interactions");
  if (interactions == nullptr || interactions->type != YAML_SEQUENCE_NODE) {
    result.error = "not a VCR cassette (no interactions list)";
    return result;
  }

  struct Span {
    std::size_t url, url_size, body, body_size;
  };
  std::vector<Span> spans;
  std::uint32_t index = 0;
  for (const yaml_node_item_t *it = interactions->data.sequence.items.start;
       it < interactions->data.sequence.items.top; ++it) {
    ++index;
    const yaml_node_t *interaction = yaml_document_get_node(d, *it);
    const yaml_node_t *request = value_of(d, interaction, "request");
    const yaml_node_t *response = value_of(d, interaction, "response");
    const std::string_view uri = scalar(value_of(d, request, "uri"));
    const yaml_node_t *body_node = value_of(d, value_of(d, response, "body"), "string");
    // A body kept as !!binary (compressed responses) is base64 we do not decode: skipped.
    const bool text_body =
        body_node != nullptr && body_node->type == YAML_SCALAR_NODE &&
        (body_node->tag == nullptr ||
         std::strcmp(reinterpret_cast<const char *>(body_node->tag), YAML_STR_TAG) == 0);
    if (uri.find("://") == std::string_view::npos || !text_body) {
      if (result.skipped++ == 0)
        result.first_skipped = index;
      continue;
    }
    std::int64_t ts_ns = 0;
    const std::string_view date =
        first_scalar(d, value_of(d, value_of(d, response, "headers"), "date"));
    if (!parse_http_date(date, ts_ns))
      ts_ns = 0; // no capture time: replayed first, like the JSON-array captures
    const std::string_view body = scalar(body_node);
    Span span{};
    span.url = store(arena, uri);
    span.url_size = uri.size();
    span.body = store(arena, body);
    span.body_size = body.size();
    spans.push_back(span);
    result.records.push_back(Record{RecordKind::Http,
                                    ts_ns,
                                    {},
                                    {},
                                    file_index,
                                    static_cast<std::uint32_t>(body_node->start_mark.line + 1)});
  }
  // The arena has stopped growing: now its addresses are final.
  for (std::size_t i = 0; i < spans.size(); ++i) {
    result.records[i].url = std::string_view(arena.data() + spans[i].url, spans[i].url_size);
    result.records[i].payload = std::string_view(arena.data() + spans[i].body, spans[i].body_size);
  }
  return result;
}

} // namespace fh::capture::detail
