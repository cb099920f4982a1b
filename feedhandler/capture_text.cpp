// Small text helpers of the capture readers: Python bytes literals (cryptofeed writes binary
// frames with repr()) and URL query parameters (REST snapshot lines name their symbol there).
#include <string>
#include <string_view>

#include "feedhandler/capture.hpp"

namespace fh::capture {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool decode_python_bytes(std::string_view literal, std::string &out) {
  out.clear();
  out.reserve(literal.size());
  for (std::size_t i = 0; i < literal.size(); ++i) {
    const char c = literal[i];
    const auto u = static_cast<unsigned char>(c);
    if (c != '\\') {
      // repr() escapes every byte outside printable ASCII, so a raw one means the text is not
      // a bytes literal (or was damaged).
      if (u < 0x20 || u > 0x7e)
        return false;
      out.push_back(c);
      continue;
    }
    if (++i == literal.size())
      return false; // dangling backslash
    switch (literal[i]) {
    case '\\':
      out.push_back('\\');
      break;
    case '\'':
      out.push_back('\'');
      break;
    case '"':
      out.push_back('"');
      break;
    case 'n':
      out.push_back('\n');
      break;
    case 'r':
      out.push_back('\r');
      break;
    case 't':
      out.push_back('\t');
      break;
    case 'x': {
      if (literal.size() - i < 3)
        return false;
      const int hi = hex_value(literal[i + 1]);
      const int lo = hex_value(literal[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out.push_back(static_cast<char>(static_cast<unsigned char>(hi * 16 + lo)));
      i += 2;
      break;
    }
    default:
      return false; // repr() never writes \a, \b, \f, \v or octal escapes
    }
  }
  return true;
}

std::string_view url_param(std::string_view url, std::string_view key) noexcept {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos)
    return {};
  std::string_view query = url.substr(q + 1);
  if (const std::size_t hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

} // namespace fh::capture
