#include "feedhandler/wss_connection.hpp"

#include <charconv>

namespace fh {

std::optional<WssTarget> parse_wss_url(std::string_view url) {
  constexpr std::string_view kScheme = "wss://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  url.remove_prefix(kScheme.size());
  WssTarget t;
  const std::size_t slash = url.find_first_of("/?");
  const std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!t.path.empty() && t.path[0] == '?') t.path.insert(t.path.begin(), '/');
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    unsigned port = 0;
    const auto p = authority.substr(colon + 1);
    if (std::from_chars(p.data(), p.data() + p.size(), port).ec != std::errc{} || port == 0 || port > 65535)
      return std::nullopt;
    t.port = static_cast<std::uint16_t>(port);
    t.host = std::string(authority.substr(0, colon));
  } else {
    t.host = std::string(authority);
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

} // namespace fh
