#pragma once
// The one-line summary JSON printed last by fh-replay (offline and --network) and by
// feedhandler at exit. Field names are stable: tests and other tools read them.
#include <string>
#include <string_view>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/replay_totals.hpp"

namespace fh {

// Totals over every book in `builder` plus the run's message totals; `mode` is
// "fused" | "threaded".
std::string summary_json(const BookBuilder& builder, const ReplayTotals& totals,
                         std::string_view mode);

// `s` as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view s);

} // namespace fh
