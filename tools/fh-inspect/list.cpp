// fh-inspect list: one row per instrument in the directory, with the head of its book slot.
#include <cstdio>
#include <string>
#include <vector>

#include "tools/fh-inspect/format.hpp"
#include "tools/fh-inspect/inspect.hpp"

namespace fh::inspect {

int run_list(const shm::Reader& reader, const Options& options) {
  bool busy = false;
  Json json;
  json.begin_array();
  std::vector<std::vector<std::string>> rows{
      {"ID", "VENUE", "NATIVE", "CANONICAL", "KIND", "STATUS", "SEQ", "BID", "ASK", "UPDATES"}};
  for (std::uint32_t id = 0; id < reader.instrument_count(); ++id) {
    const shm::DirectoryEntry* e = reader.instrument(id);
    if (e == nullptr)
      continue;
    shm::Top top{};
    const shm::ReadStatus rs = reader.top(id, top);
    const bool ok = rs == shm::ReadStatus::Ok;
    busy = busy || !ok;
    const bool has_bid = ok && top.n_bids > 0;
    const bool has_ask = ok && top.n_asks > 0;
    if (options.json) {
      json.begin_object()
          .field("id", id)
          .field("venue", e->venue)
          .field("native", e->native)
          .field("canonical", e->canonical)
          .field("kind", kind_name(e->kind))
          .field("status", ok ? status_name(top.status) : shm::to_cstring(rs))
          .field("seq", top.last_seq);
      json.key("bid").decimal_or_null(has_bid, top.best_bid.price, e->price_decimals);
      json.key("ask").decimal_or_null(has_ask, top.best_ask.price, e->price_decimals);
      json.field("updates", top.book_updates).field("read", shm::to_cstring(rs)).end_object();
    } else {
      rows.push_back({std::to_string(id), e->venue, e->native, e->canonical, kind_name(e->kind),
                      ok ? status_name(top.status) : std::string("read:") + shm::to_cstring(rs),
                      ok ? std::to_string(top.last_seq) : "-",
                      has_bid ? decimal(top.best_bid.price, e->price_decimals) : "-",
                      has_ask ? decimal(top.best_ask.price, e->price_decimals) : "-",
                      ok ? std::to_string(top.book_updates) : "-"});
    }
  }
  json.end_array();
  if (options.json)
    std::printf("%s\n", json.str().c_str());
  else
    print_table(stdout, rows, {true, false, false, false, false, false, true, true, true, true});
  if (busy)
    std::fprintf(stderr, "fh-inspect: some book slots stayed locked (read status busy): writer "
                         "died mid-write?\n");
  return busy ? kExitReadFailed : kExitOk;
}

} // namespace fh::inspect
