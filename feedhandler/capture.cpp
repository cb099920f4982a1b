// Loading a capture: read the whole (possibly gzipped) file into one padded buffer, detect the
// format from its content, then cut it into records. Line formats: PROVENANCE.md section 1.
#include "feedhandler/capture.hpp"
#include "feedhandler/capture_fhrec.hpp"
#include "feedhandler/capture_vcr.hpp"
#include "feedhandler/recording_format.hpp"

#include <simdjson.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace fh::capture {

namespace {

constexpr unsigned kReadChunk = 1u << 20;
constexpr unsigned kGzBuffer = 1u << 18;
// Format detection looks at this many non-empty lines before giving up.
constexpr int kDetectLines = 64;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Length of the leading "<digits>[.<digits>]" of s; 0 when s does not start with a digit.
std::size_t scan_decimal(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i]))
    ++i;
  if (i == 0)
    return 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
  }
  return i;
}

// Decimal seconds (all of s, as found by scan_decimal) to ns without going through double:
// the integer and fraction digits are combined as integers. Digits past the ninth decimal are
// below 1 ns and truncated. False on overflow.
bool parse_seconds(std::string_view s, std::int64_t &ns) noexcept {
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNsPerSecond;
  std::int64_t seconds = 0;
  std::size_t i = 0;
  for (; i < s.size() && s[i] != '.'; ++i) {
    seconds = seconds * 10 + (s[i] - '0');
    if (seconds > kMaxSeconds)
      return false;
  }
  std::int64_t frac = 0;
  std::int64_t scale = kNsPerSecond;
  if (i < s.size())
    ++i; // '.'
  for (; i < s.size() && scale > 1; ++i) {
    scale /= 10;
    frac += (s[i] - '0') * scale;
  }
  if (seconds == kMaxSeconds &&
      frac > std::numeric_limits<std::int64_t>::max() - seconds * kNsPerSecond) {
    return false;
  }
  ns = seconds * kNsPerSecond + frac;
  return true;
}

// hftbacktest stamps: 19 digits are ns, 16 digits are us (PROVENANCE.md B). Any other length
// is refused rather than guessed.
bool parse_hft_stamp(std::string_view digits, std::int64_t &ns) noexcept {
  if (digits.size() != 19 && digits.size() != 16)
    return false;
  std::uint64_t v = 0;
  for (const char c : digits)
    v = v * 10 + static_cast<std::uint64_t>(c - '0'); // < 2^64
  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (digits.size() == 16)
    v *= 1000; // 16 digits < 10^16, times 1000 < 10^19 < 2^64
  if (v > limit)
    return false;
  ns = static_cast<std::int64_t>(v);
  return true;
}

struct ParsedLine {
  RecordKind kind = RecordKind::WsText;
  std::int64_t ts_ns = 0;
  std::string_view url;
  std::string_view payload; // WsBinary: the literal body, still escaped
};

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

// "<t>: <text>" or "<t>: b'<literal>'" (the part after the url for sent / http lines too).
bool parse_stamped_text(std::string_view s, ParsedLine &out) noexcept {
  const std::size_t n = scan_decimal(s);
  if (n == 0 || s.substr(n, 2) != ": ")
    return false;
  if (!parse_seconds(s.substr(0, n), out.ts_ns))
    return false;
  out.payload = s.substr(n + 2);
  return true;
}

bool parse_cryptofeed_line(std::string_view line, ParsedLine &out) noexcept {
  if (starts_with(line, "configuration: ")) {
    out.kind = RecordKind::Config;
    out.payload = line.substr(15);
    return true;
  }
  if (is_digit(line.front())) {
    if (!parse_stamped_text(line, out))
      return false;
    const std::string_view p = out.payload;
    out.kind = RecordKind::WsText;
    // repr() of bytes: b'...' or, when the bytes hold ' but no ", b"...".
    if (p.size() >= 3 && p[0] == 'b' && (p[1] == '\'' || p[1] == '"') && p.back() == p[1]) {
      out.kind = RecordKind::WsBinary;
      out.payload = p.substr(2, p.size() - 3);
    }
    return true;
  }
  // "<url> <-> <t>", "<url> <- <t>: <text>", "<url> -> <t>: <body>". URLs hold no spaces.
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos)
    return false;
  out.url = line.substr(0, sp);
  if (out.url.find("://") == std::string_view::npos)
    return false;
  const std::string_view rest = line.substr(sp + 1);
  if (starts_with(rest, "<-> ")) {
    const std::string_view t = rest.substr(4);
    if (t.empty() || scan_decimal(t) != t.size() || !parse_seconds(t, out.ts_ns))
      return false;
    out.kind = RecordKind::WsOpen;
    out.payload = line.substr(line.size()); // empty, but inside the padded buffer
    return true;
  }
  if (starts_with(rest, "<- ")) {
    out.kind = RecordKind::WsSent;
  } else if (starts_with(rest, "-> ")) {
    out.kind = RecordKind::Http;
  } else {
    return false;
  }
  return parse_stamped_text(rest.substr(3), out);
}

bool parse_hftbacktest_line(std::string_view line, ParsedLine &out) noexcept {
  std::size_t n = 0;
  while (n < line.size() && is_digit(line[n]))
    ++n;
  if (n == 0 || line.size() < n + 2 || line[n] != ' ' || line[n + 1] != '{')
    return false;
  if (!parse_hft_stamp(line.substr(0, n), out.ts_ns))
    return false;
  out.kind = RecordKind::WsText;
  out.payload = line.substr(n + 1);
  return true;
}

// False when `s` opens a JSON object or array that its last byte does not close: that tells a
// last line cut mid-write from one that merely lacks its '\n' (the Deribit instruments file
// ends so).
bool json_closed(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  if (s.empty() || (s.front() != '{' && s.front() != '['))
    return true;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1 == s.size();
    }
  }
  return false;
}

// JSON lines (Bybit's historical files, PROVENANCE.md C): each line one bare received message,
// no receive time. Loaded as Format::JsonArray, whose records are exactly that (ts 0).
bool parse_json_line(std::string_view line, ParsedLine &out) noexcept {
  if (line.front() != '{')
    return false;
  out.kind = RecordKind::WsText;
  out.payload = line;
  return true;
}

bool parse_line(Format f, std::string_view line, ParsedLine &out) noexcept {
  if (f == Format::JsonArray)
    return parse_json_line(line, out);
  return f == Format::Hftbacktest ? parse_hftbacktest_line(line, out)
                                  : parse_cryptofeed_line(line, out);
}

// Expected size of the file's text: a gzip member ends with its uncompressed size mod 2^32
// (exact for the single-member files recorders write), a plain file is its own size. Only a
// hint for the first allocation: reading grows the buffer if it is wrong.
std::size_t size_hint(const std::string &path) noexcept {
  std::FILE *fp = std::fopen(path.c_str(), "rb");
  if (fp == nullptr)
    return 0;
  std::array<unsigned char, 4> b{};
  std::size_t hint = 0;
  const bool gzip = std::fread(b.data(), 1, 2, fp) == 2 && b[0] == 0x1f && b[1] == 0x8b;
  if (std::fseek(fp, 0, SEEK_END) == 0) {
    const long end = std::ftell(fp);
    if (!gzip && end > 0) {
      hint = static_cast<std::size_t>(end);
    } else if (gzip && end >= 18 && std::fseek(fp, end - 4, SEEK_SET) == 0 &&
               std::fread(b.data(), 1, 4, fp) == 4) {
      hint = static_cast<std::size_t>(b[0]) | static_cast<std::size_t>(b[1]) << 8 |
             static_cast<std::size_t>(b[2]) << 16 | static_cast<std::size_t>(b[3]) << 24;
      // Deflate expands at most 1032:1; a larger claim comes from a damaged trailer.
      hint = std::min(hint, static_cast<std::size_t>(end) * 1032);
    }
  }
  std::fclose(fp);
  return hint;
}

// Reads the whole file into one uninitialised buffer (gzread passes plain files through
// unchanged) and zeroes SIMDJSON_PADDING bytes after the text. One allocation when the size
// hint is right: no zero-filling, no copies.
bool read_whole_file(const std::string &path, std::unique_ptr<char[]> &buf, std::size_t &size,
                     std::string &error) {
  constexpr std::size_t kPad = simdjson::SIMDJSON_PADDING;
  constexpr std::size_t kMaxRead = std::numeric_limits<int>::max() / 2;
  std::size_t capacity = size_hint(path) + kPad + 1; // +1: EOF is seen without growing
  errno = 0;
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) {
    error = path + ": cannot open: " + (errno != 0 ? std::strerror(errno) : "out of memory");
    return false;
  }
  gzbuffer(gz, kGzBuffer);
  const auto out_of_memory = [&] {
    error = path + ": out of memory allocating " + std::to_string(capacity) + " bytes";
    gzclose_r(gz);
    return false;
  };
  buf.reset(new (std::nothrow) char[capacity]);
  if (buf == nullptr)
    return out_of_memory();
  std::size_t used = 0;
  for (;;) {
    if (capacity - used <= kPad) { // the hint was short
      capacity = capacity * 2 + kReadChunk;
      std::unique_ptr<char[]> bigger(new (std::nothrow) char[capacity]);
      if (bigger == nullptr)
        return out_of_memory();
      std::memcpy(bigger.get(), buf.get(), used);
      buf = std::move(bigger);
    }
    const std::size_t want = std::min(capacity - used - kPad, kMaxRead);
    const int n = gzread(gz, buf.get() + used, static_cast<unsigned>(want));
    if (n < 0) {
      int code = 0;
      error = path + ": read failed: " + gzerror(gz, &code);
      gzclose_r(gz);
      return false;
    }
    if (n == 0)
      break;
    used += static_cast<std::size_t>(n);
  }
  // gzread reports a gzip stream cut short as a plain end of file; gzclose_r tells.
  const int rc = gzclose_r(gz);
  if (rc == Z_BUF_ERROR) {
    error = path + ": gzip stream is truncated (unexpected end of file)";
    return false;
  }
  if (rc != Z_OK) {
    error = path + ": read failed (zlib error " + std::to_string(rc) + ")";
    return false;
  }
  std::memset(buf.get() + used, 0, kPad);
  size = used;
  return true;
}

// A .zip holding one file (Bybit's historical downloads): that member's bytes, padded like
// read_whole_file's. Several members would need a rule for which to replay: refused, not guessed.
// The archive is opened with consistency checks, and the member is read one byte past its size
// so that libzip verifies its CRC: a damaged archive is an Error, never a partial capture.
bool read_zip_member(const std::string &path, std::unique_ptr<char[]> &buf, std::size_t &size,
                     std::string &error) {
  constexpr std::size_t kPad = simdjson::SIMDJSON_PADDING;
  int code = 0;
  zip_t *archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (archive == nullptr) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    error = path + ": cannot read zip archive: " + zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return false;
  }
  const auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    zip_discard(archive); // opened read-only: nothing to write back
    return false;
  };
  const zip_int64_t members = zip_get_num_entries(archive, 0);
  if (members != 1)
    return fail("zip archive holds " + std::to_string(members) + " files; exactly one is supported");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive, 0, 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0 ||
      st.size > std::numeric_limits<std::size_t>::max() / 2)
    return fail("zip member has no usable size");
  const auto member_size = static_cast<std::size_t>(st.size);
  buf.reset(new (std::nothrow) char[member_size + kPad]);
  if (buf == nullptr)
    return fail("out of memory allocating " + std::to_string(member_size + kPad) + " bytes");
  zip_file_t *member = zip_fopen_index(archive, 0, 0);
  if (member == nullptr)
    return fail(std::string("cannot open zip member: ") + zip_strerror(archive));
  std::size_t used = 0;
  zip_int64_t n = 0;
  char past_end = 0;
  while (used < member_size &&
         (n = zip_fread(member, buf.get() + used, member_size - used)) > 0)
    used += static_cast<std::size_t>(n);
  if (n >= 0 && used == member_size)
    n = zip_fread(member, &past_end, 1); // 0 at a verified end
  if (n != 0 || used != member_size) {
    const std::string why = n < 0 ? zip_file_strerror(member) : "size differs from the directory";
    zip_fclose(member);
    return fail("zip member is damaged: " + why);
  }
  zip_fclose(member);
  zip_discard(archive);
  std::memset(buf.get() + used, 0, kPad);
  size = used;
  return true;
}

} // namespace

// Fills a CaptureFile; a friend so that CaptureFile keeps no half-built public state.
class CaptureLoader {
public:
  static std::variant<CaptureFile, Error> load(const std::string &path, std::uint32_t index) {
    CaptureFile f;
    f.path_ = path;
    f.binary_ = std::make_unique<std::string>();
    std::string error;
    if (detail::is_zstd_file(path)) {
      bool truncated = false;
      if (!detail::read_zstd_file(path, simdjson::SIMDJSON_PADDING, f.text_, f.text_size_,
                                  truncated, error))
        return Error{std::move(error)};
      const std::string_view text(f.text_.get(), f.text_size_);
      if (!starts_with(text, recording::kMagicLine))
        return Error{path + ": zstd file is not an fhrec recording"};
      detail::FhrecResult r = detail::load_fhrec(text, index);
      if (!r.error.empty())
        return Error{path + ": " + r.error};
      f.format_ = Format::Fhrec;
      f.records_ = std::move(r.records);
      f.skipped_ = r.skipped;
      f.first_skipped_ = r.first_skipped;
      f.venue_hint_ = std::move(r.venue);
      if (truncated && f.skipped_ == 0)
        skip(f, static_cast<std::uint32_t>(f.records_.size() + 1)); // cut between records
      set_ws_url(f);
      std::variant<CaptureFile, Error> result{std::in_place_index<0>, std::move(f)};
      return result;
    }
    if (!read_whole_file(path, f.text_, f.text_size_, error))
      return Error{std::move(error)};
    std::string_view text(f.text_.get(), f.text_size_);
    if (starts_with(text, std::string_view("PK\x03\x04", 4))) {
      if (!read_zip_member(path, f.text_, f.text_size_, error))
        return Error{std::move(error)};
      text = std::string_view(f.text_.get(), f.text_size_);
    }
    const std::size_t first = std::min(text.size(), text.find_first_not_of(" \t\r\n"));
    if (first == text.size())
      return Error{path + ": file is empty"};
    if (detail::is_vcr_cassette(text.substr(first))) {
      f.format_ = Format::VcrCassette;
      detail::VcrResult r = detail::load_vcr(text, index, *f.binary_);
      if (!r.error.empty())
        return Error{path + ": " + r.error};
      f.records_ = std::move(r.records);
      f.skipped_ = r.skipped;
      f.first_skipped_ = r.first_skipped;
    } else if (text[first] == '[') {
      f.format_ = Format::JsonArray;
      load_json_array(f, text, first, index);
    } else if (text[first] == '{') { // JSON lines: see parse_json_line
      f.format_ = Format::JsonArray;
      load_lines(f, text, index);
    } else {
      if (!detect_line_format(text, f.format_)) {
        return Error{path + ": not a cryptofeed, hftbacktest or JSON-array capture"};
      }
      load_lines(f, text, index);
    }
    set_ws_url(f);
    std::variant<CaptureFile, Error> result{std::in_place_index<0>, std::move(f)};
    return result;
  }

private:
  static void set_ws_url(CaptureFile &f) noexcept {
    for (const Record &r : f.records_) {
      if (r.kind == RecordKind::WsOpen) {
        f.ws_url_ = r.url;
        break;
      }
    }
  }

  static void skip(CaptureFile &f, std::uint32_t line) noexcept {
    if (f.skipped_++ == 0)
      f.first_skipped_ = line;
  }

  // The format is that of the first line matching a pattern of either line format.
  static bool detect_line_format(std::string_view text, Format &format) noexcept {
    int seen = 0;
    std::size_t pos = 0;
    while (pos < text.size() && seen < kDetectLines) {
      const std::size_t nl = std::min(text.size(), text.find('\n', pos));
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (line.empty())
        continue;
      ++seen;
      ParsedLine p;
      if (parse_hftbacktest_line(line, p)) {
        format = Format::Hftbacktest;
        return true;
      }
      if (parse_cryptofeed_line(line, p)) {
        format = Format::Cryptofeed;
        return true;
      }
    }
    return false;
  }

  static void load_lines(CaptureFile &f, std::string_view text, std::uint32_t index) {
    struct BinaryFixup {
      std::size_t record;
      std::size_t offset;
      std::size_t size;
    };
    std::vector<BinaryFixup> fixups;
    std::string decoded;
    std::string &arena = *f.binary_;
    f.records_.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    std::int64_t last_ts = 0;
    std::uint32_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const char *start = text.data() + pos;
      const auto *nl = static_cast<const char *>(std::memchr(start, '\n', text.size() - pos));
      const std::size_t len =
          nl != nullptr ? static_cast<std::size_t>(nl - start) : text.size() - pos;
      std::string_view line(start, len);
      pos += len + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (line.empty())
        continue;
      // A last line without '\n' is loaded only if its JSON is complete: otherwise the
      // recorder was cut mid-write.
      ParsedLine p;
      if (!parse_line(f.format_, line, p) ||
          (nl == nullptr && p.kind != RecordKind::WsBinary && !json_closed(p.payload))) {
        skip(f, line_no);
        continue;
      }
      if (p.kind == RecordKind::Config)
        p.ts_ns = last_ts;
      if (p.kind == RecordKind::WsBinary) {
        if (!decode_python_bytes(p.payload, decoded)) {
          skip(f, line_no);
          continue;
        }
        fixups.push_back({f.records_.size(), arena.size(), decoded.size()});
        arena.append(decoded);
        arena.append(simdjson::SIMDJSON_PADDING, '\0');
      }
      last_ts = p.ts_ns;
      f.records_.push_back(Record{p.kind, p.ts_ns, p.url, p.payload, index, line_no});
    }
    // The arena has stopped growing: now its addresses are final.
    for (const BinaryFixup &fx : fixups) {
      f.records_[fx.record].payload = std::string_view(arena.data() + fx.offset, fx.size);
    }
  }

  // One record per top-level element, its raw JSON text. A depth-counting scan that skips
  // strings finds the element boundaries; the elements themselves are not validated here.
  static void load_json_array(CaptureFile &f, std::string_view text, std::size_t open,
                              std::uint32_t index) {
    std::size_t pos = open + 1;
    std::uint32_t element = 0;
    auto skip_space = [&] {
      while (pos < text.size() && is_space(text[pos]))
        ++pos;
    };
    skip_space();
    if (pos < text.size() && text[pos] == ']') {
      ++pos;
    } else {
      for (;;) {
        ++element;
        skip_space();
        const std::size_t begin = pos;
        int depth = 0;
        bool in_string = false;
        bool stray = false;
        for (; pos < text.size(); ++pos) {
          const char c = text[pos];
          if (in_string) {
            if (c == '\\') {
              ++pos;
            } else if (c == '"') {
              in_string = false;
            }
          } else if (c == '"') {
            in_string = true;
          } else if (c == '[' || c == '{') {
            ++depth;
          } else if (c == ']' || c == '}') {
            if (depth == 0) {
              if (c == ']')
                break;
              stray = true;
            } else {
              --depth;
            }
          } else if (c == ',' && depth == 0) {
            break;
          }
        }
        if (pos >= text.size()) { // the array never closed: the file was cut in this element
          skip(f, element);
          return;
        }
        std::size_t end = pos;
        while (end > begin && is_space(text[end - 1]))
          --end;
        if (end == begin || stray) {
          skip(f, element);
        } else {
          const std::string_view raw = text.substr(begin, end - begin);
          f.records_.push_back(Record{RecordKind::WsText, 0, {}, raw, index, element});
        }
        if (text[pos++] == ']')
          break;
      }
    }
    skip_space();
    if (pos < text.size())
      skip(f, element + 1); // something after the closing bracket
  }
};

std::variant<CaptureFile, Error> CaptureFile::open(const std::string &path,
                                                   std::uint32_t file_index) {
  return CaptureLoader::load(path, file_index);
}

std::vector<const Record *> merge_by_time(const std::vector<CaptureFile> &files) {
  std::size_t total = 0;
  for (const CaptureFile &f : files)
    total += f.records().size();
  std::vector<const Record *> out;
  out.reserve(total);
  for (const CaptureFile &f : files) {
    for (const Record &r : f.records())
      out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Record *a, const Record *b) noexcept {
    return a->recv_ts_ns < b->recv_ts_ns;
  });
  return out;
}

} // namespace fh::capture
