// Formats OpenSSL's error queue into one line. Cold path only.
#include "net/tls_error.hpp"

#include <openssl/err.h>

#include <system_error>

namespace fh::net {

std::string tls_error_text(std::string_view context) {
  std::string out(context);
  bool first = true;
  const char *data = nullptr;
  int flags = 0;
  // Oldest first: the first entry is the root cause, later ones name the layers above it.
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    out += first ? ": " : "; ";
    first = false;
    if (ERR_SYSTEM_ERROR(e)) {
      // OpenSSL keeps errno here; std::generic_category is the thread-safe strerror.
      out += std::error_code(ERR_GET_REASON(e), std::generic_category()).message();
    } else if (const char *reason = ERR_reason_error_string(e)) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out += buf;
    }
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      out += " (";
      out += data;
      out += ')';
    }
  }
  if (first)
    out += ": no OpenSSL error recorded";
  // One line: OpenSSL data strings are normally single-line, but never trust that.
  for (char &c : out)
    if (c == '\n' || c == '\r')
      c = ' ';
  return out;
}

} // namespace fh::net
