// The summary JSON of a run (fh-replay offline and --network, feedhandler at exit).
#include "feedhandler/summary_json.hpp"

#include <cstdio>

#include "book/decimal.hpp"

namespace fh {
namespace {

void append_json_string_impl(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_field(std::string& out, const char* name, std::uint64_t v) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(v);
  out += ',';
}

void append_price(std::string& out, const book::Level* level, std::uint8_t decimals) {
  if (level == nullptr) {
    out += "null";
    return;
  }
  append_json_string_impl(out, book::to_string(level->price, decimals));
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  append_json_string_impl(out, s);
}

std::string summary_json(const BookBuilder& builder, const ReplayTotals& totals,
                         std::string_view mode) {
  BookCounters sum;
  std::uint64_t instruments = 0, synced = 0, stale = 0;
  std::string per;
  for (std::uint32_t id = 0; id < builder.instrument_slots(); ++id) {
    const InstrumentBook* b = builder.book(id);
    if (b == nullptr) continue;
    ++instruments;
    const BookCounters& c = b->counters();
    sum.checksum_ok += c.checksum_ok;
    sum.checksum_fail += c.checksum_fail;
    sum.seq_gaps += c.seq_gaps;
    sum.resyncs += c.resyncs;
    sum.bbo_checks_ok += c.bbo_checks_ok;
    sum.bbo_checks_fail += c.bbo_checks_fail;
    sum.book_messages += c.book_messages;
    sum.trades += c.trades;
    sum.dropped += c.dropped;
    sum.crossed += c.crossed;
    const bool has_book = c.book_messages != 0;
    if (b->status() == BookStatus::Synced) ++synced;
    else if (has_book) ++stale;

    const Instrument& inst = b->instrument();
    if (!per.empty()) per += ',';
    per += "{\"instrument\":";
    append_json_string_impl(per, std::string(venue_name(inst.venue)) + ":" + inst.canonical);
    per += ",\"native\":";
    append_json_string_impl(per, inst.native);
    per += ',';
    append_field(per, "checksum_ok", c.checksum_ok);
    append_field(per, "checksum_fail", c.checksum_fail);
    append_field(per, "seq_gaps", c.seq_gaps);
    append_field(per, "resyncs", c.resyncs);
    append_field(per, "bbo_checks_ok", c.bbo_checks_ok);
    append_field(per, "bbo_checks_fail", c.bbo_checks_fail);
    append_field(per, "book_messages", c.book_messages);
    append_field(per, "trades", c.trades);
    per += "\"state\":";
    append_json_string_impl(per, has_book ? to_cstring(b->status()) : "no_book");
    per += ",\"last_error\":";
    append_json_string_impl(per, to_cstring(b->last_error()));
    per += ",\"best_bid\":";
    append_price(per, b->book().best(book::Side::Bid), inst.price_decimals);
    per += ",\"best_ask\":";
    append_price(per, b->book().best(book::Side::Ask), inst.price_decimals);
    per += '}';
  }

  std::string out = "{";
  append_field(out, "messages", totals.messages);
  append_field(out, "events", totals.events);
  append_field(out, "instruments", instruments);
  append_field(out, "books_synced", synced);
  append_field(out, "books_stale", stale);
  append_field(out, "checksum_ok", sum.checksum_ok);
  append_field(out, "checksum_fail", sum.checksum_fail);
  append_field(out, "seq_gaps", sum.seq_gaps);
  append_field(out, "resyncs", sum.resyncs);
  append_field(out, "bbo_checks_ok", sum.bbo_checks_ok);
  append_field(out, "bbo_checks_fail", sum.bbo_checks_fail);
  append_field(out, "parse_errors", totals.parse_errors);
  append_field(out, "unknown_instruments", totals.unknown_instruments);
  append_field(out, "book_messages", sum.book_messages);
  append_field(out, "trades", sum.trades);
  append_field(out, "dropped_stale_updates", sum.dropped);
  append_field(out, "crossed", sum.crossed);
  append_field(out, "ignored", totals.ignored);
  append_field(out, "resync_requests", builder.resync_requests());
  append_field(out, "malformed_batches", builder.orphan_counters().malformed_batches);
  out += "\"parse_status\":{";
  for (std::size_t i = 0; i < totals.by_status.size(); ++i) {
    if (i) out += ',';
    append_json_string_impl(out, to_cstring(static_cast<ParseStatus>(i)));
    out += ':';
    out += std::to_string(totals.by_status[i]);
  }
  out += "},";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.3f", totals.elapsed_s);
  out += "\"elapsed_s\":";
  out += elapsed;
  out += ",\"mode\":";
  append_json_string_impl(out, mode);
  out += ",\"per_instrument\":[";
  out += per;
  out += "]}";
  return out;
}

} // namespace fh
