// Instrument look-up for the commands that take one (book, tail --instrument).
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"

namespace fh::inspect {

const shm::DirectoryEntry* resolve_instrument(const shm::Reader& reader, const std::string& key) {
  if (key.find(':') != std::string::npos) {
    if (const shm::DirectoryEntry* e = reader.find(key))
      return e;
    std::fprintf(stderr, "fh-inspect: no instrument '%s' in %s\n", key.c_str(), reader.path());
    return nullptr;
  }
  // A bare symbol must name one instrument: BTCUSDT exists on several Binance venues.
  std::vector<const shm::DirectoryEntry*> matches;
  for (std::uint32_t id = 0; id < reader.instrument_count(); ++id) {
    const shm::DirectoryEntry* e = reader.instrument(id);
    if (e != nullptr && (key == e->canonical || key == e->native))
      matches.push_back(e);
  }
  if (matches.size() == 1)
    return matches.front();
  if (matches.size() > 1) {
    std::string names;
    for (const shm::DirectoryEntry* e : matches)
      names += (names.empty() ? "" : ", ") + instrument_name(*e);
    std::fprintf(stderr, "fh-inspect: '%s' is ambiguous (%s): use venue:SYMBOL\n", key.c_str(),
                 names.c_str());
    return nullptr;
  }
  std::uint32_t id = 0;
  const char* end = key.data() + key.size();
  if (!key.empty() && std::from_chars(key.data(), end, id).ptr == end) {
    if (const shm::DirectoryEntry* e = reader.instrument(id))
      return e;
    std::fprintf(stderr, "fh-inspect: no instrument with id %u in %s\n", id, reader.path());
    return nullptr;
  }
  std::fprintf(stderr, "fh-inspect: no instrument '%s' in %s\n", key.c_str(), reader.path());
  return nullptr;
}

} // namespace fh::inspect
